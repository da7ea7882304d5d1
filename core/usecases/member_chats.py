"""Where the bot reaches a member on its own: their most recently linked private chat."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select

from core.chat import ChatRef
from core.models import ChatIdentity, Member
from core.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class MemberChat:
    chat: ChatRef
    language: str
    timezone: str


def private_chat(uow: UnitOfWork, member_id: int, platforms: Sequence[str]) -> MemberChat | None:
    """The active member's newest chat among `platforms`, with their language and zone; None for a removed member or one
    with no chat there."""
    member = uow.session.get(Member, member_id)
    if member is None or not member.active:
        return None
    identity = uow.session.exec(
        select(ChatIdentity).where(ChatIdentity.member_id == member_id,
                                   col(ChatIdentity.platform).in_(list(platforms)))
        .order_by(col(ChatIdentity.id).desc()).limit(1)).first()
    if identity is None:
        return None
    return MemberChat(ChatRef(identity.platform, identity.chat_id), member.language, member.timezone)
