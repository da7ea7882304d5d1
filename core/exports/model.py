"""What every export parser produces, and the one error type they raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

MAX_EXPORT_BYTES = 60 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    sender: str | None  # display name as in the export; None for system lines
    timestamp: datetime  # aware, UTC
    text: str
    kind: str = "text"  # text | system | media | deleted | voice | photo | sticker | file
    edited: bool = False
    forwarded_from: str | None = None
    reply_to: str | None = None
    quoted: str | None = None  # the message this one quotes (WeChat's 引用 block), never glued to `text`


@dataclass
class ParsedConversation:
    format: str  # whatsapp | telegram | slack | wechat-txt | wechat-csv | pywxdump-csv
    title: str | None
    messages: list[ParsedMessage]
    participants: list[str] = field(default_factory=list)
    exporter: str | None = None  # the participant who exported the file, when the file says (the member)

    def __post_init__(self) -> None:
        if not self.participants:
            seen: dict[str, None] = {}
            for message in self.messages:
                if message.sender is not None and message.sender not in seen:
                    seen[message.sender] = None
            self.participants = list(seen)


class ExportError(Exception):
    """A file that cannot be imported; `code` names why (the bot words it per language)."""

    CODES = ("empty", "unknown_format", "truncated_zip", "invalid_json", "too_large", "binary",
             "ambiguous_dates", "no_messages", "choose_chat", "no_such_chat")

    def __init__(self, code: str, message: str) -> None:
        assert code in self.CODES, code
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class ChatSummary:
    """One chat of an export that holds several (a Telegram account export): `index` picks it."""

    index: int
    name: str
    kind: str  # personal_chat | private_group | private_supergroup | public_channel | private_channel | ...
    messages: int


class ChooseChat(ExportError):
    """The export holds several chats and none was picked (`chat=` an index or a name, or all of them)."""

    def __init__(self, chats: tuple[ChatSummary, ...]) -> None:
        super().__init__("choose_chat", f"the export holds {len(chats)} chats: pick one or all of them")
        self.chats = chats


class NoSuchChat(ExportError):
    """The chat asked for is not in the export."""

    def __init__(self, wanted: str, chats: tuple[ChatSummary, ...]) -> None:
        super().__init__("no_such_chat", f"no chat named {wanted!r}; the export holds: "
                                         + ", ".join(chat.name for chat in chats))
        self.wanted = wanted
        self.chats = chats
