"""Report charts as PNG: the funnel (deals and conversion per stage), activity per salesperson and won amount
over time, drawn in the member's language with the Noto Sans CJK collection from PyPI (never a system font).

matplotlib is imported on first use (the bot's idle memory carries no charting library). Every string drawn
is returned with the image (`Chart.texts`) so a test can prove each glyph is in the font face used.
"""

from __future__ import annotations

import io
import threading
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.i18n import t
from core.usecases.reports import Money, Report

WIDTH_PX = 1200
DPI = 100
MAX_PEOPLE = 20  # more salespeople: the most active 20, the title says how many in all
# the collection's faces: Traditional Chinese forms for zh-Hant, Simplified for zh-Hans; English in the SC face
FAMILY = {"zh-Hant": "Noto Sans CJK TC", "zh-Hans": "Noto Sans CJK SC", "en": "Noto Sans CJK SC"}
FACE_INDEX = {"Noto Sans CJK SC": 2, "Noto Sans CJK TC": 3}
COLOURS = ("#2563eb", "#16a34a", "#f59e0b", "#9333ea", "#dc2626", "#0891b2")
_lock = threading.Lock()
_ready = False


@dataclass(frozen=True, slots=True)
class Chart:
    png: bytes
    texts: tuple[str, ...]  # every label drawn
    family: str  # the font face used


def font_path() -> Path:
    import noto_cjk_sans_otc

    return Path(str(noto_cjk_sans_otc.FONT_PATH))


def _matplotlib() -> Any:
    """matplotlib with the packaged CJK collection registered (once per process)."""
    global _ready
    with _lock:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib import font_manager

        if not _ready:
            font_manager.fontManager.addfont(str(font_path()))  # every face of the collection
            _ready = True
    return matplotlib


def cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, width: int = 22, lines: int = 2) -> str:
    """A label in at most `lines` lines of `width` cells (a CJK character is two), cut with … past that."""
    out: list[str] = []
    current = ""
    for word in _words(text):
        if cells(current + word) > width and current:
            out.append(current.rstrip())
            current = word.lstrip()
        else:
            current += word
        while cells(current) > width:  # one very long word
            cut = _cut(current, width)
            out.append(current[:cut])
            current = current[cut:]
    if current.strip():
        out.append(current.rstrip())
    if len(out) > lines:
        out = out[:lines]
        last = out[-1]
        while last and cells(last) > width - 1:
            last = last[:-1]
        out[-1] = last + "…"
    return "\n".join(out) or "—"


def _words(text: str) -> list[str]:
    words: list[str] = []
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF" or not words or ch == " " or words[-1].endswith(" ") or unicodedata.east_asian_width(words[-1][-1]) in "WF":
            words.append(ch)
        else:
            words[-1] += ch
    return words


def _cut(text: str, width: int) -> int:
    used = 0
    for index, ch in enumerate(text):
        used += cells(ch)
        if used > width:
            return max(index, 1)
    return len(text)


def main_currency(report: Report) -> str | None:
    totals: dict[str, Decimal] = {}
    for bucket in report.won_over_time:
        for currency, amount in bucket.won:
            totals[currency] = totals.get(currency, Decimal(0)) + amount
    return max(totals, key=lambda c: (totals[c], c)) if totals else None


def _amount(money: Money, currency: str | None) -> float:
    return float(sum((amount for c, amount in money if c == currency), Decimal(0)))


def _short_number(value: float, language: str) -> str:
    """Axis numbers people read at a glance: 1.5萬 / 1.5万 / 15K."""
    if language in ("zh-Hant", "zh-Hans"):
        unit, big = ("萬", "億") if language == "zh-Hant" else ("万", "亿")
        if abs(value) >= 1e8:
            return f"{value / 1e8:.3g}{big}"
        if abs(value) >= 1e4:
            return f"{value / 1e4:.3g}{unit}"
        return f"{value:.0f}"
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.0f}"


