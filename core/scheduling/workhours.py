"""Working hours, days off and public holidays in the member's zone and country.

Also the pure parsers behind the member's settings commands (`/hours 09:00-18:00 mon-fri`,
`/digest 07:45`, `/tz Asia/Hong_Kong`), so the rules can be tested without a chat.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays

from core.models import Member

DEFAULT_START, DEFAULT_END, DEFAULT_DIGEST = time(9), time(18), time(8, 30)
DIGEST_OFF = "off"


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> holidays.HolidayBase | None:
    try:
        return holidays.country_holidays(country, years=year)
    except (NotImplementedError, KeyError):
        return None


def is_holiday(day: date, country: str) -> bool:
    calendar = _holidays(country.upper(), day.year)
    return calendar is not None and day in calendar


def holiday_name(day: date, country: str) -> str | None:
    calendar = _holidays(country.upper(), day.year)
    return calendar.get(day) if calendar is not None else None


def is_makeup_workday(day: date, country: str) -> bool:
    """A weekend day the country works instead of a bridge holiday (調休, e.g. CN, TW)."""
    calendar = _holidays(country.upper(), day.year)
    return calendar is not None and day in getattr(calendar, "weekend_workdays", ())


def is_supported_country(country: str) -> bool:
    return _holidays(country.upper(), date.today().year) is not None


def _clock(value: str, default: time) -> time:
    try:
        hour, minute = value.split(":")
        return time(int(hour), int(minute))
    except (ValueError, AttributeError):
        return default


def work_hours(member: Member) -> tuple[time, time]:
    return _clock(member.work_start, DEFAULT_START), _clock(member.work_end, DEFAULT_END)


def digest_at(member: Member) -> time | None:
    """The member's digest time, or None when they turned the digest off."""
    if (member.digest_time or "").strip().lower() == DIGEST_OFF:
        return None
    return _clock(member.digest_time, DEFAULT_DIGEST)


def is_working_day(day: date, member: Member) -> bool:
    if is_holiday(day, member.country):
        return False
    return str(day.isoweekday()) in member.work_days or is_makeup_workday(day, member.country)


def within_working_time(at: datetime, member: Member) -> bool:
    local = at.astimezone(ZoneInfo(member.timezone))
    start, end = work_hours(member)
    return is_working_day(local.date(), member) and start <= local.time() < end


def next_working_start(at: datetime, member: Member) -> datetime:
    """`at` itself when inside working time, else the start of the next working day (aware, member's zone)."""
    if within_working_time(at, member):
        return at
    zone = ZoneInfo(member.timezone)
    local = at.astimezone(zone)
    start, _ = work_hours(member)
    day = local.date()
    if local.time() >= start:
        day += timedelta(days=1)
    for _ in range(60):  # a long holiday season at most
        if is_working_day(day, member):
            return datetime.combine(day, start, tzinfo=zone)
        day += timedelta(days=1)
    return datetime.combine(day, start, tzinfo=zone)


# -- parsing the member's settings -------------------------------------------------------------
_PM = ("pm", "p.m.", "下午", "晚上", "傍晚")
_AM = ("am", "a.m.", "上午", "早上", "凌晨")
_CLOCK = re.compile(r"(?P<pre>上午|下午|早上|晚上|傍晚|凌晨)?\s*(?P<h>\d{1,2})(?:\s*[:：.]\s*(?P<m>\d{2})|\s*[點点時时]\s*"
                    r"(?:(?P<half>半)|(?P<zm>\d{1,2})\s*分?)?)?\s*(?P<post>a\.?m\.?|p\.?m\.?)?", re.IGNORECASE)


def parse_clock(text: str) -> time | None:
    """`07:45`, `7:45pm`, `下午6點`, `9點半` → a time of day; None when it is not one."""
    match = _CLOCK.fullmatch(text.strip())
    if not match or (match["m"] is None and match["half"] is None and match["zm"] is None
                     and not re.search(r"[點点時时]|am|pm|a\.m|p\.m", text, re.IGNORECASE)):
        return None
    hour = int(match["h"])
    minute = 30 if match["half"] else int(match["m"] or match["zm"] or 0)
    marker = ((match["pre"] or "") + (match["post"] or "")).lower()
    if any(p in marker for p in _PM) and hour < 12:
        hour += 12
    elif any(a in marker for a in _AM) and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


_DAY_NAMES = {
    "mon": 1, "monday": 1, "tue": 2, "tues": 2, "tuesday": 2, "wed": 3, "wednesday": 3, "thu": 4, "thur": 4,
    "thurs": 4, "thursday": 4, "fri": 5, "friday": 5, "sat": 6, "saturday": 6, "sun": 7, "sunday": 7,
    "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7,
    "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7,
}
_DAY_SETS = {"weekdays": "12345", "workdays": "12345", "平日": "12345", "工作日": "12345",
             "everyday": "1234567", "daily": "1234567", "每天": "1234567", "每日": "1234567"}
_RANGE = re.compile(r"\s*(?:-|–|~|\bto\b|至|到)\s*")
_PREFIX = re.compile(r"^(?:週|周|星期|禮拜|礼拜)")


