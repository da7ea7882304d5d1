"""Working hours, days off and public holidays, and the parsers behind /hours, /digest and /tz."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from core.models import Member
from core.scheduling.workhours import (
    country_of_zone,
    digest_at,
    is_working_day,
    next_working_start,
    parse_clock,
    parse_days,
    parse_hours,
    parse_zone,
    within_working_time,
)


def member(**values) -> Member:
    return Member(team_id=1, name="m", **values)


@pytest.mark.parametrize(("text", "expected"), [
    ("07:45", time(7, 45)), ("7:45pm", time(19, 45)), ("8.30", time(8, 30)), ("下午6點", time(18, 0)),
    ("9點半", time(9, 30)), ("晚上7点", time(19, 0)), ("12am", time(0, 0)), ("6pm", time(18, 0)),
    ("9", None), ("25:00", None), ("07:75", None), ("soon", None),
])
def test_clock(text, expected):
    assert parse_clock(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("mon-fri", "12345"), ("Mon to Sat", "123456"), ("mon,wed,fri", "135"), ("1-6", "123456"),
    ("週一至週五", "12345"), ("周一到周六", "123456"), ("平日", "12345"), ("一三五", "135"), ("週六、週日", "67"),
    ("fri-mon", "1567"), ("every day", "1234567"), ("每天", "1234567"), ("someday", None),
])
def test_days(text, expected):
    assert parse_days(text) == expected


def test_hours_with_and_without_days():
    assert parse_hours("09:00-18:00 mon-fri") == (time(9), time(18), "12345")
    assert parse_hours("9am-6pm mon-sat") == (time(9), time(18), "123456")
    assert parse_hours("9點到18點 週一至週六") == (time(9), time(18), "123456")
    assert parse_hours("10:00 - 19:00") == (time(10), time(19), None)
    assert parse_hours("18:00-09:00") is None  # ends before it starts
    assert parse_hours("09:00-18:00 sometimes") is None


def test_zones_by_name_city_or_chinese_and_their_holiday_country():
    assert parse_zone("Asia/Hong_Kong") == parse_zone("asia/hong_kong") == parse_zone("香港") == "Asia/Hong_Kong"
    assert parse_zone("America/New York") == "America/New_York"
    assert parse_zone("Mars/Olympus") is None
    assert country_of_zone("Asia/Shanghai") == "CN" and country_of_zone("Asia/Taipei") == "TW"


def test_public_holidays_and_weekly_days_off_per_country():
    taipei, hong_kong = member(country="TW"), member(country="HK", timezone="Asia/Hong_Kong")
    assert not is_working_day(date(2026, 10, 9), taipei)  # National Day (observed), a Friday
    assert is_working_day(date(2026, 10, 9), hong_kong)
    assert not is_working_day(date(2026, 12, 26), hong_kong)  # the first weekday after Christmas
    assert not is_working_day(date(2026, 11, 21), taipei)  # Saturday
    assert is_working_day(date(2026, 11, 21), member(country="TW", work_days="123456"))


def test_mainland_make_up_working_weekends_count_as_working_days():
    beijing = member(country="CN", timezone="Asia/Shanghai")
    assert is_working_day(date(2026, 9, 20), beijing)  # Sunday worked instead of 7 Oct (調休)
    assert not is_working_day(date(2026, 10, 7), beijing)  # Wednesday off
    assert not is_working_day(date(2026, 9, 20), member(country="TW"))


def test_next_working_start_skips_nights_weekends_and_holidays_in_the_member_zone():
    taipei = member(country="TW", work_start="09:00", work_end="18:00")
    friday_night = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)  # Fri 19:00 Taipei
    assert not within_working_time(friday_night, taipei)
    assert next_working_start(friday_night, taipei) == datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Mon 09:00
    christmas_eve = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)  # Thu 20:00; Fri 25 Dec is Constitution Day
    assert next_working_start(christmas_eve, taipei) == datetime(2026, 12, 28, 1, 0, tzinfo=UTC)
    hong_kong = member(country="HK", timezone="Asia/Hong_Kong", work_start="10:00", work_end="19:00")
    morning = datetime(2026, 11, 18, 1, 30, tzinfo=UTC)  # Wed 09:30 in Hong Kong, before 10:00
    assert next_working_start(morning, hong_kong) == datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
    inside = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)
    assert next_working_start(inside, hong_kong) == inside


def test_digest_time_default_custom_and_off():
    assert digest_at(member()) == time(8, 30)
    assert digest_at(member(digest_time="07:45")) == time(7, 45)
    assert digest_at(member(digest_time="off")) is None
