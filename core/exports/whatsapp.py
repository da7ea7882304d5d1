"""WhatsApp `.txt` exports, Android (`date, time - Name: text`) and iOS (`[date, time] Name: text`).

Locales differ in date order, separators, 12/24-hour clocks and where AM/PM goes (`下午3:05` vs
`3:05 PM`). A message starts only on a line with a full header; any other line continues the
previous message. Day/month order is decided from the whole file; when nothing tells, the caller
must say (`date_order`), or `ExportError("ambiguous_dates")` is raised.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from core.exports.model import MAX_MESSAGES, ExportError, ParsedConversation, ParsedMessage, too_many_messages

MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\ufeff"), None)
SPACES = str.maketrans({"\u202f": " ", "\u00a0": " ", "\u2009": " "})
_AM = "上午|凌晨|早上|午前|오전"
_PM = "下午|晚上|中午|午後|오후"
HEADER = re.compile(
    r"^\[?(?P<date>\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}|\d{4}年\d{1,2}月\d{1,2}日)[,,]?\s*"
    rf"(?P<p1>{_AM}|{_PM})?\s*(?P<h>\d{{1,2}})[:.](?P<m>\d{{2}})(?:[:.](?P<s>\d{{2}}))?\s*"
    r"(?P<p2>[AaPp]\.?\s?[Mm]\.?)?(?:\]\s?|\s[-–]\s)(?P<rest>.*)$")
SENDER = re.compile(r"^(?P<name>[^:\n]{1,100}?):\s(?P<text>.*)$", re.S)
ZH_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
AM_WORDS, PM_WORDS = set(_AM.split("|")), set(_PM.split("|"))

MEDIA = {"<media omitted>": "media", "<媒體已略去>": "media", "<媒体文件已省略>": "media", "<省略影音內容>": "media",
         "‹省略影音内容>": "media", "<省略影音内容>": "media", "圖片已略去": "photo", "图片已省略": "photo",
         "image omitted": "photo", "video omitted": "media", "影片已略去": "media", "视频已省略": "media",
         "audio omitted": "voice", "音訊已略去": "voice", "音频已省略": "voice", "语音已省略": "voice",
         "sticker omitted": "sticker", "貼圖已略去": "sticker", "贴图已省略": "sticker", "gif omitted": "media",
         "document omitted": "file", "文件已省略": "file", "文件已略去": "file"}
ATTACHED = re.compile(r"^<attached: (?P<file>[^>]+)>$|^(?P<file2>\S+\.\w{2,5}) \((?:file attached|檔案已附上|文件已附上)\)")
VOICE_FILE = re.compile(r"(?i)(PTT-|AUDIO|\.opus$|\.m4a$|\.aac$)")
DELETED = {"this message was deleted", "you deleted this message", "此訊息已刪除", "此消息已删除", "你刪除了此訊息",
           "你删除了此消息", "您刪除了此訊息", "您删除了此消息", "此訊息已被刪除", "你已刪除此訊息"}
EDITED = re.compile(r"\s*<(?:This message was edited|此訊息已編輯|此消息已编辑|已編輯|已编辑)>\s*$", re.I)
ENCRYPTION = re.compile(r"end-to-end encrypted|端對端加密|端到端加密|security code (changed|with)|"
                        r"安全碼已變更|安全码已更改")  # iOS attributes these notices to the chat's name


def sniff(text: str) -> bool:
    """True when one of the first lines is a WhatsApp message header."""
    for line in text[:4000].splitlines()[:20]:
        if HEADER.match(line.translate(MARKS).translate(SPACES)):
            return True
    return False


def parse(text: str, tz: ZoneInfo, date_order: str | None, title: str | None = None) -> ParsedConversation:
    """The messages of the file; past `MAX_MESSAGES` headers it stops (`too_many_messages`) before building any."""
    if _has_marks(text):
        text = text.translate(MARKS).translate(SPACES)
    heads: list[tuple[re.Match[str], list[str]]] = []
    match = HEADER.match
    for line in _lines(text):
        found = match(line)
        if found:
            if len(heads) >= MAX_MESSAGES:
                raise too_many_messages()
            heads.append((found, []))
        elif heads:
            heads[-1][1].append(line)
        # text before the first header (a title line some tools add) is dropped
    if not heads:
        raise ExportError("unknown_format", "no WhatsApp message headers found")
    order = _date_order([h[0].group("date") for h in heads], date_order)
    messages = [_message(found, more, order, tz) for found, more in heads]
    return ParsedConversation("whatsapp", title, messages)


def _lines(text: str) -> Iterator[str]:
    """The lines of `text` one at a time (`splitlines` would hold every line at once); CRLF and LF end a line."""
    start, size, find = 0, len(text), text.find
    while start < size:
        end = find("\n", start)
        if end < 0:
            end = size
        line = text[start:end]
        yield line[:-1] if line.endswith("\r") else line
        start = end + 1


def _has_marks(text: str) -> bool:
    return any(ch in text for ch in "\u200e\u200f\u202f\u00a0\u202a\ufeff\u2009")


def _date_order(dates: list[str], given: str | None) -> str:
    """ymd when the year comes first; otherwise dmy/mdy from any field above 12, else `given`."""
    first = dates[0]
    if ZH_DATE.fullmatch(first) or len(re.split(r"[/.\-]", first)[0]) == 4:
        return "ymd"
    day_first = month_first = False
    for date in set(dates):
        a, b, _ = (int(x) for x in re.split(r"[/.\-]", date))
        day_first |= a > 12
        month_first |= b > 12
    if day_first and not month_first:
        return "dmy"
    if month_first and not day_first:
        return "mdy"
    if given in ("dmy", "mdy"):
        return given
    if day_first and month_first:
        raise ExportError("unknown_format", "dates in this file contradict each other")
    raise ExportError("ambiguous_dates", "day/month order cannot be told from this file")


@lru_cache(maxsize=8192)
def _ymd(date: str, order: str) -> tuple[int, int, int]:
    zh = ZH_DATE.fullmatch(date)
    if zh:
        return int(zh.group(1)), int(zh.group(2)), int(zh.group(3))
    a, b, c = (int(x) for x in re.split(r"[/.\-]", date))
    if order == "ymd":
        return a, b, c
    year = c + 2000 if c < 100 else c
    return (year, b, a) if order == "dmy" else (year, a, b)


def _message(found: re.Match[str], more: list[str], order: str, tz: ZoneInfo) -> ParsedMessage:
    date, hour_text, minute_text, seconds, p1, p2, rest = found.group("date", "h", "m", "s", "p1", "p2", "rest")
    year, month, day = _ymd(date, order)
    hour, minute = int(hour_text), int(minute_text)
    marker = p1 or p2
    if marker:
        pm = marker in PM_WORDS or marker[0] in "Pp"
        if marker == "中午":
            pm = hour < 11 or hour == 12
        if pm and hour < 12:
            hour += 12
        elif not pm and hour == 12:
            hour = 0
    try:
        local = datetime(year, month, day, hour, minute, int(seconds) if seconds else 0, tzinfo=tz)
    except ValueError as error:
        raise ExportError("unknown_format", f"impossible date {date}: {error}") from error
    at = local.astimezone(UTC)
    if more:
        rest = "\n".join([rest, *more])
    said = SENDER.match(rest)
    if said is None:
        return ParsedMessage(None, at, rest.strip(), "system")
    name, text = said.group("name").strip(), said.group("text")
    if len(text) < 300 and ("密" in text or "crypt" in text or "安全" in text or "ecurity" in text) \
            and ENCRYPTION.search(text):
        return ParsedMessage(None, at, text.strip(), "system")
    edited = False
    if "<" in text and EDITED.search(text):
        text, edited = EDITED.sub("", text), True
    key = text.strip().lower()
    if key in MEDIA:
        return ParsedMessage(name, at, text.strip(), MEDIA[key], edited)
    if key in DELETED:
        return ParsedMessage(name, at, text.strip(), "deleted", edited)
    attached = ATTACHED.match(text.strip()) if text.endswith(("attached)", "附上)", ">")) else None
    if attached:
        file = attached.group("file") or attached.group("file2")
        kind = "voice" if VOICE_FILE.search(file) else "photo" if "PHOTO" in file or file.startswith("IMG-") else "media"
        return ParsedMessage(name, at, file, kind, edited)
    return ParsedMessage(name, at, text, "text", edited)

