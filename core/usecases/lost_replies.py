"""Replies that never reached the member (the adapter's retries spent): remembered, and owned up to at their next
message, so they know the earlier note was stored and need not send it again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select

from core.models import Notice
from core.services.actor import Actor
from core.services.teams import member_for
from core.uow import UnitOfWork

KIND = "lost_reply"


def record_lost_reply(uow: UnitOfWork, platform: str, platform_user_id: str, update_key: str, now: datetime) -> bool:
    """Remember that the answer to `update_key` was lost; False for a stranger or a repeat."""
    member = member_for(uow.session, platform, platform_user_id)
    if member is None or member.id is None:
        return False
    key = f"lost:{platform}:{update_key}"[:200]
    if uow.session.exec(select(Notice.id).where(Notice.member_id == member.id, Notice.key == key)).first():
        return False
    uow.session.add(Notice(team_id=member.team_id, member_id=member.id, key=key, kind=KIND, status="pending",
                           created_at=now))
    uow.session.flush()
    return True


def take_lost_replies(uow: UnitOfWork, actor: Actor, now: datetime) -> int:
    """How many answers this member missed since they last heard from us; they are told now (marked sent)."""
    pending = list(uow.session.exec(select(Notice.id).where(Notice.member_id == actor.member_id, Notice.kind == KIND,
                                                            Notice.status == "pending")))
    if pending:
        uow.session.execute(update(Notice).where(col(Notice.id).in_(pending))
                            .values(status="sent", sent_at=now).execution_options(synchronize_session=False))
    return len(pending)
