"""The company key: the names one company is written under in zh-Hant, zh-Hans and English share one key."""

from __future__ import annotations

import pytest

from core.services.company_names import company_key, same_company

SAME = [
    ("大同五金股份有限公司", "大同五金"),
    ("大同五金 有限公司", "大同五金"),
    ("大同五金（股）公司", "大同五金"),
    ("ＤＡＴＯＮＧ五金 有限公司", "Datong五金"),
    ("大同五金股份有限公司", "大同五金股份有限公司 "),
    ("永豐電子股份有限公司", "永丰电子有限公司"),
    ("華為技術有限公司", "华为技术"),
    ("美的集团有限公司", "美的集團"),
    ("深圳市腾讯计算机系统有限公司", "深圳市騰訊計算機系統"),
    ("小林企業社", "小林"),
    ("永豐商行", "永豐"),
    ("美商3M股份有限公司台灣分公司", "3M"),
    ("3M 台灣分公司", "３Ｍ"),
    ("台積電 上海分公司", "台积电"),
    ("Acme Trading Co., Ltd.", "ACME TRADING"),
    ("Acme Trading, Inc.", "acme trading"),
    ("Acme Trading Corp", "Acme Trading Corporation"),
    ("Acme Trading Limited", "ACME TRADING LTD"),
    ("Blue Harbour LLC", "blue harbour"),
    ("Siemens GmbH", "SIEMENS"),
    ("The Globex Company", "Globex"),
    ("Globex (Taiwan)", "Globex Taiwan Branch"),
    ("Smith and Sons Ltd.", "Smith & Sons"),
    ("ＡＣＭＥ　Ｔｒａｄｉｎｇ", "acme-trading"),
    ("大同Co., Ltd.", "大同"),
    ("大同五金行股份", "大同五金行股份有限公司"),  # 股份 alone: the short form of 股份有限公司
    ("大同五金行股份", "大同五金行公司"),
]

DIFFERENT = [
    ("大同五金行", "大同五金"),  # 五金行 is the trade, part of the name
    ("大同電子", "大同五金"),
    ("Disco", "Dis Co"),  # a legal form is a word of its own
    ("Cisco", "Cis"),
    ("Acme Trading", "Acme"),
    ("鴻海精密", "鴻海"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_names_of_one_company_share_a_key(a, b):
    assert company_key(a) == company_key(b)
    assert same_company(a, b)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_companies_keep_different_keys(a, b):
    assert company_key(a) != company_key(b)


def test_the_key_is_folded_and_compact():
    assert company_key("大同五金股份有限公司") == "大同五金"
    assert company_key("Acme Trading Co., Ltd.") == "acmetrading"
    assert company_key("美商3M股份有限公司台灣分公司") == "3m"


@pytest.mark.parametrize("name", ["公司", "有限公司", "Limited", "Inc.", "Co.", "分公司"])
def test_a_name_that_is_only_a_legal_form_keeps_a_key(name):
    assert company_key(name)


def test_a_name_without_letters_has_no_key():
    assert company_key("  —— ") == ""
    assert not same_company("", "")
