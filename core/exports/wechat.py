"""WeChat exports from the common desktop tools: MemoTrace/WeChatMsg TXT and CSV, and PyWxDump CSV.

A reply that quotes an earlier message carries the quote in its own lines (`引用:陈小姐: 报价单`, or a
`「陈小姐：报价单」` block with a `- - - -` rule): it is kept apart as `quoted`, never glued to the text.
In MemoTrace CSV the member's own rows (IsSender=1) carry the exporting account's name when the file has it.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.exports.model import ExportError, ParsedConversation, ParsedMessage
from core.exports.wechat_quotes import QUOTE_COLUMNS, split_quote

ME = "我"
TXT_HEADER = re.compile(r"^(?P<at>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?: (?P<name>.+?))?\s*$")
MEMOTRACE_COLUMNS = {"Type", "IsSender", "CreateTime", "StrContent"}
PYWXDUMP_COLUMNS = {"type_name", "is_sender", "talker", "msg", "CreateTime"}
TYPES = {"1": "text", "3": "photo", "34": "voice", "43": "media", "47": "sticker", "49": "file", "10000": "system",
         "10002": "system"}
TYPE_NAMES = {"文本": "text", "图片": "photo", "圖片": "photo", "语音": "voice", "語音": "voice", "视频": "media",
              "動畫表情": "sticker", "动画表情": "sticker", "文件": "file", "系统通知": "system", "系統通知": "system",
              "撤回消息": "system", "拍一拍": "system"}
PLACEHOLDER = {"photo": "[图片]", "voice": "[语音]", "media": "[视频]", "sticker": "[表情]", "file": "[文件]"}


def sniff_txt(text: str) -> bool:
    lines = [line for line in text[:4000].splitlines() if line.strip()][:12]
    return any(TXT_HEADER.match(line) for line in lines[:3])


def csv_flavour(text: str) -> str | None:
    header = set(next(csv.reader(io.StringIO(text[:2000].splitlines()[0] if text else "")), []))
    if header >= MEMOTRACE_COLUMNS:
        return "wechat-csv"
    if header >= PYWXDUMP_COLUMNS:
        return "pywxdump-csv"
    return None


def parse_txt(text: str, tz: ZoneInfo, title: str | None = None) -> ParsedConversation:
    messages: list[ParsedMessage] = []
    current: tuple[datetime, str | None] | None = None
    body: list[str] = []

    def flush() -> None:
        if current is not None:
            at, name = current
            content, quoted = "\n".join(body).strip("\n"), None
            if name:
                content, quoted = split_quote(content)
            messages.append(ParsedMessage(name, at, content, "text" if name else "system", quoted=quoted))

    for line in text.splitlines():
        header = TXT_HEADER.match(line)
        if header:
            flush()
            local = datetime.strptime(header.group("at"), "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
            current, body = (local.astimezone(UTC), header.group("name")), []
        elif current is not None:
            body.append(line)
    flush()
    if not messages:
        raise ExportError("no_messages", "no WeChat messages found")
    return ParsedConversation("wechat-txt", title, [_kind_from_text(m) for m in messages])


def _kind_from_text(message: ParsedMessage) -> ParsedMessage:
    for kind, placeholder in PLACEHOLDER.items():
        if message.sender and message.text.strip() == placeholder:
            return ParsedMessage(message.sender, message.timestamp, message.text, kind, quoted=message.quoted)
    return message


def parse_csv(text: str, tz: ZoneInfo, flavour: str, title: str | None = None) -> ParsedConversation:
    rows = list(csv.DictReader(io.StringIO(text)))
    me = _own_name(rows) if flavour == "wechat-csv" else ME
    if flavour == "wechat-csv":
        messages = [m for row in rows if (m := _memotrace(row, me))]
    else:
        messages = [m for row in rows if (m := _pywxdump(row, tz))]
    if not messages:
        raise ExportError("no_messages", "the CSV holds no messages")
    conversation = ParsedConversation(flavour, title, messages)
    conversation.exporter = me if me in conversation.participants else None  # its own rows are the member's
    return conversation


def _epoch(value: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(float(value)), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _own_name(rows: list[dict[str, str]]) -> str:
    """The exporting account's name: what its own rows (IsSender=1) are signed with, else `我`."""
    for row in rows:
        if (row.get("IsSender") or "").strip() == "1":
            name = _signed(row)
            if name and name != ME:
                return name
    return ME


def _signed(row: dict[str, str]) -> str | None:
    for column in ("Remark", "NickName", "Sender"):
        value = (row.get(column) or "").strip()
        if value and not value.startswith("wxid_"):
            return value
    return None


def _quoted(row: dict[str, str], text: str) -> tuple[str, str | None]:
    """The message text and what it quotes: a quote column when the tool wrote one, else the 引用 lines."""
    for column in QUOTE_COLUMNS:
        value = (row.get(column) or "").strip()
        if value:
            return split_quote(text)[0], value
    return split_quote(text)


def _memotrace(row: dict[str, str], me: str = ME) -> ParsedMessage | None:
    at = _epoch(row.get("CreateTime", ""))
    if at is None:
        return None
    code = (row.get("Type") or "").strip()
    kind = "text" if code == "49" and (row.get("SubType") or "").strip() == "57" else TYPES.get(code, "media")
    text = row.get("StrContent") or ""
    if kind == "system":
        return ParsedMessage(None, at, text, "system")
    name = me if (row.get("IsSender") or "").strip() == "1" else \
        (row.get("Remark") or row.get("NickName") or row.get("Sender") or row.get("TalkerId") or None)
    text, quoted = _quoted(row, text)
    return ParsedMessage(name, at, text if kind == "text" else text or PLACEHOLDER.get(kind, ""), kind,
                         quoted=quoted)


def _pywxdump(row: dict[str, str], tz: ZoneInfo) -> ParsedMessage | None:
    raw = (row.get("CreateTime") or "").strip()
    at = _epoch(raw) if raw.isdigit() else None
    if at is None:
        try:
            at = datetime.strptime(raw, "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz).astimezone(UTC)
        except ValueError:
            return None
    kind = TYPE_NAMES.get((row.get("type_name") or "").strip(), "media")
    text = row.get("msg") or ""
    if kind == "system":
        return ParsedMessage(None, at, text, "system")
    name = ME if (row.get("is_sender") or "").strip() == "1" else (row.get("talker") or None)
    text, quoted = _quoted(row, text)
    return ParsedMessage(name, at, text if kind == "text" else text or PLACEHOLDER.get(kind, ""), kind,
                         quoted=quoted)
