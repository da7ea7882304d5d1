"""Report charts: real PNGs ≥ 800 px wide, every glyph drawn present in the packaged CJK font face used."""

from __future__ import annotations

import io

import pytest
from fontTools.ttLib import TTCollection
from PIL import Image

from bot import charts
from bot.i18n import LANGUAGES, catalogue, t
from bot.report_text import period_label
from tests.report_samples import CUSTOMERS, NAMES, sample_report


@pytest.fixture(scope="module")
def cmaps() -> dict[str, set[int]]:
    collection = TTCollection(str(charts.font_path()))
    return {family: set(collection.fonts[index].getBestCmap()) for family, index in charts.FACE_INDEX.items()}


def chart(language: str, **kw) -> charts.Chart:
    report = sample_report(**kw)
    return charts.report_chart(report, language, period_label=period_label(
        report, language, lambda key, **values: t(language, key, **values)))


def missing(text: str, cmap: set[int]) -> set[str]:
    return {ch for ch in text if not ch.isspace() and ord(ch) not in cmap}


def test_font_comes_from_the_pinned_package_not_the_system():
    path = charts.font_path()
    assert path.name == "NotoSansCJK-Regular.ttc" and "site-packages" in str(path)
    assert {charts.FAMILY[language] for language in LANGUAGES} <= set(charts.FACE_INDEX)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_chart_label_and_name_has_its_glyphs_in_the_font(language, cmaps):
    drawn = chart(language, people=30, long_stages=False)
    cmap = cmaps[drawn.family]
    assert drawn.texts, "the chart reports what it drew"
    for text in drawn.texts:
        assert not missing(text, cmap), (language, text, missing(text, cmap))
    # every catalogue string a chart may draw, and the stage defaults, names and customers of the samples
    for key, text in catalogue(language).items():
        if key.startswith("reports.chart_") or key.startswith("reports.kind_") or key.startswith("reports.period"):
            assert not missing(text, cmap), (language, key, missing(text, cmap))
    for text in (*NAMES, *CUSTOMERS, "…", "萬億万亿KMB0123456789/%·–"):
        assert not missing(text, cmap), (language, text)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("shape", [{}, {"people": 200, "long_stages": True}, {"empty": True}])
def test_png_is_produced_wide_enough_and_decodes(language, shape):
    drawn = chart(language, **shape)
    image = Image.open(io.BytesIO(drawn.png))
    image.load()
    assert image.format == "PNG" and image.width >= 800 and image.height >= 800
    # a big team is cut to the most active ones and says so; a 40-character stage name is wrapped and cut
    if shape.get("people") == 200:
        assert any("200" in text for text in drawn.texts)
        assert sum(text in {n for n in drawn.texts} for text in drawn.texts) <= len(drawn.texts)
        stage_labels = [text for text in drawn.texts if "\n" in text]
        assert stage_labels and all(len(line) <= 24 for label in stage_labels for line in label.split("\n"))


def test_wrap_counts_cjk_as_two_cells():
    assert charts.wrap("初步接觸") == "初步接觸"
    assert charts.wrap("非常長的階段名稱" * 5, width=10, lines=2).count("\n") == 1
    assert charts.wrap("非常長的階段名稱" * 5, width=10, lines=2).endswith("…")
    assert charts.wrap("Proposal & quote") == "Proposal & quote"
