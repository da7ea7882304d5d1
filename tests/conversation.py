"""Drive the bot layer as a conversation: `Incoming` in, `Reply` out (no platform involved)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

from core.chat import (
    Attachment,
    ButtonIn,
    ChatRef,
    CommandIn,
    ContactIn,
    Envelope,
    FileIn,
    ForwardOrigin,
    Reply,
    Sender,
    TextIn,
    VoiceIn,
)

_ids = itertools.count(1)


class RecordingMessenger:
    """A Messenger that keeps what the bot sends on its own (nudges, summaries)."""

    def __init__(self, platform: str = "test") -> None:
        self.platform = platform
        self.sent: list[tuple[ChatRef, Reply]] = []
        self.edits: list[tuple[ChatRef, str, Reply]] = []
        self.files: dict[str, bytes] = {}

    async def send(self, to: ChatRef, reply: Reply) -> str:
        self.sent.append((to, reply))
        return f"m{len(self.sent)}"

    async def edit(self, to: ChatRef, message_id: str, reply: Reply) -> None:
        self.edits.append((to, message_id, reply))

    async def download(self, attachment: Attachment) -> bytes:
        return self.files[attachment.file_id]

    async def typing(self, to: ChatRef) -> None:
        return None


@dataclass
class Chat:
    """One user talking to the bot in a private chat."""

    app: object
    user_id: str = "u1"
    name: str = "Amy Lin"
    language: str | None = "en"
    platform: str = "test"
    workspace_id: str | None = None
    last: list[Reply] = field(default_factory=list)

    def envelope(self, *, forwarded: ForwardOrigin | None = None, message_id: str | None = None,
                 update_id: str | None = None, sent_at: datetime | None = None) -> Envelope:
        return Envelope(ChatRef(self.platform, f"dm-{self.user_id}"),
                        Sender(self.user_id, self.name, language_code=self.language, workspace_id=self.workspace_id),
                        message_id or str(next(_ids)), sent_at or self.app.clock.now(), forwarded=forwarded,
                        update_id=update_id)

    async def send(self, incoming) -> list[Reply]:
        self.last = await self.app.handle(incoming)
        return self.last

    async def say(self, text: str, **env) -> list[Reply]:
        if text.startswith("/") and len(text) > 1:
            name, _, args = text[1:].partition(" ")
            return await self.send(CommandIn(self.envelope(**env), name.lower(), args))
        return await self.send(TextIn(self.envelope(**env), text))

    async def forward(self, text: str, origin: ForwardOrigin, **env) -> list[Reply]:
        return await self.send(TextIn(self.envelope(forwarded=origin, **env), text))

    async def press(self, label: str, reply: Reply | None = None, *, message_id: str = "99") -> list[Reply]:
        """Press the button whose label contains `label` on `reply` (default: the last reply)."""
        reply = reply or self.last[-1]
        for row in reply.buttons:
            for button in row:
                if label in button.label or label == button.payload:
                    incoming = ButtonIn(self.envelope(message_id=message_id), button.payload,
                                        callback_id=str(next(_ids)))
                    return await self.send(incoming)
        labels = [b.label for row in reply.buttons for b in row]
        raise AssertionError(f"no button {label!r} in {labels}")

    async def contact(self, name: str, phone: str | None, user_id: str | None = None) -> list[Reply]:
        return await self.send(ContactIn(self.envelope(), name, phone, user_id))

    async def file(self, name: str, file_id: str, mime: str | None = None) -> list[Reply]:
        return await self.send(FileIn(self.envelope(), Attachment(self.platform, file_id, name, mime)))

    async def voice(self, file_id: str, mime: str = "audio/ogg", duration: float | None = None, **env) -> list[Reply]:
        return await self.send(VoiceIn(self.envelope(**env), Attachment(self.platform, file_id, "voice.ogg",
                                                                       mime, duration=duration)))

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.last)


async def joined(owner: Chat, user_id: str, name: str, language: str | None, role: str = "") -> Chat:
    """A new member of `owner`'s team: invited (`role` "manager" for a manager), then `/start CODE` in their own
    chat, talking in `language` (a platform language code)."""
    code = (await owner.say(f"/invite {role}".strip()))[0].text.split("<code>")[1].split("</code>")[0]
    member = Chat(owner.app, user_id, name, language, platform=owner.platform, workspace_id=owner.workspace_id)
    await member.say(f"/start {code}")
    return member

