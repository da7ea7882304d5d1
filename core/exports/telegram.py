"""Telegram Desktop JSON: `result.json` of one chat, or of a whole account (`chats.list`: every chat, channels
included; one is picked by index or name, or all are read, each its own conversation).

`date_unixtime` is the true time (`date` is the exporting PC's local clock, used only as a fallback);
`text` is a string or a list of strings and entity objects, joined without separators.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.exports.model import (
    ChatSummary,
    ChooseChat,
    ExportError,
    NoSuchChat,
    ParsedConversation,
    ParsedMessage,
    check_count,
)

ChatPick = int | str | None  # an index in `chats`, a chat's name, or None (the only chat, or ask)

MEDIA_KINDS = {"voice_message": "voice", "audio_file": "voice", "video_message": "media", "video_file": "media",
               "animation": "media", "sticker": "sticker"}


def sniff(data: Any) -> bool:
    return isinstance(data, dict) and (isinstance(data.get("messages"), list)
                                       or isinstance((data.get("chats") or {}).get("list"), list))


def chats(data: dict[str, Any]) -> tuple[ChatSummary, ...]:
    """The chats of an account export that hold messages (a one-chat export: that chat)."""
    return tuple(ChatSummary(i, _name(chat, i), str(chat.get("type") or "chat"), len(chat["messages"]))
                 for i, chat in enumerate(_chat_list(data)) if chat["messages"])


def parse(data: dict[str, Any], tz: ZoneInfo, chat: ChatPick = None) -> ParsedConversation:
    """One chat: the export's only one, or the one `chat` picks; `ChooseChat` when there are several to pick from."""
    listed = _chat_list(data)
    summaries = chats(data)
    if not summaries:
        raise ExportError("no_messages", "the export holds no chats with messages")
    if chat is None:
        if len(summaries) > 1:
            raise ChooseChat(summaries)
        return _conversation(listed[summaries[0].index], summaries[0].name, tz, _owner(data))
    picked = _pick(summaries, chat)
    return _conversation(listed[picked.index], picked.name, tz, _owner(data))


def parse_all(data: dict[str, Any], tz: ZoneInfo) -> list[ParsedConversation]:
    """Every chat that holds messages, each its own conversation."""
    listed = _chat_list(data)
    summaries = chats(data)
    check_count(sum(summary.messages for summary in summaries))
    return [_conversation(listed[summary.index], summary.name, tz, _owner(data)) for summary in summaries]


def _owner(data: dict[str, Any]) -> dict[str, Any] | None:
    owner = data.get("personal_information")
    return owner if isinstance(owner, dict) else None


def _chat_list(data: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(data.get("messages"), list):
        return [data]
    listed = (data.get("chats") or {}).get("list") or []
    return [c if isinstance(c, dict) and isinstance(c.get("messages"), list) else {"messages": []} for c in listed]


def _name(chat: dict[str, Any], index: int) -> str:
    name = chat.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    return "Saved Messages" if chat.get("type") == "saved_messages" else f"#{chat.get('id', index)}"


def _pick(summaries: tuple[ChatSummary, ...], chat: int | str) -> ChatSummary:
    if isinstance(chat, int):
        for summary in summaries:
            if summary.index == chat:
                return summary
        raise NoSuchChat(str(chat), summaries)
    wanted = " ".join(chat.split()).casefold()
    for exact in (True, False):
        found = [s for s in summaries if (s.name == chat.strip() if exact else s.name.casefold() == wanted)]
        if len(found) == 1:
            return found[0]
    found = [s for s in summaries if wanted and wanted in s.name.casefold()]
    if len(found) == 1:
        return found[0]
    raise NoSuchChat(chat, summaries)


def _conversation(chat: dict[str, Any], name: str, tz: ZoneInfo, owner: dict[str, Any] | None = None
                  ) -> ParsedConversation:
    check_count(len(chat["messages"]))
    messages = [m for raw in chat["messages"] if isinstance(raw, dict) and (m := _message(raw, tz)) is not None]
    conversation = ParsedConversation("telegram", name if isinstance(chat.get("name"), str) else None, messages)
    conversation.exporter = _exporter(owner, conversation.participants) if owner else None
    return conversation


def _exporter(owner: dict[str, Any], participants: list[str]) -> str | None:
    """The account owner (`personal_information` of an account export) as the chat names them."""
    first, last = str(owner.get("first_name") or "").strip(), str(owner.get("last_name") or "").strip()
    forms = {f"{first} {last}".strip(), f"{last}{first}", f"{last} {first}".strip(), first}
    found = [p for p in participants if p in forms]
    return found[0] if found else None


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
