"""Time expressions in zh-Hant, zh-Hans and English, resolved against "now" in the member's zone.

Conventions (see README): weeks start on Monday; a date without a time is 09:00; 上午/早上/morning
09:00, 中午/noon 12:00, 下午/afternoon 14:00, 晚上/evening/tonight 19:00; a weekday is the coming one
this week if still ahead, else next week's; 下週三/next Wednesday is Wednesday of next week; 下週/next
week is next Monday; 下下週 the Monday after; N天後/in N days is that day at 09:00; N小時後/in N hours
exactly then; 月底/end of month the last day of this month; 下個月/next month the 1st; a bare day of
month (25號, the 5th, 12/3 without year) is this month/year if ahead, else the next. A bare hour
without 上午/下午 from 1 to 7 is read as afternoon (business hours).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.understanding.numerals import CN_CHARS, to_number

N = rf"(?:\d+|[{CN_CHARS}]+)"
WEEKDAY_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5,
              "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
WEEKDAY_EN = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
MONTHS_EN = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                         "nov", "dec"), start=1)}
PERIOD_HOURS = {"morning": 9, "noon": 12, "afternoon": 14, "evening": 19}
PERIODS_ZH = {"下晝": "afternoon", "下昼": "afternoon", "晏晝": "afternoon", "朝早": "morning", "上晝": "morning",
              "上午": "morning", "早上": "morning", "早晨": "morning", "清晨": "morning", "一早": "morning",
              "早": "morning", "中午": "noon", "午間": "noon", "午间": "noon", "下午": "afternoon", "午後": "afternoon",
              "午后": "afternoon", "晚上": "evening", "傍晚": "evening", "晚間": "evening", "晚间": "evening",
              "今晚": "evening", "晚": "evening", "夜裡": "evening", "夜里": "evening"}
WEEK = r"(?:週|周|星期|禮拜|礼拜|拜)"

_DAY_WORDS = re.compile(r"大後天|大后天|後天|后天|後日|明天|明日|明早|明晚|聽日|听日|聽朝|听朝|今天|今日|今早|今朝|今晚|"
                        r"昨天|昨日|昨晚|前天|day after tomorrow|tomorrow|tmrw|tmr|tmw|2moro|today|tonight|yesterday",
                        re.I)
_ZH_WEEKDAY = re.compile(rf"(下下|下|這|这|本|今|上)?(?:個|个)?{WEEK}([一二三四五六日天1-7末])")
_ZH_WEEK = re.compile(rf"(下下|下|上|這|这|本)(?:個|个)?{WEEK}(?![一二三四五六日天1-7末])")
_EN_WEEKDAY = re.compile(r"\b(this|next|nxt|last|coming|on)?\s*(mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)"
                         r"(?:day|nesday|rsday|urday|sday)?\b\.?", re.I)
_EN_WEEK = re.compile(r"\b(next|nxt|this|last)\s+(?:week|wk)\b|\bweek after next\b", re.I)
_IN_N = re.compile(rf"(?:\bin\s+)?({N}|a|an|one|two|three|four|five|six|seven|ten|半)\s*(個|个)?\s*"
                   rf"(天|日|小時|小时|鐘頭|钟头|钟|分鐘|分钟|週|周|星期|禮拜|礼拜|月|"
                   rf"days?|hours?|hrs?|minutes?|mins?|weeks?|months?)\s*(之?[後后]|以[後后]|[內内]|later|from now)?",
                   re.I)
_MONTH_END = re.compile(r"(下(?:個|个)?)?月[底尾]|\bend of (?:the |this )?month\b|\bmonth[- ]end\b", re.I)
_NEXT_MONTH = re.compile(rf"下(?:個|个)?月(?:\s*({N})\s*(?:號|号|日))?(?!底|尾)|\b(?:next|nxt) month\b", re.I)
_MONTH_DAY = re.compile(rf"(?:(\d{{4}})\s*年\s*)?({N})\s*月\s*({N})\s*(?:日|號|号)?")
_SLASH_DATE = re.compile(r"(?<![\d/.])(\d{1,2})/(\d{1,2})(?![\d/])")
_EN_DATE = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b"
                      r"|\b(\d{1,2})(?:st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b",
                      re.I)
_DAY_OF_MONTH = re.compile(rf"(?<![月\d])({N})\s*(?:號|号)|\bthe\s+(\d{{1,2}})(?:st|nd|rd|th)\b"
                           rf"|(?<![月\d{CN_CHARS}])([廿卅][一二三四五六七八九]?)\s*日", re.I)  # 廿五日: only a date
_ZH_CLOCK = re.compile(rf"({'|'.join(sorted(PERIODS_ZH, key=len, reverse=True))})?\s*({N})\s*(?:點|点|時|时)"
                       rf"(?:\s*(半|一刻|三刻|({N})\s*分?))?")
_EN_CLOCK = re.compile(r"\b(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)(?![a-z])|\b(?:at\s+)?([01]?\d|2[0-3]):(\d{2})\b",
                       re.I)
_PERIOD = re.compile(rf"({'|'.join(sorted(PERIODS_ZH, key=len, reverse=True))})|\b(morning|noon|"
                     rf"afternoon|evening|tonight)\b", re.I)
_EN_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10}


@dataclass(frozen=True)
class Moment:
    """A time expression found in a note: where it is and when it means."""

    at: datetime
    explicit_time: bool  # an hour was named (or "in N hours")
    start: int
    end: int
    past: bool  # it lies before "now"
    weak: bool = False  # only a part of day (下午, lunch): context, not a date to schedule
    weekday: bool = False  # a bare weekday ("on Monday"), which may mean the last one in a past-tense note
    bare_day: bool = False  # a day with no hour and no part of day (今天, Friday)


@dataclass
class _Day:
    day: date
    start: int
    end: int
    exact: datetime | None = None  # "in 2 hours": a full moment
    period: str | None = None  # 今晚, tonight, 明早
    rolls: bool = False  # "週三" said on a Wednesday after the hour means next week's


@dataclass
class _Clock:
    hour: int | None
    minute: int
    period: str | None
    start: int
    end: int


def _num(text: str) -> float | None:
    lowered = text.lower()
    if lowered in _EN_NUMBERS:
        return float(_EN_NUMBERS[lowered])
    if text == "半":
        return 0.5
    return to_number(text)


def _next_weekday(today: date, weekday: int, *, week_offset: int | None) -> date:
    monday = today - timedelta(days=today.weekday())
    if week_offset is None:  # the coming one: this week if still ahead (today counts), else next week's
        candidate = monday + timedelta(days=weekday)
        return candidate if candidate >= today else candidate + timedelta(days=7)
    return monday + timedelta(days=7 * week_offset + weekday)


def _month_day(today: date, month: int | None, day: int, year: int | None = None) -> date | None:
    try:
        if month is None:
            candidate = date(today.year, today.month, day)
            if candidate < today:
                nxt = today.replace(day=1) + timedelta(days=32)
                candidate = date(nxt.year, nxt.month, day)
            return candidate
        candidate = date(year or today.year, month, day)
        if year is None and candidate < today - timedelta(days=180):
            candidate = date(today.year + 1, month, day)
        return candidate
    except ValueError:
        return None


def _days(text: str, now: datetime) -> list[_Day]:
    today = now.date()
    found: list[_Day] = []
    offset: int | None
    day: float | None
    month: float | None

    def add(day: date | None, match: re.Match[str], **extra: Any) -> None:
        if day is not None:
            found.append(_Day(day, match.start(), match.end(), **extra))

    for m in _DAY_WORDS.finditer(text):
        word = m.group(0).lower()
        offset = {"大後天": 3, "大后天": 3, "後天": 2, "后天": 2, "後日": 2, "day after tomorrow": 2, "明天": 1,
                  "明日": 1, "明早": 1, "明晚": 1, "聽日": 1, "听日": 1, "聽朝": 1, "听朝": 1, "tomorrow": 1, "tmrw": 1,
                  "tmr": 1, "tmw": 1, "2moro": 1, "昨天": -1, "昨日": -1, "昨晚": -1, "yesterday": -1,
                  "前天": -2}.get(word, 0)
        period = {"明早": "morning", "今早": "morning", "今朝": "morning", "聽朝": "morning", "听朝": "morning",
                  "明晚": "evening", "今晚": "evening", "昨晚": "evening", "tonight": "evening"}.get(word)
        add(today + timedelta(days=offset), m, period=period)
    for m in _ZH_WEEKDAY.finditer(text):
        prefix, weekday = m.group(1), WEEKDAY_ZH[m.group(2)]
        offset = {"下下": 2, "下": 1, "上": -1, "這": 0, "这": 0, "本": 0, "今": 0}.get(prefix or "")
        add(_next_weekday(today, weekday, week_offset=offset), m, rolls=offset is None)
    for m in _ZH_WEEK.finditer(text):
        offset = {"下下": 2, "下": 1, "上": -1}.get(m.group(1), 0)
        add(_next_weekday(today, 0, week_offset=offset), m)
    for m in _EN_WEEKDAY.finditer(text):
        key = m.group(2).lower()[:3]
        if key == "sun" and not m.group(1) and text[m.start(2):m.end()].lower() in ("sun",):
            continue
        offset = {"next": 1, "nxt": 1, "last": -1}.get((m.group(1) or "").lower())
        if offset == 1:  # "next Wednesday" = Wednesday of next calendar week
            add(_next_weekday(today, WEEKDAY_EN[key], week_offset=1), m)
        elif offset == -1:
            add(_next_weekday(today, WEEKDAY_EN[key], week_offset=-1), m)
        else:
            add(_next_weekday(today, WEEKDAY_EN[key], week_offset=None), m, rolls=True)
    for m in _EN_WEEK.finditer(text):
        word = (m.group(1) or "after").lower()
        offset = {"next": 1, "nxt": 1, "this": 0, "last": -1, "after": 2}[word]
        add(_next_weekday(today, 0, week_offset=offset) if offset else today, m)
    for m in _IN_N.finditer(text):
        unit, suffix = m.group(3).lower(), (m.group(4) or "")
        has_in = m.group(0).lower().startswith("in")
        if not suffix and not has_in:
            continue
        amount = _num(m.group(1))
        if amount is None or amount > 1000:
            continue
        if unit in ("小時", "小时", "鐘頭", "钟头", "钟") or unit.startswith(("hour", "hr")):
            add((now + timedelta(hours=amount)).date(), m, exact=now + timedelta(hours=amount))
        elif unit in ("分鐘", "分钟") or unit.startswith("min"):
            add((now + timedelta(minutes=amount)).date(), m, exact=now + timedelta(minutes=amount))
        elif unit in ("天", "日") or unit.startswith("day"):
            add(today + timedelta(days=round(amount)), m)
        elif unit == "月" or unit.startswith("month"):
            month = today.month - 1 + round(amount)
            year = today.year + month // 12
            add(date(year, month % 12 + 1, min(today.day, calendar.monthrange(year, month % 12 + 1)[1])), m)
        else:
            add(today + timedelta(weeks=amount), m)
    for m in _MONTH_END.finditer(text):
        first = today.replace(day=1)
        if m.group(1):
            first = (first + timedelta(days=32)).replace(day=1)
        add(first.replace(day=calendar.monthrange(first.year, first.month)[1]), m)
    for m in _NEXT_MONTH.finditer(text):
        first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        day = _num(m.group(1)) if m.group(1) else 1
        if day and 1 <= day <= calendar.monthrange(first.year, first.month)[1]:
            add(first.replace(day=int(day)), m)
    for m in _MONTH_DAY.finditer(text):
        month, day = _num(m.group(2)), _num(m.group(3))
        if month and day and 1 <= month <= 12:
            add(_month_day(today, int(month), int(day), int(m.group(1)) if m.group(1) else None), m)
    for m in _SLASH_DATE.finditer(text):
        month, day = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12 and 1 <= day <= 31:
            add(_month_day(today, month, day), m)
    for m in _EN_DATE.finditer(text):
        month_name = (m.group(1) or m.group(4)).lower()[:3]
        day = int(m.group(2) or m.group(3))
        add(_month_day(today, MONTHS_EN[month_name], day), m)
    for m in _DAY_OF_MONTH.finditer(text):
        day = float(m.group(2)) if m.group(2) else _num(m.group(1) or m.group(3))
        if day and 1 <= day <= 31 and float(day).is_integer():
            add(_month_day(today, None, int(day)), m)
    return _drop_overlaps(found)


def _drop_overlaps(found: list[_Day]) -> list[_Day]:
    """Keep the longest expression where several overlap (下週三 over 週三, 12月3日 over 3日)."""
    kept: list[_Day] = []
    for item in sorted(found, key=lambda d: (d.start, -(d.end - d.start))):
        if kept and item.start < kept[-1].end:
            if item.end - item.start > kept[-1].end - kept[-1].start:
                kept[-1] = item
            continue
        kept.append(item)
    return kept


def _clocks(text: str) -> list[_Clock]:
    found: list[_Clock] = []
    for m in _ZH_CLOCK.finditer(text):
        hour = _num(m.group(2))
        if hour is None or not float(hour).is_integer() or not 0 <= hour <= 24:
            continue
        minute = 0
        if m.group(3) == "半":
            minute = 30
        elif m.group(3) == "一刻":
            minute = 15
        elif m.group(3) == "三刻":
            minute = 45
        elif m.group(4):
            value = _num(m.group(4))
            minute = int(value) if value is not None and 0 <= value < 60 else 0
        found.append(_Clock(int(hour), minute, PERIODS_ZH.get(m.group(1) or ""), m.start(), m.end()))
    for m in _EN_CLOCK.finditer(text):
        if m.group(1):
            hour, minute = int(m.group(1)), int(m.group(2) or 0)
            if not 1 <= hour <= 12 or minute > 59:
                continue
            pm = m.group(3).lower().startswith("p")
            hour = (hour % 12) + (12 if pm else 0)
            found.append(_Clock(hour, minute, "explicit", m.start(), m.end()))
        else:
            found.append(_Clock(int(m.group(4)), int(m.group(5)), "explicit", m.start(), m.end()))
    taken = [(c.start, c.end) for c in found]
    for m in _PERIOD.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        word = (m.group(1) or m.group(2)).lower()
        period = PERIODS_ZH.get(word) or {"lunch": "noon", "lunchtime": "noon", "tonight": "evening"}.get(word, word)
        if word == "早" or word == "晚":
            continue  # too ambiguous alone (早 = early, 晚 = late)
        found.append(_Clock(None, 0, period, m.start(), m.end()))
    return sorted(found, key=lambda c: c.start)


def _hour(clock: _Clock | None, period: str | None) -> tuple[int, int, bool]:
    """(hour, minute, explicit) for a day with an optional clock and period."""
    if clock is None or clock.hour is None:
        period = (clock.period if clock else None) or period
        return PERIOD_HOURS.get(period or "", 9), 0, False
    hour, period = clock.hour, clock.period or period
    if (period in ("afternoon", "evening") and hour < 12) or (period == "noon" and hour < 6):
        hour += 12
    elif period == "morning" and hour == 12:
        hour = 0
    elif period is None and 1 <= hour <= 7:
        hour += 12  # 3點 in a sales note means 15:00
    return min(hour, 23), clock.minute, True


def find_moments(text: str, *, now: datetime, tz: str) -> list[Moment]:
    """Every time expression in `text`, resolved in zone `tz` (now is any aware datetime)."""
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone)
    days = _days(text, local_now)
    clocks = _clocks(text)
    used: set[int] = set()
    moments: list[Moment] = []
    for day in days:
        if day.exact is not None:
            moments.append(Moment(day.exact, True, day.start, day.end, day.exact < local_now))
            continue
        near = [i for i, c in enumerate(clocks) if i not in used and (
            0 <= c.start - day.end <= 4 or 0 <= day.start - c.end <= 4 or (c.start < day.end and c.end > day.start))]
        clock = None
        for index in near:
            candidate = clocks[index]
            if clock is None or (clock.hour is None and candidate.hour is not None):
                clock = candidate
            used.add(index)
        # a period right before a clock belongs to it (明天下午 3點)
        if clock is not None and clock.hour is not None:
            for index in near:
                if clocks[index].hour is None and clock.period is None:
                    clock = _Clock(clock.hour, clock.minute, clocks[index].period, clock.start, clock.end)
        hour, minute, explicit = _hour(clock, day.period)
        at = datetime.combine(day.day, time(hour, minute), tzinfo=zone)
        if day.rolls and at < local_now:
            at += timedelta(days=7)
        start = min(day.start, clock.start if clock else day.start)
        end = max(day.end, clock.end if clock else day.end)
        moments.append(Moment(at, explicit, start, end, at < local_now, weekday=day.rolls,
                              bare_day=clock is None and day.period is None))
    for index, clock in enumerate(clocks):
        if index in used:
            continue
        hour, minute, explicit = _hour(clock, None)
        at = datetime.combine(local_now.date(), time(hour, minute), tzinfo=zone)
        if at < local_now and explicit:
            past = at.date() == local_now.date() and clock.period in ("morning",) and not explicit
            if not past:
                at += timedelta(days=1)
        moments.append(Moment(at, explicit, clock.start, clock.end, at < local_now, weak=clock.hour is None))
    return sorted(moments, key=lambda m: m.start)
