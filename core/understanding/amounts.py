"""Quantities and money in a note: 一百件, 500 箱, 80 萬, 4.5 万, NT$1,500, $120k, 1,200 units."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.text import guess_language
from core.understanding.numerals import ARABIC, CN_CHARS, CN_NO_BIG, cn_to_number, to_number

# 3萬5, 3萬5千, 12萬5000 (a date or a clock time after it is not its tail: 3萬5月 is 3萬, then 5月)
MIXED = rf"\d+\s?[萬万億亿][{CN_NO_BIG}\d]+(?![\d{CN_CHARS}])(?!\s?[月號号日點点時时天週周年分])"
NUMBER = rf"((?<![a-z0-9.,]){MIXED}|(?<![a-z0-9.]){ARABIC}|(?<![{CN_CHARS}])[{CN_CHARS}]+)"
UNITS = ("件", "個", "个", "箱", "台", "臺", "套", "組", "组", "支", "隻", "只", "片", "包", "盒", "瓶", "張", "张",
         "顆", "颗", "條", "条", "捲", "卷", "桶", "袋", "噸", "吨", "公噸", "公吨", "公斤", "千克", "斤", "米", "公尺",
         "碼", "码", "打", "批", "櫃", "柜", "車", "车", "樽", "罐", "粒", "雙", "双", "卡板", "pcs", "pc", "piece", "pieces", "unit", "units", "set", "sets",
         "box", "boxes", "carton", "cartons", "ctn", "ctns", "pallet", "pallets", "ton", "tons", "kg", "kgs", "roll",
         "rolls", "bag", "bags", "bottle", "bottles", "meter", "meters", "m2", "sqm", "container", "containers", "servers",
         "server", "samples", "sample", "licenses", "license", "licences", "seats", "seat", "machines", "machine",
         "users", "trucks", "truck", "devices", "items", "cases", "drums", "coils", "sheets", "pairs")
CURRENCY_WORDS = {"元": None, "塊": None, "块": None, "台幣": "TWD", "台币": "TWD", "新台幣": "TWD", "新台币": "TWD",
                  "美金": "USD", "美元": "USD", "人民幣": "CNY", "人民币": "CNY", "港幣": "HKD", "港币": "HKD",
                  "usd": "USD", "ntd": "TWD", "twd": "TWD", "rmb": "CNY", "cny": "CNY", "hkd": "HKD", "eur": "EUR",
                  "港元": "HKD", "港紙": "HKD", "dollars": "USD", "bucks": "USD", "日圓": "JPY", "日元": "JPY",
                  "歐元": "EUR", "欧元": "EUR"}
PREFIXES = {"nt$": "TWD", "ntd": "TWD", "twd": "TWD", "us$": "USD", "usd": "USD", "hk$": "HKD", "hkd": "HKD",
            "rmb": "CNY", "cny": "CNY", "¥": "CNY", "￥": "CNY", "$": "USD", "€": "EUR", "eur": "EUR", "s$": "SGD",
            "美金": "USD", "美元": "USD", "人民幣": "CNY", "人民币": "CNY", "港幣": "HKD", "港币": "HKD",
            "港元": "HKD", "台幣": "TWD", "台币": "TWD", "新台幣": "TWD", "新台币": "TWD", "nt": "TWD"}
ZONE_CURRENCY = {"Asia/Taipei": "TWD", "Asia/Shanghai": "CNY", "Asia/Chongqing": "CNY", "Asia/Hong_Kong": "HKD",
                 "Asia/Macau": "MOP", "Asia/Singapore": "SGD", "Asia/Kuala_Lumpur": "MYR", "Asia/Tokyo": "JPY"}
COUNTRY_CURRENCY = {"TW": "TWD", "HK": "HKD", "MO": "MOP", "CN": "CNY", "SG": "SGD", "MY": "MYR", "JP": "JPY",
                    "KR": "KRW", "US": "USD", "CA": "CAD", "GB": "GBP", "AU": "AUD", "NZ": "NZD", "PH": "PHP",
                    "TH": "THB", "VN": "VND", "ID": "IDR", "IN": "INR", "DE": "EUR", "FR": "EUR", "IT": "EUR",
                    "ES": "EUR", "NL": "EUR", "IE": "EUR", "AT": "EUR", "BE": "EUR", "FI": "EUR", "PT": "EUR"}
# Simplified Chinese is written by members whose 元 is not the yuan only in these countries.
SIMPLIFIED_ELSEWHERE = {"SG": "SGD", "MY": "MYR", "HK": "HKD", "MO": "MOP"}
MULTIPLIERS = {"k": 1e3, "千": 1e3, "m": 1e6, "mn": 1e6, "萬": 1e4, "万": 1e4, "百萬": 1e6, "百万": 1e6,
               "千萬": 1e7, "千万": 1e7, "億": 1e8, "亿": 1e8, "million": 1e6, "thousand": 1e3}

ARABIC_GROUP = rf"({ARABIC})"
_UNIT = "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True))
_PREFIX = "|".join(sorted((re.escape(p) for p in PREFIXES), key=len, reverse=True))
_MULT = "百萬|百万|千萬|千万|million|thousand|mn|萬|万|億|亿|千|k|m"
_CUR_WORD = "|".join(sorted((re.escape(w) for w in CURRENCY_WORDS), key=len, reverse=True))
_MONEY_PREFIX = re.compile(rf"(?<![a-z])({_PREFIX})\s?{NUMBER}\s?({_MULT})?(?![a-z0-9])", re.I)
_MONEY_SUFFIX = re.compile(rf"{NUMBER}\s?({_MULT})?\s?({_CUR_WORD})(?![a-z])", re.I)
_BARE_WAN = re.compile(rf"{NUMBER}\s?(萬|万|億|亿)(?!\s?(?:{_UNIT}))", re.I)
# 三萬五, 一百二十萬五千 (no 元): the Chinese number goes on after 萬/億, unless that tail is a date or a count
_CN_WAN = re.compile(rf"(?<![{CN_CHARS}a-z0-9.,])((?:\d+\s?|[{CN_CHARS}]*)[萬万億亿][{CN_NO_BIG}\d]+)"
                     rf"(?![{CN_CHARS}\d]|\s?(?:[月號号日點点時时天週周年分歲岁]|{_UNIT}))", re.I)
_QUANTITY = re.compile(rf"{NUMBER}\s?(萬|万|千|k)?\s?(?:多)?\s?({_UNIT})(?![a-z])", re.I)
_BARE_K = re.compile(r"(?<![\w$.])(\d+(?:\.\d+)?)\s?(k|m)\b(?!\s?(?:g|m|l)\b)", re.I)
_EN_COUNT = re.compile(rf"(?<![\w$.]){ARABIC_GROUP}\s?(?:[a-z]{{3,12}}\s+)?([A-Za-z][A-Za-z-]{{1,20}}s)\b")
NOT_COUNTED = {"days", "weeks", "months", "years", "hours", "hrs", "mins", "minutes", "seconds", "secs", "times",
               "percent", "pcts", "yrs", "wks", "nights", "ms", "pm", "am", "dollars", "bucks", "euros", "others",
               "ones", "tens", "bps", "points", "pts", "steps", "stars", "mbps", "gbs", "mbs", "kbs", "terms"}


@dataclass(frozen=True)
class Amount:
    value: float
    unit: str | None = None
    currency: str | None = None

    def as_json(self) -> dict:
        value: float | int = int(self.value) if float(self.value).is_integer() else self.value
        return {"value": value, "currency": self.currency} if self.currency else {"value": value, "unit": self.unit}


def _value(number: str, multiplier: str | None) -> float | None:
    if multiplier and multiplier[0] in CN_CHARS and (whole := cn_to_number(number + multiplier)) is not None:
        return whole  # 三億五千 + 萬 is 三億五千萬 (350,000,000), not 三億五千 × 10,000
    value = to_number(number)
    if value is None:
        return None
    return value * MULTIPLIERS.get((multiplier or "").lower(), 1)


def default_currency(text: str, *, tz: str, country: str | None = None, language: str | None = None) -> str:
    """The currency of money written without a marker (200 萬, 8万元, 80k): the note's script, then the member's.

    Simplified Chinese means yuan unless the member's country uses it with another currency (SG, MY, HK, MO);
    otherwise the member's country decides (TW → TWD, HK → HKD…); without a country, Traditional Chinese is
    TWD and anything else USD."""
    script = guess_language(text)
    if script not in ("zh-Hant", "zh-Hans"):
        script = language if language in ("zh-Hant", "zh-Hans") and re.search(r"[\u4e00-\u9fff]", text) else script
    region = (country or "").upper()
    if script == "zh-Hans":
        return SIMPLIFIED_ELSEWHERE.get(region, "CNY")
    if region:
        return COUNTRY_CURRENCY.get(region) or ZONE_CURRENCY.get(tz) or "USD"
    return "TWD" if script == "zh-Hant" else "USD"  # no country known: Traditional is Taiwan's, English dollars


def find_amounts(text: str, *, tz: str, skip: list[tuple[int, int]], country: str | None = None,
                 language: str | None = None) -> list[tuple[Amount, int, int]]:
    """Amounts with their spans; spans in `skip` (dates, times) and model numbers (A100) are not amounts.

    Explicit markers (NT$, HK$, US$, $, 美元, 人民幣, RMB, ¥, 港幣) win; bare 元/萬 follow `default_currency`."""
    local = default_currency(text, tz=tz, country=country, language=language)
    found: list[tuple[Amount, int, int]] = []
    taken = list(skip)

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    def add(amount: Amount | None, start: int, end: int) -> None:
        if amount is not None and amount.value > 0 and free(start, end):
            found.append((amount, start, end))
            taken.append((start, end))

    for m in _MONEY_PREFIX.finditer(text):
        value = _value(m.group(2), m.group(3))
        add(Amount(value, currency=PREFIXES[m.group(1).lower()]) if value else None, m.start(), m.end())
    for m in _MONEY_SUFFIX.finditer(text):
        value = _value(m.group(1), m.group(2))
        currency = CURRENCY_WORDS.get(m.group(3).lower()) or local
        add(Amount(value, currency=currency) if value else None, m.start(), m.end())
    for m in _QUANTITY.finditer(text):
        if _model_number(text, m.start()):
            continue
        value = _value(m.group(1), m.group(2))
        add(Amount(value, unit=_unit_name(m.group(3))) if value else None, m.start(), m.end())
    for m in _CN_WAN.finditer(text) if "萬" in text or "万" in text or "億" in text or "亿" in text else ():
        value = to_number(m.group(1))
        add(Amount(value, currency=local) if value else None, m.start(), m.end())
    for m in _BARE_WAN.finditer(text):
        value = _value(m.group(1), m.group(2))
        add(Amount(value, currency=local) if value else None, m.start(), m.end())
    for m in _BARE_K.finditer(text):
        if m.group(2) == "M" and re.match(r"\s*[\u4e00-\u9fffA-Za-z]", text[m.end():]):
            continue  # 3M 台灣分公司: a brand, not three million
        value = _value(m.group(1), m.group(2))
        add(Amount(value, currency=local) if value else None, m.start(), m.end())
    for m in _EN_COUNT.finditer(text):
        if m.group(2).lower() in NOT_COUNTED or _model_number(text, m.start()) or re.search(
                r"\bnet\s*$", text[:m.start()], re.I):
            continue  # net 60: payment terms, not a count
        value = _value(m.group(1), None)
        add(Amount(value, unit=m.group(2).lower()) if value else None, m.start(), m.end())
    return sorted(found, key=lambda item: item[1])


def _model_number(text: str, start: int) -> bool:
    """A100, SKU-22: digits glued to letters are a model, not a quantity."""
    return start > 0 and ((text[start - 1].isascii() and text[start - 1].isalpha()) or text[start - 1] == "-")


def _unit_name(unit: str) -> str:
    lowered = unit.lower()
    if lowered in ("pc", "piece", "pieces"):
        return "pcs"
    if lowered in ("unit",):
        return "units"
    return lowered if lowered.isascii() else unit
