"""The words members type into the settings and team commands: off/on, countries, day counts, roles, languages."""

from __future__ import annotations

from datetime import time

import pytest

from core.scheduling.workhours import is_off_word, is_on_word, parse_country
from core.usecases.preferences import MemberSettings, parse_day_count
from core.usecases.team import invite_role, parse_language


@pytest.mark.parametrize("word", ["off", "OFF ", "none", "關閉", "关", "不要", "取消", "無"])
def test_off_words(word):
    assert is_off_word(word) and not is_on_word(word)


@pytest.mark.parametrize("word", ["on", " Yes", "開", "开启"])
def test_on_words(word):
    assert is_on_word(word) and not is_off_word(word)


@pytest.mark.parametrize(("text", "expected"), [
    ("TW", "TW"), ("hk", "HK"), (" cn ", "CN"), ("台灣", "TW"), ("臺灣", "TW"), ("香港", "HK"), ("中国", "CN"),
    ("澳門", "MO"), ("新加坡", "SG"), ("Atlantis", None), ("", None), ("XX", None),
])
def test_countries_by_code_or_chinese_name(text, expected):
    assert parse_country(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("30", 30), ("30 days", 30), ("14天", 14), (" 7 ", 7), ("soon", None), ("-3", None), ("", None), ("1.5", None),
])
def test_day_counts(text, expected):
    assert parse_day_count(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("manager", "manager"), ("Manager", "manager"), ("經理", "manager"), ("经理", "manager"), ("", "sales"),
    ("sales", "sales"), ("owner", "sales"),
])
def test_invite_roles(text, expected):
    assert invite_role(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("en", "en"), ("zh-hant", "zh-Hant"), ("ZH-HANS", "zh-Hans"), ("繁體", "zh-Hant"), ("简体", "zh-Hans"),
    ("English", "en"), ("fr", None), ("", None),
])
def test_languages(text, expected):
    assert parse_language(text) == expected


def test_days_off_are_the_days_that_are_not_working_days():
    shown = MemberSettings("Asia/Taipei", "TW", time(9), time(18), "135", time(8, 30), 30)
    assert shown.days_off == "2467"
