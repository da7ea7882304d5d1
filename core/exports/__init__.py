"""Exported chats (WhatsApp, Telegram Desktop, Slack, WeChat tools) → `ParsedConversation`.

The format is told from the content, not the file name. Naive local times are read in `tz`;
epoch times are used as given; every timestamp comes out aware, in UTC.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any, Literal
from zoneinfo import ZoneInfo

from core.exports import slack, telegram, wechat, whatsapp
from core.exports.folder import read_folder
from core.exports.model import (
    MAX_EXPORT_BYTES,
    ChatSummary,
    ChooseChat,
    ExportError,
    NoSuchChat,
    ParsedConversation,
    ParsedMessage,
    UnpackBudget,
    check_count,
)
from core.exports.telegram import ChatPick

__all__ = ["MAX_EXPORT_BYTES", "ChatPick", "ChatSummary", "ChooseChat", "ExportError", "NoSuchChat",
           "ParsedConversation", "ParsedMessage", "looks_like_export", "parse_all_chats", "parse_export",
           "read_folder"]
# how each message of a Telegram Desktop export begins (inside a message's text a quote would be escaped)
TELEGRAM_MESSAGE_MARKERS = (b'"type": "message"', b'"type":"message"', b'"type": "service"', b'"type":"service"')
WHATSAPP_TITLE = re.compile(r"^WhatsApp Chat (?:with|-) (?P<name>.+?)(?:\.txt|\.zip)?$|^與(?P<zh>.+?)的 WhatsApp 對話")


def parse_export(data: bytes, *, tz: ZoneInfo, file_name: str | None = None,
                 date_order: Literal["dmy", "mdy"] | None = None, chat: ChatPick = None) -> ParsedConversation:
    """Parse one export; raises `ExportError` (with a code) for anything that is not a readable chat.

    An export of several chats (a Telegram account export) raises `ChooseChat` unless `chat` picks one
    (its index in `ChooseChat.chats`, or its name); a name it does not hold raises `NoSuchChat`."""
    conversations = _parse(data, tz, file_name, date_order, chat, every=False)
    if not conversations[0].messages:
        raise ExportError("no_messages", "the export holds no messages")
    return conversations[0]


def parse_all_chats(data: bytes, *, tz: ZoneInfo, file_name: str | None = None,
                    date_order: Literal["dmy", "mdy"] | None = None) -> list[ParsedConversation]:
    """Every chat the export holds, each its own conversation (one for all but account exports)."""
    conversations = [c for c in _parse(data, tz, file_name, date_order, None, every=True) if c.messages]
    if not conversations:
        raise ExportError("no_messages", "the export holds no messages")
    return conversations


def _parse(data: bytes, tz: ZoneInfo, file_name: str | None, date_order: str | None, chat: ChatPick, *,
           every: bool) -> list[ParsedConversation]:
    if len(data) > MAX_EXPORT_BYTES:
        raise ExportError("too_large", f"exports up to {MAX_EXPORT_BYTES // 2**20} MB are read")
    if not data.strip():
        raise ExportError("empty", "the file is empty")
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return [_zip(data, tz, file_name, date_order)]
    if data.lstrip()[:1] in (b"{", b"["):  # count Telegram's messages before json.loads builds them all
        check_count(sum(data.count(marker) for marker in TELEGRAM_MESSAGE_MARKERS))
    text = decode(data)
    document = _json(text)
    if document is not None:
        if not telegram.sniff(document):
            raise ExportError("unknown_format", "a JSON file that is not a Telegram Desktop export")
        return telegram.parse_all(document, tz) if every else [telegram.parse(document, tz, chat)]
    return [_text(text, tz, file_name, date_order)]


def _json(text: str) -> Any:
    """The JSON document, when the text is one (not iOS WhatsApp's "[12/7/2024 …")."""
    head = text.lstrip()
    if not (head.startswith("{") or re.match(r"\[\s*[{\]]", head)):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ExportError("invalid_json", f"invalid JSON at line {error.lineno}: {error.msg}") from error


def looks_like_export(data: bytes, file_name: str | None = None) -> bool:
    """A cheap sniff: would `parse_export` recognise the format? (A customer-list CSV is not an export.)"""
    if not data.strip() or len(data) > MAX_EXPORT_BYTES:
        return False
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, EOFError, ValueError):
            return False
        return slack.sniff(names) or any(n.lower().endswith(".txt") and "/" not in n.strip("/") for n in names)
    try:
        text = decode(data[:65536], partial=True)
    except ExportError:
        return False
    head = text.lstrip()
    if head.startswith("{"):
        return '"messages"' in text or '"chats"' in text
    return whatsapp.sniff(text) or wechat.csv_flavour(text) is not None or wechat.sniff_txt(text)


def decode(data: bytes, *, partial: bool = False) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with BOM; anything else is not a text export."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="strict" if not partial else "ignore")
    if b"\x00" in data[:8192]:
        raise ExportError("binary", "this is not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if partial and error.start >= len(data) - 4:  # a character cut by the sniff window
            return data[:error.start].decode("utf-8-sig")
        raise ExportError("binary", "this file is not UTF-8 text") from error


def _text(text: str, tz: ZoneInfo, file_name: str | None, date_order: str | None) -> ParsedConversation:
    if whatsapp.sniff(text):
        return whatsapp.parse(text, tz, date_order, _whatsapp_title(file_name))
    flavour = wechat.csv_flavour(text)
    if flavour:
        return _counted(wechat.parse_csv(text, tz, flavour))
    if wechat.sniff_txt(text):
        return _counted(wechat.parse_txt(text, tz))
    raise ExportError("unknown_format", "not a WhatsApp, Telegram, Slack or WeChat export")


def _zip(data: bytes, tz: ZoneInfo, file_name: str | None, date_order: str | None) -> ParsedConversation:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, EOFError, ValueError) as error:
        raise ExportError("truncated_zip", f"the zip file is damaged: {error}") from error
    budget = UnpackBudget()
    with archive:
        if slack.sniff(names):
            return slack.parse(archive, budget)
        texts = sorted((n for n in names if n.lower().endswith(".txt")), key=lambda n: (n != "_chat.txt", len(n)))
        if not texts:
            raise ExportError("unknown_format", "the zip holds no chat export")
        inner = budget.read(archive, texts[0])
    text = decode(inner)
    del inner
    return _text(text, tz, file_name or texts[0], date_order)


def _counted(conversation: ParsedConversation) -> ParsedConversation:
    check_count(len(conversation.messages))
    return conversation


def _whatsapp_title(file_name: str | None) -> str | None:
    if not file_name:
        return None
    found = WHATSAPP_TITLE.match(file_name.rsplit("/", 1)[-1])
    return (found.group("name") or found.group("zh")) if found else None
