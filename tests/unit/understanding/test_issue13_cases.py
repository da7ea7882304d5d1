"""The cases reported in issue 13, checked one by one: no invented customers, contacts of every title kind,
currencies by marker, script and country, and next steps in the note's own words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.understanding import CustomerIndex, KnownCustomer, parse_note
from core.understanding.amounts import default_currency

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Asia/Taipei"))
KNOWN = CustomerIndex([KnownCustomer(1, "大同五金行"), KnownCustomer(2, "Acme Trading", ("Acme",)),
                       KnownCustomer(3, "Blue Harbor Logistics", ("Blue Harbor",)), KnownCustomer(4, "Globex")])


def parse(text: str, **kwargs):
    return parse_note(text, now=NOW, tz=kwargs.pop("tz", "Asia/Taipei"), customers=kwargs.pop("customers", KNOWN),
                      **kwargs)


@pytest.mark.parametrize(("note", "customer", "contact"), [
    ("大同電子 李副理 說下週二要來看樣品", "大同電子", "李副理"),
    ("今天跟美的集团赵经理吃饭", "美的集团", "赵经理"),
    ("拜访华为采购部刘总", "华为", "刘总"),
    ("拜訪 3M 台灣分公司 林經理", "3M 台灣分公司", "林經理"),
    ("新客戶 晶華光電 張協理 要報價", "晶華光電", "張協理"),
    ("新客户:蓝海科技,吴经理,下周五前报价", "蓝海科技", "吴经理"),
    ("大同電子行 吳老闆 來電", "大同電子行", "吳老闆"),
])
def test_the_customer_slot_takes_no_verb_preposition_department_or_known_prefix(note, customer, contact):
    draft = parse(note)
    assert (draft.customer, draft.contact, draft.customer_known) == (customer, contact, False)


def test_english_names_match_with_typos_and_spelling_variants():
    for note, contact in (("Acmee Lee said ok", "Lee"), ("見了 acme lee 👍 明天寄報價", "lee"),
                          ("Acme Trdaing Lee confirmed the order", "Lee")):
        draft = parse(note)
        assert (draft.customer, draft.customer_id, draft.contact) == ("Acme Trading", 2, contact), note
    harbour = parse("met with Blue Harbour procurement, they want 12 containers")
    assert (harbour.customer_id, harbour.contact) == (3, None)
    assert [(a.value, a.unit) for a in harbour.amounts] == [(12, "containers")]
    assert parse("Met the Globe Theatre manager").customer_id is None


@pytest.mark.parametrize(("note", "customer", "contact"), [
    ("Met a new prospect, Brightway Foods, buyer Anna Lopez wants 5,000 PCBs quoted by Friday",
     "Brightway Foods", "Anna Lopez"),
    ("new lead Riverside Bakery, owner Sam Carter, call back Monday", "Riverside Bakery", "Sam Carter"),
    ("Prospect Kestrel Marine asked for a catalogue", "Kestrel Marine", None),
    ("lunch at Globex with their CTO, Raj, wants a demo", "Globex", "Raj"),
    ("跟 Globex 的 Maria 視訊", "Globex", "Maria"),
    ("和华为的小李聊了一下", "华为", "小李"),
    ("利豐貿易 陳生 話要樣板", "利豐貿易", "陳生"),
    ("永豐電子 陳設計師 要改版型", "永豐電子", "陳設計師"),
    ("信義建材 黃老闆娘 收款", "信義建材", "黃老闆娘"),
])
def test_new_customer_markers_and_contacts_of_every_title_kind(note, customer, contact):
    draft = parse(note, customers=CustomerIndex([KnownCustomer(4, "Globex")]))
    assert (draft.customer, draft.contact) == (customer, contact)


@pytest.mark.parametrize(("note", "country", "language", "expected"), [
    ("深圳宏远电子 陈总 说明年预算200万元", "TW", "zh-Hans", (2_000_000, "CNY")),
    ("预算 200万", None, None, (2_000_000, "CNY")),
    ("預算 200 萬", "TW", "zh-Hant", (2_000_000, "TWD")),
    ("訂單 50 萬", "HK", "zh-Hant", (500_000, "HKD")),
    ("订单 50万", "SG", "zh-Hans", (500_000, "SGD")),
    ("要 人民幣 30 萬 的貨", "TW", "zh-Hant", (300_000, "CNY")),
    ("美金 3 萬 OK", "TW", "zh-Hant", (30_000, "USD")),
    ("港幣 8 萬 可以", "TW", "zh-Hant", (80_000, "HKD")),
    ("报价 US$12,500", "CN", "zh-Hans", (12_500, "USD")),
    ("付了 NT$35,000", "CN", "zh-Hans", (35_000, "TWD")),
    ("订单 ¥150,000", "TW", None, (150_000, "CNY")),
    ("paid RMB 20,000", "US", "en", (20_000, "CNY")),
    ("5000 美元 的样品预算", "CN", "zh-Hans", (5_000, "USD")),
    ("budget $80k", "SG", "en", (80_000, "USD")),
])
def test_explicit_markers_win_and_bare_amounts_follow_script_and_country(note, country, language, expected):
    draft = parse(note, country=country, language=language)
    assert [(a.value, a.currency) for a in draft.amounts] == [expected]


def test_the_default_currency_rule():
    assert default_currency("200万元", tz="Asia/Taipei", country="TW") == "CNY"
    assert default_currency("200萬元", tz="Asia/Taipei", country="TW") == "TWD"
    assert default_currency("200萬元", tz="Asia/Hong_Kong", country="HK") == "HKD"
    assert default_currency("200 元", tz="Asia/Taipei", country=None, language="zh-Hans") == "CNY"
    assert default_currency("80k", tz="Asia/Taipei", country="US") == "USD"


def test_brands_with_digits_and_counted_things_are_read_right():
    assert parse("拜訪 3M 台灣分公司").amounts == ()
    assert [(a.value, a.unit) for a in parse("buyer wants 5,000 PCBs").amounts] == [(5000, "pcbs")]
    assert [(a.value, a.unit) for a in parse("30 faulty units came back").amounts] == [(30, "units")]
    assert parse("payment terms of 60 days").amounts == ()


@pytest.mark.parametrize(("note", "action"), [
    ("提醒我明天打電話給大同五金行王總確認交期", "打電話給王總確認交期"),
    ("見了 acme lee 👍 明天寄報價", "寄報價"),
    ("remind me to call Globex tomorrow at 10am", "call Globex"),
    ("大同電子 李副理 說下週二要來看樣品", "來看樣品"),
    ("提醒我明天给美的集团赵经理打电话", "给赵经理打电话"),
    ("Acmee Lee said ok to the price, send the PO draft tomorrow", "send the PO draft"),
    ("美的集团 周主任 说付款要延到月底", "付款要延到月底"),
    ("Met a new prospect, Brightway Foods, buyer Anna Lopez wants 5,000 PCBs quoted by Friday", "5,000 PCBs quoted"),
])
def test_the_next_step_is_a_clean_action_in_the_notes_words(note, action):
    draft = parse(note)
    assert draft.follow_up is not None and draft.follow_up.action == action


def test_a_long_next_step_is_cut_between_words():
    note = ("tomorrow send Globex the revised proposal with the extended warranty terms and the volume discount "
            "schedule for all regional distributors")
    draft = parse(note)
    assert draft.follow_up is not None
    action = draft.follow_up.action
    assert len(action) <= 60 and note.startswith(f"tomorrow {action}") and note[len(f"tomorrow {action}")] == " "


def test_today_that_opens_a_report_dates_the_note_and_is_no_follow_up():
    draft = parse("今天跟美的集团赵经理吃饭,聊了明年的采购计划")
    assert draft.follow_up is None
    assert parse("今天要打給大同五金行王總").follow_up is not None


def test_parse_note_keeps_its_old_signature():
    draft = parse_note("拜訪大同五金行王總,預算 200 萬,明天回覆", now=NOW, tz="Asia/Taipei", customers=KNOWN)
    assert (draft.customer_id, draft.contact) == (1, "王總")
    assert [(a.value, a.currency) for a in draft.amounts] == [(2_000_000, "TWD")]


@pytest.mark.parametrize(("note", "customer"), [
    ("payload capacity 2 tons for Acme, call back tomorrow", "Acme"),
    ("quote for Initech, call back Friday", "Initech"),
    ("call 大同 明天下午", "大同"),
])
def test_an_english_verb_phrase_after_call_is_not_a_name(note, customer):
    assert parse(note, customers=CustomerIndex([])).customer == customer


@pytest.mark.parametrize(("note", "new", "known", "contact"), [
    ("3M 台灣分公司 陳工程師 說下週來看樣品", "3M 台灣分公司", "3M", "陳工程師"),
    ("IBM 香港分公司 黃經理 要報價", "IBM 香港分公司", "IBM", "黃經理"),
    ("拜訪 acme 公司 李經理", "acme 公司", "Acme Trading", "李經理"),
    ("拜訪 sunrise 公司 張課長", "sunrise 公司", "Sunrise", "張課長"),
    ("Acme Trading Co., Ltd. called about the order", "Acme Trading Co., Ltd.", "Acme Trading", None),
    ("Acme Co., Ltd. asked for a quote", "Acme Co., Ltd.", "Acme Trading", None),
    ("DATONG hardware co., ltd. wants 200 pcs", "DATONG hardware co., ltd.", "Datong Hardware", None),
    ("Brightstar Electronics Co., Ltd. wants 50 samples", "Brightstar Electronics Co., Ltd.", "Brightstar", None),
    ("visited Kingwell Plastics Co., Ltd., buyer Amy Chen wants a quote", "Kingwell Plastics Co., Ltd.", "Kingwell",
     "Amy Chen"),
])
def test_branch_words_and_legal_forms_stay_part_of_the_name(note, new, known, contact):
    """No "台灣分公司", "公司", "DATONG" or "Acme Co" customer and no "Ltd" contact: the whole name, new or known."""
    nobody = parse(note, customers=None)
    assert (nobody.customer, nobody.contact, nobody.customer_known) == (new, contact, False)
    index = CustomerIndex([KnownCustomer(1, "大同五金行"), KnownCustomer(7, known, (known.split()[0],))])
    found = parse(note, customers=index)
    assert found.contact == contact
    if found.customer_known:
        assert (found.customer, found.customer_id) == (known, 7)
    else:  # not recognised as the known one: still the whole new name, never a fragment
        assert found.customer == new
