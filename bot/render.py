"""Rendering helpers: escaping, local times, the note confirmation and the customer card."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import t

WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "zh-Hant": ("週一", "週二", "週三", "週四", "週五", "週六", "週日"),
    "zh-Hans": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def esc(value: object) -> str:
    """Escape a user-supplied value for the reply markup."""
    return html.escape(str(value), quote=False)


def local(at: datetime, tz: str) -> datetime:
    return at.astimezone(ZoneInfo(tz))


def when(at: datetime, *, tz: str, language: str, now: datetime | None = None) -> str:
    """A time in the member's zone: `明天 09:00`, `Wed 25 Nov 09:00`, `11月25日(週三) 09:00`."""
    moment = local(at, tz)
    clock = moment.strftime("%H:%M")
    if now is not None:
        days = (moment.date() - local(now, tz).date()).days
        if days in (-1, 0, 1):
            return f"{t(language, f'time.day_{days + 1}')} {clock}"
    weekday = WEEKDAYS.get(language, WEEKDAYS["en"])[moment.weekday()]
    year = "" if now is None or moment.year == local(now, tz).year else f"{moment.year}"
    if language == "en":
        return f"{weekday} {moment.day} {MONTHS[moment.month - 1]}{' ' + year if year else ''} {clock}"
    prefix = f"{year}年" if year else ""
    return f"{prefix}{moment.month}月{moment.day}日({weekday}) {clock}"


def amount_text(amount: dict) -> str:
    value = amount.get("value")
    number = f"{value:,.0f}" if isinstance(value, float | int) and float(value).is_integer() else f"{value}"
    if amount.get("currency"):
        return f"{amount['currency']} {number}"
    return f"{number} {amount.get('unit') or ''}".strip()


def overdue_text(due: datetime, now: datetime, language: str) -> str:
    minutes = int((now - due).total_seconds() // 60)
    if minutes < 60:
        return t(language, "time.overdue_minutes", n=max(minutes, 0))
    if minutes < 24 * 60:
        return t(language, "time.overdue_hours", n=minutes // 60)
    return t(language, "time.overdue_days", n=minutes // (24 * 60))
