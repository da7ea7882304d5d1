"""Numbers written in Chinese (一百, 兩千五, 三萬五, 廿五, 4.5萬, 三十) or with digits and separators (1,500, １４).

One reader for the notes (amounts, dates) and for command arguments (`/important Acme 十四天`, `/digest 七點半`).
"""

from __future__ import annotations

import re

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
          "八": 8, "九": 9, "壹": 1, "貳": 2, "贰": 2, "參": 3, "叁": 3, "肆": 4, "伍": 5, "陸": 6, "陆": 6,
          "柒": 7, "捌": 8, "玖": 9}
SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS = {"萬": 10_000, "万": 10_000, "億": 100_000_000, "亿": 100_000_000}
TENS = {"廿": 20, "卅": 30, "卌": 40}  # 廿五 = 25, 卅一 = 31 (dates, mostly)
CN_CHARS = "".join([*DIGITS, *SMALL_UNITS, *BIG_UNITS, *TENS])
CN_NUMBER = f"[{CN_CHARS}]+"
ARABIC = r"\d+(?:,\d{3})*(?:\.\d+)?"
_ARABIC = re.compile(ARABIC)
_CN_RUN = re.compile(CN_NUMBER)
CN_NO_BIG = "".join(ch for ch in CN_CHARS if ch not in BIG_UNITS)
# 3萬5, 3萬5千, 12萬5000, 三萬5000: Arabic digits on either side of 萬/億
_MIXED = re.compile(rf"(\d+|[{CN_CHARS}]+)\s?([萬万億亿])([{CN_NO_BIG}\d]+)")
_TO_CN_DIGIT = str.maketrans("0123456789０１２３４５６７８９", "〇一二三四五六七八九" * 2)
_DAY_WORD = r"(?:個|个)?\s*(?:天|日|days?|d)\.?"
_DAY_UNIT = re.compile(rf"\s*{_DAY_WORD}\s*$", re.I)
_ONLY_DAY_WORD = re.compile(_DAY_WORD, re.I)
_WEEK_UNIT = re.compile(r"\s*(?:個|个)?\s*(?:週|周|星期|禮拜|礼拜|weeks?|wks?)\.?\s*$", re.I)


def cn_to_number(text: str) -> float | None:
    """一百 → 100, 兩千五 → 2500, 三萬五 → 35000, 廿五 → 25, 十 → 10, 一二三 → 123; None if not a number.

    A digit right after 百/千/萬/億 with no unit of its own is the next lower unit (三百五 = 350, 一萬二 =
    12000); after 零 it is ones (一千零五 = 1005)."""
    if not text or any(ch not in CN_CHARS for ch in text):
        return None
    if all(ch in DIGITS for ch in text):  # digit by digit: 一二三
        return float(int("".join(str(DIGITS[ch]) for ch in text)))
    total, section, number, last_unit = 0, 0, 0, 1
    after_unit = False  # the pending digit came straight after a unit
    previous_unit = False
    for ch in text:
        if ch in DIGITS:
            number = DIGITS[ch]
            after_unit, previous_unit = previous_unit and number > 0, False
            continue
        if ch in TENS:
            if number:  # 三廿: not a number
                return None
            section += TENS[ch]
            last_unit = 10
        elif ch in SMALL_UNITS:
            unit = SMALL_UNITS[ch]
            section += (number or 1) * unit
            number, last_unit = 0, unit
        else:
            unit = BIG_UNITS[ch]
            total += (section + number) * unit
            section, number, last_unit = 0, 0, unit
        after_unit, previous_unit = False, True
    if number and after_unit and last_unit >= 100:  # 兩千五 = 2500, 一百二 = 120, 三萬五 = 35000
        number *= last_unit // 10
    return float(total + section + number)


def _mixed_to_number(text: str) -> float | None:
    """3萬5 → 35000 (as 三萬五), 3萬5千 → 35000, 12萬5000 → 125000, 三萬5000 → 35000; None otherwise."""
    match = _MIXED.fullmatch(text)
    if match is None:
        return None
    lead_text, big, tail = match.groups()
    lead = float(lead_text) if lead_text.isdecimal() else cn_to_number(lead_text)
    unit = BIG_UNITS[big]
    if lead is None:
        return None
    if tail.isdecimal():  # one digit: the next lower unit (3萬5); more: as written (12萬5000)
        rest = float(int(tail) * unit // 10 if len(tail) == 1 else int(tail))
        return lead * unit + rest if rest < unit else None
    rest_and_one = cn_to_number("一" + big + tail.translate(_TO_CN_DIGIT))
    return None if rest_and_one is None else lead * unit + rest_and_one - unit


def to_number(text: str) -> float | None:
    """A number in Arabic digits (also full-width, with thousands separators), Chinese numerals or both (3萬5)."""
    text = text.strip()
    if _ARABIC.fullmatch(text):
        return float(text.replace(",", ""))
    value = cn_to_number(text)
    if value is None and _MIXED.fullmatch(text):
        return _mixed_to_number(text)
    return value


def whole_number(text: str) -> int | None:
    """`14`, `１４`, `十四`, `廿`, `兩百` → that whole number (≥ 0); None for anything else (1.5, 14a, ²)."""
    value = to_number(text)
    return int(value) if value is not None and value.is_integer() else None


def day_count(text: str) -> int | None:
    """A number of days as typed in a command: `30`, `３０`, `三十`, `30天`, `三十日`, `30 days`, `7 day` → 30…;
    weeks count seven days (`兩週`, `2 weeks` → 14)."""
    text = text.strip()
    weeks = _WEEK_UNIT.search(text)
    if weeks is not None:
        count = whole_number(text[:weeks.start()])
        return None if count is None else count * 7
    return whole_number(_DAY_UNIT.sub("", text))


def is_day_word(word: str) -> bool:
    """`days`, `天`, `日`, `weeks`, `週`: the unit after a number of days written apart (`7 days`, `2 weeks`)."""
    return _ONLY_DAY_WORD.fullmatch(word.strip()) is not None or _WEEK_UNIT.fullmatch(word) is not None


def numerals_to_digits(text: str) -> str:
    """Each run of Chinese numerals written in Arabic digits: `七點半` → `7點半`, `下午三點` → `下午3點`."""
    if not _CN_RUN.search(text):
        return text

    def arabic(match: re.Match[str]) -> str:
        value = cn_to_number(match.group())
        return match.group() if value is None else str(int(value))

    return _CN_RUN.sub(arabic, text)
