"""Chinese numerals as people write them (issue 17 item 7; tour items 1, 2, 11): 三萬五 is 35,000, 一百二十萬五千
without 元, 廿/卅 in dates, and the numbers typed after /important, /silentdays and /digest."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from core.scheduling.workhours import parse_clock
from core.understanding import CustomerIndex, KnownCustomer, parse_note
from core.understanding.numerals import (
    cn_to_number,
    day_count,
    is_day_word,
    numerals_to_digits,
    to_number,
    whole_number,
)
from core.usecases.customers import ImportantRequest
from core.usecases.preferences import parse_day_count, silent_days_out_of_range

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 12, 5, 3, 40, tzinfo=TAIPEI)  # Saturday, before dawn (the tour's clock)
KNOWN = CustomerIndex([KnownCustomer(1, "大同五金", ("大同",)), KnownCustomer(2, "华为"), KnownCustomer(3, "Globex")])


def parse(text: str, country: str = "TW"):
    return parse_note(text, now=NOW, tz="Asia/Taipei", customers=KNOWN, country=country)


@pytest.mark.parametrize(("text", "value"), [
    ("三萬五", 35_000), ("兩千五", 2_500), ("一萬二", 12_000), ("三百五", 350), ("三万五", 35_000), ("两千五", 2_500),
    ("一百二十萬五千", 1_205_000), ("一百二十万五千", 1_205_000), ("一億五", 150_000_000), ("五萬五千五", 55_500),
    ("一千零五", 1_005), ("一萬零五百", 10_500), ("三千零五十", 3_050), ("十萬", 100_000), ("十四", 14),
    ("二十五", 25), ("一百二", 120), ("一二三", 123), ("廿", 20), ("廿五", 25), ("卅", 30), ("卅一", 31),
    ("一百廿五", 125), ("壹萬貳仟", 12_000),
])
def test_chinese_numbers(text, value):
    assert cn_to_number(text) == value


@pytest.mark.parametrize("text", ["", "萬萬x", "三廿", "A100"])
def test_not_numbers(text):
    assert cn_to_number(text) is None


@pytest.mark.parametrize(("text", "days"), [
    ("30", 30), ("３０", 30), ("三十", 30), ("三十天", 30), ("三十日", 30), ("30天", 30), ("30 days", 30),
    ("1 day", 1), ("7days", 7), ("十四個天", 14), ("廿", 20), ("兩百", 200), ("1,000", 1000),
    ("兩週", 14), ("2 weeks", 14), ("二個星期", 14), ("1 week", 7), ("１週", 7), ("2wks", 14),
])
def test_day_counts(text, days):
    assert day_count(text) == days == parse_day_count(text)


@pytest.mark.parametrize("text", ["soon", "1.5", "30 months", "三十歲", "²", "days", "週", ""])
def test_not_day_counts(text):
    assert day_count(text) is None


def test_day_words_and_whole_numbers():
    assert [is_day_word(w) for w in ("days", "day", "天", "日", "Days", "weeks", "週", "十", "months")] == (
        [True] * 7 + [False] * 2)
    assert (whole_number("１４"), whole_number("十四"), whole_number("1.5"), whole_number("14a")) == (14, 14, None, None)
    assert silent_days_out_of_range("四百") and silent_days_out_of_range("0")
    assert not silent_days_out_of_range("三百六十五") and not silent_days_out_of_range("soon")


@pytest.mark.parametrize(("text", "at"), [
    ("七點半", time(7, 30)), ("下午三點", time(15)), ("晚上七點", time(19)), ("十二點十五分", time(12, 15)),
    ("早上八點半", time(8, 30)), ("八点半", time(8, 30)), ("下午六点", time(18)), ("０７:４５", time(7, 45)),
])
def test_clock_words(text, at):
    assert (parse_clock(text) or parse_clock(numerals_to_digits(text))) == at


def test_numerals_to_digits_leaves_other_words():
    assert numerals_to_digits("下午三點半") == "下午3點半"
    assert numerals_to_digits("Acme at 7") == "Acme at 7"


@pytest.mark.parametrize(("args", "name", "days"), [
    ("大同五金 十四", "大同五金", 14), ("大同五金 十四天", "大同五金", 14), ("大同五金 十四 天", "大同五金", 14),
    ("大同五金 １４日", "大同五金", 14), ("华为 三十天", "华为", 30), ("华为 廿", "华为", 20),
    ("Globex 7 days", "Globex", 7), ("Globex 7 day", "Globex", 7), ("Globex 7days", "Globex", 7),
    ("Blue Harbor 14", "Blue Harbor", 14), ("Globex", "Globex", None), ("Globex days", "Globex days", None),
    ("Globex 2 weeks", "Globex", 14), ("大同五金 兩週", "大同五金", 14), ("华为 两周", "华为", 14),
])
def test_important_arguments(args, name, days):
    request = ImportantRequest.parse(args)
    assert (request.name, request.important, request.quiet_days) == (name, True, days)
    assert request.days_in_range


def test_important_days_out_of_range_and_off():
    assert not ImportantRequest.parse("大同五金 四百").days_in_range
    assert not ImportantRequest.parse("Globex 0 days").days_in_range
    assert ImportantRequest.parse("大同五金 off") == ImportantRequest("大同五金", important=False)


@pytest.mark.parametrize(("note", "value", "currency"), [
    ("大同 報價三萬五 下週回覆", 35_000, "TWD"),
    ("大同五金 報價一百二十萬五千 十二月廿五日前回覆", 1_205_000, "TWD"),
    ("大同五金 報價一百二十萬五千元", 1_205_000, "TWD"),
    ("大同 尾款一萬二還沒收到", 12_000, "TWD"),
    ("华为 报价三万五 下周回复", 35_000, "CNY"),
    ("华为李经理说预算一百二十万五千", 1_205_000, "CNY"),
    ("Globex wants a quote, budget 35k, follow up next week", 35_000, "TWD"),
])
def test_amounts_with_a_digit_after_the_unit(note, value, currency):
    draft = parse(note, country="CN" if "华为" in note else "TW")
    assert [(a.value, a.currency) for a in draft.amounts] == [(value, currency)]


def test_a_count_or_a_date_after_wan_is_not_its_tail():
    assert [(a.value, a.unit) for a in parse("大同 三萬五件 月底交貨").amounts] == [(35_000, "件")]
    assert [a.value for a in parse("大同 報價三萬 五月交貨").amounts] == [30_000]


@pytest.mark.parametrize(("note", "due"), [
    ("大同五金 報價一百二十萬五千 十二月廿五日前回覆", datetime(2026, 12, 25, 9, tzinfo=TAIPEI)),
    ("大同 廿五號前回覆", datetime(2026, 12, 25, 9, tzinfo=TAIPEI)),
    ("大同 廿五日前回覆", datetime(2026, 12, 25, 9, tzinfo=TAIPEI)),
    ("大同 廿一號前回覆", datetime(2026, 12, 21, 9, tzinfo=TAIPEI)),
    ("大同 卅一日前回覆", datetime(2026, 12, 31, 9, tzinfo=TAIPEI)),
    ("大同 廿五號下午三點回覆", datetime(2026, 12, 25, 15, tzinfo=TAIPEI)),
    ("大同 一月廿日前寄樣品", datetime(2027, 1, 20, 9, tzinfo=TAIPEI)),
    ("华为 廿五号前回复", datetime(2026, 12, 25, 9, tzinfo=TAIPEI)),
    ("华为 十二月卅一日前报价", datetime(2026, 12, 31, 9, tzinfo=TAIPEI)),
    ("华为 卅日前回复", datetime(2026, 12, 30, 9, tzinfo=TAIPEI)),
    ("Globex follow up on the 25th", datetime(2026, 12, 25, 9, tzinfo=TAIPEI)),
    ("大同 廿天後再跟進", datetime(2026, 12, 25, 9, tzinfo=TAIPEI)),
    ("大同 卅五萬的案子 下個月廿號開會", datetime(2027, 1, 20, 9, tzinfo=TAIPEI)),
])
def test_dates_with_nian_and_sa(note, due):
    draft = parse(note)
    assert draft.follow_up is not None and draft.follow_up.due == due
    assert "廿" not in draft.follow_up.action and "卅" not in draft.follow_up.action


@pytest.mark.parametrize(("note", "value", "unit_or_currency"), [
    ("大同 報價3萬5", 35_000, "TWD"), ("大同 NT$3萬5", 35_000, "TWD"), ("大同 3萬5千元", 35_000, "TWD"),
    ("大同 3萬5元", 35_000, "TWD"), ("大同 報價12萬5000", 125_000, "TWD"), ("大同 3萬5件", 35_000, "件"),
    ("华为 报价3万5 下周回复", 35_000, "CNY"), ("大同 三億五千萬的案子", 350_000_000, "TWD"),
    ("大同 報價1.5萬", 15_000, "TWD"), ("大同 80 萬的案子", 800_000, "TWD"), ("大同 報價3萬 5月交貨", 30_000, "TWD"),
    ("大同 報價3萬5月交貨", 30_000, "TWD"),
])
def test_arabic_digits_around_wan(note, value, unit_or_currency):
    draft = parse(note, country="CN" if "华为" in note else "TW")
    assert [(a.value, a.currency or a.unit) for a in draft.amounts] == [(value, unit_or_currency)]


@pytest.mark.parametrize(("text", "value"), [
    ("3萬5", 35_000), ("3萬5千", 35_000), ("12萬5000", 125_000), ("三萬5000", 35_000), ("3万5", 35_000),
    ("１萬２", 12_000), ("3萬五千", 35_000), ("3萬50000", None), ("3萬x", None),
])
def test_mixed_digits(text, value):
    assert to_number(text) == value


def test_nian_in_amounts_and_names():
    assert [a.value for a in parse("大同 報價廿萬").amounts] == [200_000]
    draft = parse("廿一世紀科技 王總 要報價")
    assert (draft.customer, draft.contact, draft.amounts, draft.follow_up) == ("廿一世紀科技", "王總", (), None)
