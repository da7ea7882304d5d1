"""Rendering helpers: escaping, and times, durations and amounts in the member's locale (Babel)."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal
from babel.units import format_unit

from bot.i18n import BABEL_LOCALES, babel_locale, t

# Short weekday names, Monday first (`週一`, `周一`, `Mon`), from CLDR.
WEEKDAYS: dict[str, tuple[str, ...]] = {
    language: tuple(babel_locale(language).days["format"]["abbreviated"][day] for day in range(7))
    for language in BABEL_LOCALES
}
# A date in this year, a date in another year (CLDR patterns; the time is always appended as HH:mm).
DATE_PATTERNS = {
    "en": ("EEE d MMM", "EEE d MMM y"),
    "zh-Hant": ("M月d日(EEE)", "y年M月d日(EEE)"),
    "zh-Hans": ("M月d日(EEE)", "y年M月d日(EEE)"),
}
MINUTE, HOUR, DAY = 60, 60 * 60, 24 * 60 * 60


def esc(value: object) -> str:
    """Escape a user-supplied value for the reply markup."""
    return html.escape(str(value), quote=False)


def local(at: datetime, tz: str) -> datetime:
    return at.astimezone(ZoneInfo(tz))


def when(at: datetime, *, tz: str, language: str, now: datetime | None = None) -> str:
    """A time in the member's zone: `明天 09:00`, `Wed 25 Nov 09:00`, `11月25日(週三) 09:00`, `Wed 6 Jan 2027 09:00`."""
    moment = local(at, tz)
    clock = moment.strftime("%H:%M")
    if now is not None:
        days = (moment.date() - local(now, tz).date()).days
        if days in (-1, 0, 1):
            return f"{t(language, f'time.day_{days + 1}')} {clock}"
    this_year, other_year = DATE_PATTERNS.get(language, DATE_PATTERNS["en"])
    pattern = other_year if now is not None and moment.year != local(now, tz).year else this_year
    return f"{format_datetime(moment, pattern, locale=babel_locale(language))} {clock}"


def duration_text(seconds: float, language: str) -> str:
    """A whole number of the largest fitting unit, rounded down: `5 minutes`, `2 小時`, `3天`."""
    seconds = max(seconds, 0)
    unit, size = ("day", DAY) if seconds >= DAY else ("hour", HOUR) if seconds >= HOUR else ("minute", MINUTE)
    return format_unit(int(seconds // size), f"duration-{unit}", length="long", locale=babel_locale(language))


def amount_text(amount: dict, *, language: str | None = None) -> str:
    """An extracted amount: `NT$1,000` / `$1,000` (zh-Hant) / `1,000 件`; without a language `TWD 1,000`."""
    value, currency, unit = amount.get("value"), amount.get("currency"), amount.get("unit")
    if not isinstance(value, int | float) or isinstance(value, bool):
        number = f"{value}"
    elif currency and language is not None:
        return _money(value, str(currency), language)
    else:
        number = format_decimal(value, locale=babel_locale(language or "en"))
    if currency:
        return f"{currency} {number}"
    return f"{number} {unit or ''}".strip()


def _money(value: int | float, currency: str, language: str) -> str:
    locale = babel_locale(language)
    if float(value).is_integer():  # a round sum reads without cents: NT$1,000, not NT$1,000.00
        pattern = locale.currency_formats["standard"].pattern.split(";")[0].replace(".00", "")
        return format_currency(value, currency, pattern, locale=locale, currency_digits=False)
    return format_currency(value, currency, locale=locale)


def overdue_text(due: datetime, now: datetime, language: str) -> str:
    """How late a follow-up is: `due 5 minutes ago`, `2 hours overdue`, `已逾期 3 天`."""
    seconds = (now - due).total_seconds()
    key = "time.due_ago" if seconds < HOUR else "time.overdue"
    return t(language, key, duration=duration_text(seconds, language))
