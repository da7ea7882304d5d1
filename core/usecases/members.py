"""Who wrote: the member behind a chat identity (and, since they wrote, their nudges resume)."""

from __future__ import annotations

from core.scheduling.dispatch import mark_reachable
from core.services.actor import Actor
from core.services.teams import member_for
from core.uow import UnitOfWork


def who_wrote(uow: UnitOfWork, platform: str, platform_user_id: str) -> Actor | None:
    """The registered member for this platform identity, or None for a stranger."""
    member = member_for(uow.session, platform, platform_user_id)
    if member is None:
        return None
    if member.unreachable_since is not None:
        mark_reachable(uow.session, member.id or 0)  # they wrote to us: nudges resume
    return Actor.of(member)
