"""Where a snoozed or rescheduled follow-up lands: the snooze choices and a typed time (pure, no storage)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.models import Member
from core.scheduling.workhours import next_working_start, work_hours
from core.timeutil import in_hours, next_week_morning, tomorrow_morning
from core.understanding import parse_when
from core.understanding.when import find_moments


def working_morning(day: datetime, member: Member) -> datetime:
    """The start of the member's working hours on `day`'s date, or of their next working day after it (UTC)."""
    start, _ = work_hours(member)
    local = day.astimezone(ZoneInfo(member.timezone))
    return next_working_start(datetime.combine(local.date(), start, tzinfo=local.tzinfo), member).astimezone(UTC)


# the snooze buttons: in an hour (that exact time), tomorrow's / next Monday's working morning
SNOOZES: dict[str, Callable[[datetime, Member], datetime]] = {
    "1h": lambda now, member: in_hours(now, 1),
    "tm": lambda now, member: working_morning(tomorrow_morning(now, member.timezone), member),
    "nw": lambda now, member: working_morning(next_week_morning(now, member.timezone), member),
}
EXPLICIT_SNOOZES = frozenset({"1h"})  # an hour from now is honoured even outside working hours


def snooze_until(choice: str, now: datetime, member: Member) -> datetime | None:
    """When the snooze `choice` ("1h", "tm", "nw") moves a follow-up to; None for an unknown choice."""
    rule = SNOOZES.get(choice)
    return rule(now, member) if rule else None


@dataclass(frozen=True, slots=True)
class TypedTime:
    """A time the member typed: `at` in the future (None when none was found), whether an hour was named,
    and whether the text named only times in the past."""

    at: datetime | None
    explicit_time: bool = False
    only_past: bool = False


def typed_time(text: str, now: datetime, tz: str) -> TypedTime:
    """Read a typed time ("tomorrow 3pm", "下週一") for a reschedule."""
    due = parse_when(text, now=now, tz=tz)
    try:
        moments = [m for m in find_moments(text, now=now, tz=tz) if not m.weak]
    except Exception:  # parse_when already logged it
        moments = []
    if due is None:
        return TypedTime(None, only_past=bool(moments))
    chosen = next((m for m in moments if m.at == due), None)
    return TypedTime(due, chosen.explicit_time if chosen else True)
