"""Who wrote: the member behind a chat identity (and, since they wrote, their nudges resume); a removed member's
identity is nobody's member any more and is told so (`former_member`)."""

from __future__ import annotations

from dataclasses import dataclass

from core.scheduling.dispatch import mark_reachable
from core.services import membership
from core.services.actor import Actor
from core.services.teams import member_for
from core.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class FormerMember:
    """Someone removed from a team: what the refusal says and in which language."""

    team_name: str
    language: str


def who_wrote(uow: UnitOfWork, platform: str, platform_user_id: str) -> Actor | None:
    """The active member for this platform identity, or None (a stranger, or someone removed from the team)."""
    member = member_for(uow.session, platform, platform_user_id)
    if member is None or not member.active:
        return None
    if member.unreachable_since is not None:
        mark_reachable(uow.session, member.id or 0)  # they wrote to us: nudges resume
    return Actor.of(member)


def former_member(uow: UnitOfWork, platform: str, platform_user_id: str) -> FormerMember | None:
    """The team this identity was removed from, or None (a member, or a stranger). Reads only."""
    found = membership.former_member(uow.session, platform, platform_user_id)
    if found is None:
        return None
    member, team = found
    return FormerMember(team.name, member.language)
