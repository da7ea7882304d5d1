"""Times, durations and amounts in the member's locale (Babel), and the rest of `bot.render`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.render import WEEKDAYS, amount_text, esc, local, overdue_text, when

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # Wed 18 Nov 2026, 10:00 in Taipei
TAIPEI = "Asia/Taipei"


def test_weekdays_are_cldr_short_names_monday_first():
    assert WEEKDAYS["en"] == ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    assert WEEKDAYS["zh-Hant"] == ("週一", "週二", "週三", "週四", "週五", "週六", "週日")
    assert WEEKDAYS["zh-Hans"] == ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@pytest.mark.parametrize(("language", "at", "expected"), [
    ("en", datetime(2026, 11, 25, 1, 0, tzinfo=UTC), "Wed 25 Nov 09:00"),
    ("zh-Hant", datetime(2026, 11, 25, 1, 0, tzinfo=UTC), "11月25日(週三) 09:00"),
    ("zh-Hans", datetime(2026, 11, 25, 1, 0, tzinfo=UTC), "11月25日(周三) 09:00"),
    ("en", datetime(2027, 1, 6, 1, 0, tzinfo=UTC), "Wed 6 Jan 2027 09:00"),
    ("zh-Hant", datetime(2027, 1, 6, 1, 0, tzinfo=UTC), "2027年1月6日(週三) 09:00"),
    ("en", datetime(2026, 11, 19, 11, 0, tzinfo=UTC), "Tomorrow 19:00"),
    ("zh-Hant", datetime(2026, 11, 18, 11, 0, tzinfo=UTC), "今天 19:00"),
    ("zh-Hans", datetime(2026, 11, 17, 2, 0, tzinfo=UTC), "昨天 10:00"),
])
def test_when_in_the_members_zone_and_language(language, at, expected):
    assert when(at, tz=TAIPEI, language=language, now=NOW) == expected


def test_when_without_now_has_no_relative_day_and_no_year():
    assert when(NOW, tz=TAIPEI, language="en") == "Wed 18 Nov 10:00"
    assert when(NOW, tz="Asia/Hong_Kong", language="zh-Hant") == "11月18日(週三) 10:00"
    assert local(NOW, TAIPEI).hour == 10


@pytest.mark.parametrize(("language", "late", "expected"), [
    ("en", timedelta(minutes=1), "due 1 minute ago"),
    ("en", timedelta(minutes=59, seconds=59), "due 59 minutes ago"),
    ("en", timedelta(hours=1), "1 hour overdue"),
    ("en", timedelta(hours=2, minutes=50), "2 hours overdue"),
    ("en", timedelta(days=1, hours=23), "1 day overdue"),
    ("en", timedelta(days=3), "3 days overdue"),
    ("zh-Hant", timedelta(minutes=5), "5 分鐘前到期"),
    ("zh-Hant", timedelta(hours=2), "已逾期 2 小時"),
    ("zh-Hans", timedelta(hours=2), "已逾期 2小时"),
    ("zh-Hans", timedelta(days=4), "已逾期 4天"),
])
def test_overdue_is_rounded_down_to_the_largest_unit(language, late, expected):
    assert overdue_text(NOW - late, NOW, language) == expected


def test_a_due_time_still_ahead_reads_as_zero_minutes():
    assert overdue_text(NOW + timedelta(seconds=30), NOW, "en") == "due 0 minutes ago"


@pytest.mark.parametrize(("amount", "language", "expected"), [
    ({"value": 1000, "currency": "TWD"}, "en", "NT$1,000"),
    ({"value": 1000, "currency": "TWD"}, "zh-Hant", "$1,000"),
    ({"value": 1000.0, "currency": "CNY"}, "zh-Hans", "¥1,000"),
    ({"value": 1234.5, "currency": "HKD"}, "en", "HK$1,234.50"),
    ({"value": 2500000, "currency": "USD"}, "en", "$2,500,000"),
    ({"value": 100, "unit": "件"}, "zh-Hant", "100 件"),
    ({"value": 12000, "unit": "pcs"}, "en", "12,000 pcs"),
])
def test_amounts_in_the_members_locale(amount, language, expected):
    assert amount_text(amount, language=language) == expected


def test_amounts_without_a_language_keep_the_neutral_form():
    assert amount_text({"value": 1000, "currency": "TWD"}) == "TWD 1,000"
    assert amount_text({"value": 2.5, "unit": "tons"}) == "2.5 tons"
    assert amount_text({"value": "about 3k", "currency": "USD"}) == "USD about 3k"


def test_esc_escapes_markup_only():
    assert esc('<b>A & "B"</b>') == '&lt;b&gt;A &amp; "B"&lt;/b&gt;'
