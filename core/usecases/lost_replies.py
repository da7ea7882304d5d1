"""Replies that never reached the member (the adapter's retries spent): kept in the reply outbox as `lost`, and
owned up to at their next message, so they know the earlier note was stored and need not send it again.

A reply stored in the outbox (an update from the inbox) is marked lost by its row; replies to an update that
stored none (not from the inbox) leave one `lost` row for the update. Either way the member is told once per
update (core.services.outbox)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.services import outbox
from core.services.actor import Actor
from core.services.teams import member_for
from core.uow import UnitOfWork


def record_lost_replies(uow: UnitOfWork, platform: str, platform_user_id: str, update_key: str,
                        stored: Sequence[int], *, unstored: bool, now: datetime) -> bool:
    """Remember that answers to `update_key` were lost (`stored`: their outbox rows; `unstored`: some were never
    stored); False for a stranger or a repeat."""
    marked = outbox.mark_lost(uow.session, stored, now) if stored else 0
    if marked or not unstored:
        return bool(marked)
    member = member_for(uow.session, platform, platform_user_id)
    if member is None or member.id is None:
        return False
    return outbox.record_lost(uow.session, platform, update_key, team_id=member.team_id, member_id=member.id,
                              now=now)


def record_lost_reply(uow: UnitOfWork, platform: str, platform_user_id: str, update_key: str, now: datetime) -> bool:
    """Replies to an update that stored none in the outbox were lost."""
    return record_lost_replies(uow, platform, platform_user_id, update_key, (), unstored=True, now=now)


def take_lost_replies(uow: UnitOfWork, actor: Actor, now: datetime) -> int:
    """How many updates' answers this member missed since they last heard from us; they are told now."""
    return outbox.take_lost(uow.session, actor.member_id, now)