def _day(token: str) -> int | None:
    return _DAY_NAMES.get(_PREFIX.sub("", token.strip().lower().rstrip(".")))


def parse_days(text: str) -> str | None:
    """`mon-fri`, `mon,wed,fri`, `1-6`, `週一至週五`, `周一到周六`, `平日`, `一三五` → ISO weekday digits."""
    cleaned = _RANGE.sub("-", text.strip().lower())
    if cleaned.replace(" ", "") in _DAY_SETS:
        return _DAY_SETS[cleaned.replace(" ", "")]
    days: set[int] = set()
    for part in re.split(r"[,，、/;\s]+", cleaned):
        if not part:
            continue
        ends = part.split("-")
        if len(ends) == 2:
            first, last = _day(ends[0]), _day(ends[1])
            if first is None or last is None:
                return None
            days.update(range(first, last + 1) if first <= last else [*range(first, 8), *range(1, last + 1)])
        elif len(ends) == 1 and (single := _day(part)) is not None:
            days.add(single)
        elif len(ends) == 1 and all(_day(c) for c in _PREFIX.sub("", part)):
            days.update(_day(c) or 0 for c in _PREFIX.sub("", part))  # 一三五
        else:
            return None
    return "".join(str(d) for d in sorted(days)) or None


def parse_hours(text: str) -> tuple[time, time, str | None] | None:
    """`09:00-18:00 mon-fri`, `9點到18點 週一至週六` → (start, end, days or None); None when unreadable."""
    words = text.strip()
    match = re.match(r"^(?P<a>.+?)\s*(?:-|–|~|to|至|到)\s*(?P<b>\S+?(?:\s*[ap]\.?m\.?)?)(?:\s+(?P<days>.+))?$",
                     words, re.IGNORECASE)
    if not match:
        return None
    start, end = parse_clock(match["a"]), parse_clock(match["b"])
    if start is None or end is None or end <= start:
        return None
    days = parse_days(match["days"]) if match["days"] else None
    if match["days"] and days is None:
        return None
    return start, end, days


_ZONE_ALIASES = {
    "taipei": "Asia/Taipei", "台北": "Asia/Taipei", "臺北": "Asia/Taipei", "台灣": "Asia/Taipei", "台湾": "Asia/Taipei",
    "hongkong": "Asia/Hong_Kong", "hong kong": "Asia/Hong_Kong", "hk": "Asia/Hong_Kong", "香港": "Asia/Hong_Kong",
    "shanghai": "Asia/Shanghai", "beijing": "Asia/Shanghai", "上海": "Asia/Shanghai", "北京": "Asia/Shanghai",
    "中國": "Asia/Shanghai", "中国": "Asia/Shanghai", "macau": "Asia/Macau", "澳門": "Asia/Macau", "澳门": "Asia/Macau",
    "singapore": "Asia/Singapore", "新加坡": "Asia/Singapore", "tokyo": "Asia/Tokyo", "東京": "Asia/Tokyo",
    "东京": "Asia/Tokyo", "utc": "UTC", "london": "Europe/London", "倫敦": "Europe/London", "伦敦": "Europe/London",
}
_ZONE_COUNTRY = {"Asia/Taipei": "TW", "Asia/Hong_Kong": "HK", "Asia/Shanghai": "CN", "Asia/Macau": "MO",
                 "Asia/Singapore": "SG", "Asia/Tokyo": "JP", "Asia/Kuala_Lumpur": "MY", "Europe/London": "GB",
                 "America/New_York": "US", "America/Los_Angeles": "US", "Australia/Sydney": "AU"}


@lru_cache(maxsize=1)
def _zones_by_key() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_zone(text: str) -> str | None:
    """`Asia/Hong_Kong`, `asia/hong_kong`, `Hong Kong`, `香港` → an IANA zone name; None when unknown."""
    key = " ".join(text.strip().split()).lower()
    if not key:
        return None
    name = _ZONE_ALIASES.get(key) or _ZONE_ALIASES.get(key.replace(" ", "")) or _zones_by_key().get(
        key.replace(" ", "_"))
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def country_of_zone(zone: str) -> str | None:
    """The country whose public holidays go with a zone, when it is one we know."""
    return _ZONE_COUNTRY.get(zone)


# words for turning a setting off or on (/digest off, /country none, /digest 開)
OFF_WORDS = frozenset({"off", "no", "none", "stop", "關", "关", "關閉", "关闭", "不要", "取消", "無", "无"})
ON_WORDS = frozenset({"on", "yes", "開", "开", "開啟", "开启"})

_COUNTRY_NAMES = {"台灣": "TW", "台湾": "TW", "臺灣": "TW", "香港": "HK", "中國": "CN", "中国": "CN", "澳門": "MO",
                  "澳门": "MO", "新加坡": "SG"}


def is_off_word(text: str) -> bool:
    return text.strip().lower() in OFF_WORDS


def is_on_word(text: str) -> bool:
    return text.strip().lower() in ON_WORDS


def parse_country(text: str) -> str | None:
    """`TW`, `hk`, `台灣`, `香港` → a country code with a holiday calendar; None when there is none."""
    wanted = text.strip()
    code = _COUNTRY_NAMES.get(wanted, wanted.upper())
    return code if code and is_supported_country(code) else None
