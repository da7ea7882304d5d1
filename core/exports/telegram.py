"""Telegram Desktop JSON: `result.json` of one chat, or of a whole account (the largest chat is taken).

`date_unixtime` is the true time (`date` is the exporting PC's local clock, used only as a fallback);
`text` is a string or a list of strings and entity objects, joined without separators.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.exports.model import ExportError, ParsedConversation, ParsedMessage

MEDIA_KINDS = {"voice_message": "voice", "audio_file": "voice", "video_message": "media", "video_file": "media",
               "animation": "media", "sticker": "sticker"}


def sniff(data: Any) -> bool:
    return isinstance(data, dict) and (isinstance(data.get("messages"), list)
                                       or isinstance((data.get("chats") or {}).get("list"), list))


def parse(data: dict[str, Any], tz: ZoneInfo) -> ParsedConversation:
    chat = data
    if not isinstance(data.get("messages"), list):
        chats = [c for c in data["chats"]["list"] if isinstance(c, dict) and isinstance(c.get("messages"), list)]
        if not chats:
            raise ExportError("no_messages", "the account export holds no chats")
        chat = max(chats, key=lambda c: len(c["messages"]))
    messages = [m for raw in chat["messages"] if isinstance(raw, dict) and (m := _message(raw, tz)) is not None]
    return ParsedConversation("telegram", chat.get("name"), messages)


def text_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in value
                       if isinstance(part, str | dict))
    return ""


def _when(raw: dict[str, Any], tz: ZoneInfo) -> datetime | None:
    try:
        if raw.get("date_unixtime"):
            return datetime.fromtimestamp(int(raw["date_unixtime"]), UTC)
        return datetime.fromisoformat(raw["date"]).replace(tzinfo=tz).astimezone(UTC)
    except (KeyError, TypeError, ValueError):
        return None


def _message(raw: dict[str, Any], tz: ZoneInfo) -> ParsedMessage | None:
    at = _when(raw, tz)
    if at is None:
        return None
    text = text_of(raw.get("text"))
    if raw.get("type") == "service":
        action = str(raw.get("action", "")).replace("_", " ")
        actor = raw.get("actor")
        return ParsedMessage(None, at, text or " ".join(x for x in (actor, action) if x), "system")
    kind = "text"
    if raw.get("media_type") in MEDIA_KINDS:
        kind = MEDIA_KINDS[raw["media_type"]]
    elif "photo" in raw:
        kind = "photo"
    elif "file" in raw:
        kind = "file"
    if kind != "text" and not text:
        text = str(raw.get("file_name") or raw.get("file") or raw.get("photo") or kind)
    reply = raw.get("reply_to_message_id")
    return ParsedMessage(raw.get("from"), at, text, kind, edited=bool(raw.get("edited") or raw.get("edited_unixtime")),
                         forwarded_from=raw.get("forwarded_from"), reply_to=str(reply) if reply is not None else None)