def report_chart(report: Report, language: str, *, period_label: str) -> Chart:
    """One PNG with the three panels, 1200 px wide, labels ≥ 16 pt (readable on a phone)."""
    matplotlib = _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    family = FAMILY.get(language, FAMILY["en"])
    texts: list[str] = []

    def say(text: str) -> str:
        texts.append(text)
        return text

    ladder = [s for s in report.stages if s.outcome != "lost"]
    people = sorted(report.members, key=lambda m: (-m.activity, m.name))
    shown = people[:MAX_PEOPLE]
    funnel_h = 1.1 + 0.85 * max(len(ladder), 1)
    people_h = 1.6 + 0.62 * max(len(shown), 1)
    won_h = 4.2
    height = funnel_h + people_h + won_h + 2.0
    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": [family], "font.size": 17,
                                "axes.titlesize": 22, "axes.titleweight": "normal", "axes.labelsize": 17,
                                "xtick.labelsize": 16, "ytick.labelsize": 17, "axes.spines.top": False,
                                "axes.spines.right": False, "svg.fonttype": "none"}):
        figure = Figure(figsize=(WIDTH_PX / DPI, height), dpi=DPI, facecolor="white")
        FigureCanvasAgg(figure)
        grid = figure.add_gridspec(3, 1, height_ratios=[funnel_h, people_h, won_h], hspace=0.55,
                                   left=0.27, right=0.95, top=1 - 1.35 / height, bottom=0.55 / height)
        figure.suptitle(say(t(language, "reports.chart_title", period=period_label)), fontsize=25,
                        x=0.5, y=1 - 0.3 / height)

        # 1. the funnel: how many of the period's deals reached each stage; conversion from the stage above
        axis = figure.add_subplot(grid[0])
        axis.set_title(say(t(language, "reports.chart_funnel")), loc="left")
        labels = [say(wrap(stage.name(language))) for stage in ladder]
        values = [stage.reached for stage in ladder]
        top = max(values, default=0) or 1
        positions = list(range(len(ladder)))[::-1]
        axis.barh(positions, values, color=[COLOURS[i % len(COLOURS)] for i in range(len(ladder))], height=0.7)
        axis.set_yticks(positions, labels)
        axis.set_xlim(0, top * 1.7)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        rates = {c.to_key: c.rate for c in report.conversion}
        for position, stage, value in zip(positions, ladder, values, strict=True):
            if not any(values):
                break  # one "no deals" line says it
            text = say(t(language, "reports.chart_deals", n=value))
            if stage.key in rates:
                text += "  " + say(t(language, "reports.chart_rate", rate=f"{rates[stage.key] * 100:.0f}"))
            axis.text(value + top * 0.02, position, text, va="center", fontsize=17)
        if not report.stages or not any(values):
            axis.text(0.5, 0.5, say(t(language, "reports.chart_no_deals")), transform=axis.transAxes,
                      ha="center", va="center", fontsize=18, color="#6b7280")

        # 2. activity per salesperson: visits, calls, meetings, notes stacked
        axis = figure.add_subplot(grid[1])
        title = t(language, "reports.chart_activity")
        if len(people) > len(shown):
            title += " " + t(language, "reports.chart_top_of", shown=len(shown), total=len(people))
        axis.set_title(say(title), loc="left", pad=42)
        names = [say(wrap(m.name, 24, 1)) for m in shown]
        positions = list(range(len(shown)))[::-1]
        left = [0] * len(shown)
        for index, (field, key) in enumerate((("visits", "reports.kind_visits"), ("calls", "reports.kind_calls"),
                                              ("meetings", "reports.kind_meetings"), ("notes", "reports.kind_notes"))):
            counts = [getattr(m, field) for m in shown]
            axis.barh(positions, counts, left=left, color=COLOURS[index], height=0.68, label=say(t(language, key)))
            left = [a + b for a, b in zip(left, counts, strict=True)]
        axis.set_yticks(positions, names)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_xlim(0, (max(left, default=0) or 1) * 1.15)
        for position, total in zip(positions, left, strict=True):
            axis.text(total + (max(left, default=0) or 1) * 0.01, position, str(total), va="center", fontsize=16)
        axis.legend(loc="lower left", fontsize=15, ncols=4, frameon=False, bbox_to_anchor=(0.0, 1.0),
                    borderaxespad=0.1, handlelength=1.2)
        texts.extend(str(n) for n in left)

        # 3. won amount over time, in the main currency
        axis = figure.add_subplot(grid[2])
        currency = main_currency(report)
        axis.set_title(say(t(language, "reports.chart_won", currency=currency or "—")), loc="left")
        days = [bucket.day for bucket in report.won_over_time]
        amounts = [_amount(bucket.won, currency) for bucket in report.won_over_time]
        ticks = [say(f"{day.month}/{day.day}") for day in days]
        axis.bar(range(len(days)), amounts, color=COLOURS[1], width=0.7)
        step = max(1, len(days) // 8)
        axis.set_xticks(range(0, len(days), step), ticks[::step])
        axis.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: _short_number(value, language)))
        axis.set_ylim(0, (max(amounts, default=0) or 1) * 1.15)
        texts.extend(_short_number(v, language) for v in axis.get_yticks())
        if not any(amounts):
            axis.set_yticks([])
            axis.text(0.5, 0.5, say(t(language, "reports.chart_no_won")), transform=axis.transAxes, ha="center",
                      va="center", fontsize=18, color="#6b7280")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, facecolor="white", pil_kwargs={"compress_level": 1})
    return Chart(buffer.getvalue(), tuple(texts), family)
