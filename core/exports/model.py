"""What every export parser produces, and the one error type they raise."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from datetime import datetime

from core.text import storable, storable_or_none

MAX_EXPORT_BYTES = 60 * 1024 * 1024
# What a zip may expand to: each member read, and all members read together. Counted while reading in chunks
# (the sizes the archive declares are checked first, but are not trusted).
MAX_UNPACKED_FILE_BYTES = 64 * 1024 * 1024
MAX_UNPACKED_TOTAL_BYTES = 128 * 1024 * 1024
MAX_MESSAGES = 200_000  # messages in one export; parsers stop counting past it rather than build them all
READ_CHUNK = 1024 * 1024


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

    def __post_init__(self) -> None:  # what a database refuses (NUL, lone surrogates) never reaches storage
        object.__setattr__(self, "text", storable(self.text))
        for name in ("sender", "forwarded_from", "reply_to", "quoted"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, storable(value))


@dataclass
class ParsedConversation:
    format: str  # whatsapp | telegram | slack | wechat-txt | wechat-csv | pywxdump-csv
    title: str | None
    messages: list[ParsedMessage]
    participants: list[str] = field(default_factory=list)
    exporter: str | None = None  # the participant who exported the file, when the file says (the member)

    def __post_init__(self) -> None:
        self.title = storable_or_none(self.title)
        self.exporter = storable_or_none(self.exporter)
        if not self.participants:
            seen: dict[str, None] = {}
            for message in self.messages:
                if message.sender is not None and message.sender not in seen:
                    seen[message.sender] = None
            self.participants = list(seen)
        else:
            self.participants = [storable(name) for name in self.participants]


class ExportError(Exception):
    """A file that cannot be imported; `code` names why (the bot words it per language)."""

    CODES = ("empty", "unknown_format", "truncated_zip", "invalid_json", "too_large", "binary",
             "ambiguous_dates", "no_messages", "choose_chat", "no_such_chat", "too_large_unpacked",
             "too_many_messages")

    def __init__(self, code: str, message: str) -> None:
        assert code in self.CODES, code
        super().__init__(message)
        self.code = code


def too_many_messages() -> ExportError:
    return ExportError("too_many_messages", f"exports of up to {MAX_MESSAGES:,} messages are read")


def check_count(count: int) -> None:
    if count > MAX_MESSAGES:
        raise too_many_messages()


class UnpackBudget:
    """How much more a zip may expand to while it is read (`MAX_UNPACKED_TOTAL_BYTES` in all)."""

    def __init__(self, total: int = MAX_UNPACKED_TOTAL_BYTES, per_file: int = MAX_UNPACKED_FILE_BYTES) -> None:
        self.left = total
        self.per_file = per_file

    def check_declared(self, archive: zipfile.ZipFile, names: list[str]) -> None:
        """Refuse before reading when what the archive says these members hold is over a limit."""
        sizes = [archive.getinfo(name).file_size for name in names]
        if any(size > self.per_file for size in sizes) or sum(sizes) > self.left:
            raise _unpacked()

    def read(self, archive: zipfile.ZipFile, name: str) -> bytes:
        """One member, read in chunks with a counted ceiling (never more than the limits, whatever it claims)."""
        ceiling = min(self.per_file, self.left)
        if archive.getinfo(name).file_size > ceiling:
            raise _unpacked()
        data = bytearray()
        try:
            with archive.open(name) as member:
                while chunk := member.read(READ_CHUNK):
                    if len(data) + len(chunk) > ceiling:
                        raise _unpacked()
                    data += chunk
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as error:  # CRC errors: BadZipFile
            raise ExportError("truncated_zip", f"{name} in the zip is damaged: {error}") from error
        self.left -= len(data)
        return data  # a bytearray decodes like bytes, without a copy


def _unpacked() -> ExportError:
    return ExportError("too_large_unpacked", f"a zip is read up to {MAX_UNPACKED_FILE_BYTES // 2**20} MB per file "
                                             f"and {MAX_UNPACKED_TOTAL_BYTES // 2**20} MB unpacked in all")


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
