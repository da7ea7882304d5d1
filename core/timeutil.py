"""Local-time helpers shared by the note flow and the scheduler: store UTC, think in the member's zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

MORNING = time(9, 0)


def at_local(day: datetime, tz: str, clock: time = MORNING) -> datetime:
    """`day`'s date in zone `tz` at `clock`, as an aware UTC datetime."""
    zone = ZoneInfo(tz)
    local_day = day.astimezone(zone).date()
    return datetime.combine(local_day, clock, tzinfo=zone).astimezone(UTC)


def tomorrow_morning(now: datetime, tz: str) -> datetime:
    return at_local(now.astimezone(ZoneInfo(tz)) + timedelta(days=1), tz)


def next_week_morning(now: datetime, tz: str) -> datetime:
    """Monday of next calendar week, 09:00 local (weeks start on Monday)."""
    local_now = now.astimezone(ZoneInfo(tz))
    return at_local(local_now + timedelta(days=7 - local_now.weekday()), tz)


def in_hours(now: datetime, hours: float) -> datetime:
    return (now + timedelta(hours=hours)).astimezone(UTC)
