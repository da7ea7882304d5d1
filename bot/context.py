"""What a handler gets: the app's parts (`Deps`), one unit of work, the member and the incoming update."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.commands import CommandForms
from bot.i18n import t
from core.chat import SLASH_COMMANDS, CommandStyle, Incoming
from core.ports import Clock, Messenger
from core.services.actor import Actor
from core.settings import Settings
from core.uow import UnitOfWork
from core.usecases import chat_state
from core.voice.service import LazyTranscription


@dataclass
class Deps:
    """The app's long-lived parts, built once by `bot.bootstrap.build` and shared by every handler."""

    settings: Settings
    clock: Clock
    transcription: LazyTranscription
    messengers: dict[str, Messenger] = field(default_factory=dict)

    def messenger(self, platform: str) -> Messenger | None:
        return self.messengers.get(platform)

    def command_style(self, platform: str) -> CommandStyle:
        messenger = self.messengers.get(platform)
        style = getattr(messenger, "command_style", None)
        return style if isinstance(style, CommandStyle) else SLASH_COMMANDS


@dataclass
class Ctx:
    deps: Deps
    uow: UnitOfWork
    incoming: Incoming
    now: datetime
    member: Actor | None = None  # the registered member behind the update; None for a stranger
    language: str = "zh-Hant"

    @property
    def actor(self) -> Actor:
        assert self.member is not None, "handler needs a registered member"
        return self.member

    @property
    def settings(self) -> Settings:
        return self.deps.settings

    @property
    def tz(self) -> str:
        return self.member.timezone if self.member else self.deps.settings.default_timezone

    @property
    def chat_key(self) -> str:
        return str(self.incoming.env.chat)

    @property
    def commands(self) -> CommandForms:
        return CommandForms(self.deps.command_style(self.incoming.env.chat.platform))

    def t(self, key: str, /, **values: object) -> str:
        return t(self.language, key, cmd=self.commands, **values)

    # -- awaited answers (core.services.chat_state) -----------------------------------------------
    def await_answer(self, kind: str, payload: dict[str, Any], *, minutes: float = chat_state.DEFAULT_MINUTES) -> None:
        chat_state.await_answer(self.uow, self.actor, self.chat_key, self.now, kind, payload, minutes=minutes)

    def awaited(self, kind: str | None = None) -> chat_state.Awaited | None:
        if self.member is None:
            return None
        return chat_state.awaited(self.uow, self.member, self.chat_key, self.now, kind)

    def stop_waiting(self) -> None:
        if self.member is not None:
            chat_state.stop_waiting(self.uow, self.member, self.chat_key)
