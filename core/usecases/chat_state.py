"""What the bot waits for in a member's chat (a typed date, a customer's name…): one row per member and chat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from core.models import ChatState
from core.services.actor import Actor
from core.uow import UnitOfWork

DEFAULT_MINUTES = 15


@dataclass(frozen=True, slots=True)
class Awaited:
    """The answer the bot waits for: `kind` names the handler of the next message, `payload` its arguments."""

    kind: str
    payload: dict[str, Any]


def _row(session: Session, actor: Actor, chat: str) -> ChatState | None:
    return session.exec(select(ChatState).where(ChatState.member_id == actor.member_id,
                                                ChatState.chat == chat)).first()


def awaited(uow: UnitOfWork, actor: Actor, chat: str, now: datetime, kind: str | None = None) -> Awaited | None:
    """What the bot waits for in `chat` (of `kind`, when given), unless it expired."""
    row = _row(uow.session, actor, chat)
    if row is None or row.expires_at <= now or (kind is not None and row.kind != kind):
        return None
    return Awaited(row.kind, dict(row.payload))


def await_answer(uow: UnitOfWork, actor: Actor, chat: str, now: datetime, kind: str, payload: dict[str, Any],
                 *, minutes: float = DEFAULT_MINUTES) -> None:
    """Wait for the next message in `chat` to answer `kind` (replacing whatever was awaited there)."""
    session = uow.session
    row = _row(session, actor, chat) or ChatState(team_id=actor.team_id, member_id=actor.member_id, chat=chat,
                                                  kind=kind, expires_at=now)
    row.kind, row.payload, row.expires_at = kind, dict(payload), now + timedelta(minutes=minutes)
    session.add(row)
    session.flush()


def stop_waiting(uow: UnitOfWork, actor: Actor, chat: str) -> None:
    session = uow.session
    row = _row(session, actor, chat)
    if row is not None:
        session.delete(row)
        session.flush()
