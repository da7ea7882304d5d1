"""Where a snooze lands: an hour from now, or the member's working morning tomorrow / next week (no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.models import Member
from core.scheduling.snoozes import EXPLICIT_SNOOZES, snooze_until, typed_time

TAIPEI = ZoneInfo("Asia/Taipei")


def member(**settings: str) -> Member:
    return Member(team_id=1, name="Amy", timezone="Asia/Taipei", country="TW", **settings)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TAIPEI)


def test_an_hour_is_exactly_an_hour_and_honoured_outside_working_hours():
    now = local(18, 22, 30)  # Wednesday night
    assert snooze_until("1h", now, member()) == local(18, 23, 30).astimezone(UTC)
    assert "1h" in EXPLICIT_SNOOZES and "tm" not in EXPLICIT_SNOOZES


def test_tomorrow_is_the_start_of_the_members_working_hours():
    assert snooze_until("tm", local(18, 15), member()) == local(19, 9).astimezone(UTC)
    assert snooze_until("tm", local(18, 15), member(work_start="10:30", work_end="19:00")) == local(19, 10, 30)


def test_tomorrow_on_a_friday_is_the_next_working_day():
    assert snooze_until("tm", local(20, 15), member()) == local(23, 9)  # Friday → Monday
    assert snooze_until("tm", local(20, 15), member(work_days="123456")) == local(21, 9)  # they work Saturdays


def test_next_week_is_mondays_working_morning_or_the_next_working_day():
    assert snooze_until("nw", local(18, 15), member()) == local(23, 9)
    assert snooze_until("nw", local(18, 15), member(work_days="2345")) == local(24, 9)  # no Mondays


def test_an_unknown_choice_moves_nothing():
    assert snooze_until("yesterday", local(18, 15), member()) is None


def test_a_typed_time_in_the_future_in_the_past_or_none():
    now = local(18, 15).astimezone(UTC)
    tomorrow = typed_time("tomorrow 3pm", now, "Asia/Taipei")
    assert tomorrow.at == local(19, 15) and tomorrow.explicit_time and not tomorrow.only_past
    day_only = typed_time("next friday", now, "Asia/Taipei")
    assert day_only.at is not None and day_only.at.astimezone(TAIPEI).date() == local(27, 0).date()
    assert not day_only.explicit_time
    assert typed_time("yesterday 3pm", now, "Asia/Taipei").only_past
    nothing = typed_time("whenever", now, "Asia/Taipei")
    assert nothing.at is None and not nothing.only_past
