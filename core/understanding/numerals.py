"""Numbers written in Chinese (一百, 兩千五, 4.5萬, 三十) or with digits and separators (1,500)."""

from __future__ import annotations

import re

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
          "八": 8, "九": 9, "壹": 1, "貳": 2, "贰": 2, "參": 3, "叁": 3, "肆": 4, "伍": 5, "陸": 6, "陆": 6,
          "柒": 7, "捌": 8, "玖": 9}
SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS = {"萬": 10_000, "万": 10_000, "億": 100_000_000, "亿": 100_000_000}
CN_CHARS = "".join([*DIGITS, *SMALL_UNITS, *BIG_UNITS])
CN_NUMBER = f"[{CN_CHARS}]+"
ARABIC = r"\d+(?:,\d{3})*(?:\.\d+)?"
_ARABIC = re.compile(ARABIC)


def cn_to_number(text: str) -> float | None:
    """一百 → 100, 兩千五 → 2500, 三十五 → 35, 十 → 10, 一二三 → 123; None if not a number."""
    if not text or any(ch not in CN_CHARS for ch in text):
        return None
    if all(ch in DIGITS for ch in text):  # digit by digit: 一二三
        return float(int("".join(str(DIGITS[ch]) for ch in text)))
    total, section, number, last_unit = 0, 0, 0, 1
    for ch in text:
        if ch in DIGITS:
            number = DIGITS[ch]
        elif ch in SMALL_UNITS:
            unit = SMALL_UNITS[ch]
            section += (number or 1) * unit
            number, last_unit = 0, unit
        else:
            unit = BIG_UNITS[ch]
            total += (section + number) * unit
            section, number, last_unit = 0, 0, unit
    if number and last_unit >= 100 and section:  # 兩千五 = 2500, 一百二 = 120
        number *= last_unit // 10
    return float(total + section + number)


def to_number(text: str) -> float | None:
    """A number in Arabic digits (with thousands separators) or Chinese numerals."""
    text = text.strip()
    if _ARABIC.fullmatch(text):
        return float(text.replace(",", ""))
    return cn_to_number(text)
