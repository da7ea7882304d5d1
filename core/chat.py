"""Platform-neutral chat boundary types shared by adapters and the bot layer.

Every text field of an inbound type is made storable on construction (`core.text.storable`: NUL and other
control characters removed, lone surrogates replaced), so whatever an adapter translates can be kept by either
database; this is the one inbound place.

Reply text uses a tiny HTML subset (`<b>`, `<i>`, `<code>`, `<a href>`) with every user-supplied
string escaped by `html.escape`: Telegram sends it as HTML, Slack converts the tags to mrkdwn
(its escaping of `& < >` is the same), the console strips them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from core.text import storable

MAX_PAYLOAD_BYTES = 64  # Telegram's callback_data limit; Slack allows more, we keep one rule.


def _clean(value: Any, *names: str) -> None:
    """Make the named text fields of a frozen inbound value storable (in place, before anyone reads them)."""
    for name in names:
        text = getattr(value, name)
        if isinstance(text, str):
            cleaned = storable(text)
            if cleaned is not text:
                object.__setattr__(value, name, cleaned)
        elif isinstance(text, tuple) and any(isinstance(t, str) for t in text):
            object.__setattr__(value, name, tuple(storable(t) if isinstance(t, str) else t for t in text))


@dataclass(frozen=True, slots=True)
class ChatRef:
    """Where to answer or nudge; round-trips through a string (`telegram:12345`, `slack:D1:T9.2`)."""

    platform: str
    chat_id: str
    thread_id: str | None = None

    def __str__(self) -> str:
        base = f"{self.platform}:{self.chat_id}"
        return f"{base}:{self.thread_id}" if self.thread_id else base

    @classmethod
    def parse(cls, value: str) -> ChatRef:
        platform, _, rest = value.partition(":")
        if not platform or not rest:
            raise ValueError(f"not a chat reference: {value!r}")
        chat_id, _, thread = rest.partition(":")
        return cls(platform, chat_id, thread or None)


@dataclass(frozen=True, slots=True)
class Sender:
    """The person who sent an update, as the platform names them."""

    platform_user_id: str
    display_name: str
    username: str | None = None
    language_code: str | None = None
    workspace_id: str | None = None  # Slack team id; None elsewhere
    timezone: str | None = None  # the IANA zone the platform knows for them (Slack users.info `tz`)

    def __post_init__(self) -> None:
        _clean(self, 'display_name', 'username', 'language_code', 'timezone')


@dataclass(frozen=True, slots=True)
class ForwardOrigin:
    """Who originally wrote a forwarded message (Telegram forward_origin, Slack shortcut)."""

    kind: str  # user | hidden_user | chat | channel | slack_message
    name: str | None = None
    platform_user_id: str | None = None
    sent_at: datetime | None = None

    def __post_init__(self) -> None:
        _clean(self, 'name')


@dataclass(frozen=True, slots=True)
class Envelope:
    chat: ChatRef
    sender: Sender
    message_id: str
    sent_at: datetime
    forwarded: ForwardOrigin | None = None
    is_group: bool = False
    update_id: str | None = None  # the platform's delivery id, for idempotency


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the adapter can download through its own SDK (`Messenger.download`)."""

    platform: str
    file_id: str
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    duration: float | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        _clean(self, 'file_name', 'mime_type')


@dataclass(frozen=True, slots=True)
class TextIn:
    env: Envelope
    text: str

    def __post_init__(self) -> None:
        _clean(self, 'text')


@dataclass(frozen=True, slots=True)
class CommandIn:
    env: Envelope
    command: str  # without slash, lower case: "start", "c", "find"
    args: str = ""

    def __post_init__(self) -> None:
        _clean(self, 'command', 'args')


@dataclass(frozen=True, slots=True)
class VoiceIn:
    env: Envelope
    attachment: Attachment


@dataclass(frozen=True, slots=True)
class FileIn:
    env: Envelope
    attachment: Attachment
    caption: str = ""

    def __post_init__(self) -> None:
        _clean(self, 'caption')


@dataclass(frozen=True, slots=True)
class ContactIn:
    """A shared phone contact card."""

    env: Envelope
    name: str
    phone: str | None = None
    platform_user_id: str | None = None
    company: str | None = None  # vCard ORG
    title: str | None = None  # vCard TITLE
    email: str | None = None  # vCard EMAIL
    phones: tuple[str, ...] = ()  # every number of the card (vCard TEL), `phone` first

    def __post_init__(self) -> None:
        _clean(self, 'name', 'phone', 'company', 'title', 'email', 'phones')


@dataclass(frozen=True, slots=True)
class EditedIn:
    """The member edited a message they sent before (Telegram `edited_message`, Slack `message_changed`):
    `env.message_id` is the original message's id, `text` its new text."""

    env: Envelope
    text: str

    def __post_init__(self) -> None:
        _clean(self, 'text')


@dataclass(frozen=True, slots=True)
class ButtonIn:
    env: Envelope  # env.message_id is the message that carries the button
    payload: str
    callback_id: str | None = None
    addressee: str | None = None  # platform user id the message with the button was addressed to (groups)

    def __post_init__(self) -> None:
        _clean(self, 'payload', 'callback_id')


Incoming = TextIn | CommandIn | VoiceIn | FileIn | ContactIn | ButtonIn | EditedIn


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    payload: str

    def __post_init__(self) -> None:
        if len(self.payload.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"button payload over {MAX_PAYLOAD_BYTES} bytes: {self.payload!r}")


@dataclass(frozen=True, slots=True)
class OutFile:
    name: str
    data: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bot says. `edit=True` asks the adapter to replace the message a button was pressed on."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    image: OutFile | None = None
    file: OutFile | None = None
    edit: bool = False
    notice: str | None = None  # a short toast for a button press (Telegram answerCallbackQuery text)
    extra: dict = field(default_factory=dict, compare=False)
    # for the sender's eyes only: the adapter sends it to their private chat with the bot (Telegram: the
    # user's own chat id), not to the group or channel the update came from
    private: bool = False
    # this reply points to private replies sent just before it; when they could not be delivered (the member
    # never opened a private chat with the bot), the adapter sends this text instead (e.g. a deep link)
    private_unreachable: str | None = None


@dataclass(frozen=True, slots=True)
class CommandStyle:
    """How commands are written on a platform; the bot's one routing table does the rest.

    `prefix` starts a command (`/todo` on Telegram); with `bare_words` a message whose first word is a
    command name is that command (Slack DMs: `todo`, `digest 07:45`); `alternative` is a second way to
    write it that help texts may mention (`/crm todo`)."""

    prefix: str = "/"
    bare_words: bool = False
    alternative: str | None = None  # e.g. "/crm " on Slack

    def written(self, name: str) -> str:
        return f"{self.prefix}{name}"


class StartLinks(Protocol):
    """A messenger that can link to a private chat with the bot (Telegram: `https://t.me/<bot>?start=CODE`)."""

    def start_link(self, payload: str = "") -> str | None: ...


SLASH_COMMANDS = CommandStyle()


class IncomingHandler(Protocol):
    """What an adapter calls for every update; the returned replies answer in the same chat."""

    async def __call__(self, incoming: Incoming) -> Sequence[Reply]: ...


class UndeliveredHandler(Protocol):
    """What an adapter calls when the replies to `incoming` could not be delivered, the retry policy spent
    (the update's effects are committed: the bot tells the member at their next message)."""

    async def __call__(self, incoming: Incoming, replies: Sequence[Reply]) -> None: ...
