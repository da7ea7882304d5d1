"""Working hours, days off and public holidays in the member's zone and country."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from core.models import Member


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> holidays.HolidayBase | dict:
    try:
        return holidays.country_holidays(country, years=year)
    except (NotImplementedError, KeyError):
        return {}


def is_holiday(day: date, country: str) -> bool:
    return day in _holidays(country.upper(), day.year)


def _clock(value: str, default: time) -> time:
    try:
        hour, minute = value.split(":")
        return time(int(hour), int(minute))
    except (ValueError, AttributeError):
        return default


def is_working_day(day: date, member: Member) -> bool:
    return str(day.isoweekday()) in member.work_days and not is_holiday(day, member.country)


def within_working_time(at: datetime, member: Member) -> bool:
    local = at.astimezone(ZoneInfo(member.timezone))
    start, end = _clock(member.work_start, time(9)), _clock(member.work_end, time(18))
    return is_working_day(local.date(), member) and start <= local.time() < end


def next_working_start(at: datetime, member: Member) -> datetime:
    """`at` itself when inside working time, else the start of the next working day (aware, member's zone)."""
    if within_working_time(at, member):
        return at
    zone = ZoneInfo(member.timezone)
    local = at.astimezone(zone)
    start = _clock(member.work_start, time(9))
    day = local.date()
    if local.time() >= start:
        day += timedelta(days=1)
    for _ in range(60):  # a long holiday season at most
        if is_working_day(day, member):
            return datetime.combine(day, start, tzinfo=zone)
        day += timedelta(days=1)
    return datetime.combine(day, start, tzinfo=zone)
