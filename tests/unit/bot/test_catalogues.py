"""The three message catalogues carry the same keys and the same placeholders."""

from __future__ import annotations

import re

import pytest

from bot.i18n import LANGUAGES, catalogue, normalize_language, t

FIELDS = re.compile(r"{(\w+)}")


def test_every_key_exists_in_every_language_with_the_same_placeholders():
    english = catalogue("en")
    assert len(english) > 50
    for language in LANGUAGES:
        messages = catalogue(language)
        assert set(messages) == set(english), f"{language}: {set(messages) ^ set(english)}"
        for key, text in messages.items():
            assert set(FIELDS.findall(text)) == set(FIELDS.findall(english[key])), (language, key)


def test_chinese_catalogues_are_written_in_their_own_script():
    from core.text import to_simplified, to_traditional

    for key, text in catalogue("zh-Hans").items():
        assert to_simplified(text) == text, key
    changed = [key for key, text in catalogue("zh-Hant").items() if to_traditional(text) != text]
    assert len(changed) < len(catalogue("zh-Hant")) // 10, changed


@pytest.mark.parametrize(("code", "expected"), [
    ("zh-TW", "zh-Hant"), ("zh-hk", "zh-Hant"), ("zh-CN", "zh-Hans"), ("zh-hans", "zh-Hans"),
    ("en-US", "en"), (None, "zh-Hant"), ("fr", "zh-Hant"),
])
def test_platform_language_codes_map_to_ours(code, expected):
    assert normalize_language(code, "zh-Hant") == expected


def test_missing_key_is_an_error_not_a_silent_blank():
    with pytest.raises(KeyError):
        t("en", "no.such.key")
