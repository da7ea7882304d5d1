"""Cases found by running `chatcrm parse` over issue 13's list with and without known customers: a verb after
a verb, 報價給<X>, a trailing 的, "<person> at <company>", "<company> buyer <name>", English titles, Cantonese
units, and next steps that keep whole words or come from the clause before a lone time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.understanding import CustomerIndex, KnownCustomer, parse_note

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Asia/Taipei"))  # a Wednesday
KNOWN = CustomerIndex([KnownCustomer(1, "大同五金行"), KnownCustomer(2, "Acme"), KnownCustomer(3, "美的集团"),
                       KnownCustomer(4, "华为"), KnownCustomer(5, "Blue Harbour")])
NOBODY = CustomerIndex([])


def parse(text: str, customers: CustomerIndex = NOBODY, **kwargs):
    return parse_note(text, now=NOW, tz="Asia/Taipei", customers=customers, **kwargs)


@pytest.mark.parametrize("customers", [NOBODY, KNOWN], ids=["unknown", "known"])
@pytest.mark.parametrize(("note", "customer", "contact"), [
    ("今天在展場遇到統一超商 劉課長,下週二約拜訪", "統一超商", "劉課長"),
    ("NT$50萬 報價給大同五金行", "大同五金行", None),
    ("大同五金行的Amy說明天回覆", "大同五金行", "Amy"),
    ("met Jenny at Blue Harbour, they want a quote", "Blue Harbour", "Jenny"),
    ("Acme buyer Anna Lopez wants 200 units", "Acme", "Anna Lopez"),
])
def test_the_customer_slot_with_and_without_known_customers(note, customer, contact, customers):
    draft = parse(note, customers)
    assert (draft.customer, draft.contact) == (customer, contact)


@pytest.mark.parametrize(("note", "contact"), [
    ("Fabrikam ops lead Daniel said ok to the new rates", "Daniel"),
    ("Zenith Medical head nurse Joanne wants 100 boxes of gloves", "Joanne"),
    ("Initech legal counsel Ms. Rao is reviewing the contract", "Ms. Rao"),
])
def test_english_titles_before_a_name(note, contact):
    assert parse(note).contact == contact


def test_a_cantonese_bottle_count_is_a_quantity_not_money():
    [amount] = parse("見咗 李錦記 劉經理,要 500 樽辣椒醬").amounts
    assert (amount.value, amount.unit, amount.currency) == (500, "樽", None)


@pytest.mark.parametrize("customers", [NOBODY, KNOWN], ids=["unknown", "known"])
@pytest.mark.parametrize(("note", "action"), [
    ("見了 acme lee 👍 下週再談", "再談"),  # not "acme lee 👍談"
    ("拜訪永豐電子,談得不錯,下週再約", "再約"),
    ("跟华为刘总确认交期,明天", "跟刘总确认交期"),  # the clause before a lone time
    ("提醒我下週三打電話給大同五金行王總確認交期", "打電話給王總確認交期"),
])
def test_next_steps_keep_whole_words(note, action, customers):
    assert parse(note, customers).follow_up.action == action


def test_a_report_before_a_lone_time_is_not_the_step():
    assert parse("拜訪了大同五金行,明天", KNOWN).follow_up.action == "跟進"


@pytest.mark.parametrize(("note", "customer"), [
    ("美的集团预算200万元", "美的集团"),
    ("宏達機械簽了 NT$45萬 的訂單", "宏達機械"),
    ("格力电器订金已付", "格力电器"),
])
def test_a_note_that_opens_with_an_unknown_company(note, customer):
    assert parse(note).customer == customer


def test_simplified_yuan_from_a_zh_hans_member_in_taiwan():
    [amount] = parse("美的集团预算200万元", country="TW", language="zh-Hans").amounts
    assert (amount.value, amount.currency) == (2_000_000, "CNY")


@pytest.mark.parametrize(("note", "customer"), [
    ("去正新橡膠拜訪林協理 談明年合約", "正新橡膠"),  # the visit verb ends the name
    ("联系了小米 周经理,要报价", "小米"),  # 了 after the verb is not part of the name
])
def test_verbs_around_the_name_stay_out_of_it(note, customer):
    assert parse(note).customer == customer


def test_net_60_is_payment_terms_not_a_count():
    assert parse("Initech purchasing manager Rachel Lee asked for net 60 terms, reply tomorrow").amounts == ()


@pytest.mark.parametrize(("note", "action"), [
    ("新客户 比亚迪 周工程师 要 20 套样品,下周三前寄", "寄样品"),  # 前 is "before", not kept; the strong word joins
    ("宏達機械 林經理 說 機台 2 台 要分期 下週五再談", "再談"),  # not 機台 2 台要分期談
])
def test_before_is_dropped_but_again_is_kept(note, action):
    assert parse(note).follow_up.action == action
