"""What a handler gets: the app, one unit of work, the member and the incoming update."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.i18n import t
from core.chat import Incoming
from core.models import Member
from core.services.actor import Actor

if TYPE_CHECKING:
    from bot.bootstrap import ChatCRM


@dataclass
class Ctx:
    app: ChatCRM
    session: Session
    incoming: Incoming
    now: datetime
    member: Member | None = None
    language: str = "zh-Hant"
    after_commit: list = field(default_factory=list)  # callables run once the unit of work committed

    @property
    def actor(self) -> Actor:
        assert self.member is not None, "handler needs a registered member"
        return Actor.of(self.member)

    @property
    def tz(self) -> str:
        return self.member.timezone if self.member else self.app.settings.default_timezone

    def t(self, key: str, /, **values: object) -> str:
        return t(self.language, key, **values)
