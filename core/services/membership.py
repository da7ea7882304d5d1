"""Who is on a team and what each member holds: the roster's figures in three grouped queries, owners counted,
a member removed. Used by `core.usecases.team_members` and `core.usecases.members`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.models import ChatIdentity, Customer, FollowUp, Interaction, Member, Role, Team
from core.services.followups import OPEN

ROLE_ORDER = {Role.owner.value: 0, Role.manager.value: 1, Role.sales.value: 2}


@dataclass(frozen=True, slots=True)
class Holding:
    """What one member holds: customers they own, open follow-ups, when their latest note says it happened."""

    customers: int = 0
    open_follow_ups: int = 0
    last_active_at: datetime | None = None


def members_of(session: Session, team_id: int) -> list[Member]:
    """Every member of the team, removed ones included: owners, managers, sales, then by name."""
    members = session.exec(select(Member).where(Member.team_id == team_id)).all()
    return sorted(members, key=lambda m: (ROLE_ORDER.get(m.role, 9), m.name.casefold(), m.id or 0))


def holdings(session: Session, team_id: int) -> dict[int, Holding]:
    """Member id → what they hold, for the whole team (three GROUP BY queries, whatever the team's size)."""
    owned = dict(session.exec(
        select(col(Customer.owner_id), func.count())
        .where(Customer.team_id == team_id, col(Customer.owner_id).is_not(None),
               col(Customer.merged_into_id).is_(None))
        .group_by(col(Customer.owner_id))).all())
    open_ = dict(session.exec(
        select(col(FollowUp.member_id), func.count())
        .where(FollowUp.team_id == team_id, col(FollowUp.status).in_(OPEN))
        .group_by(col(FollowUp.member_id))).all())
    last = dict(session.exec(
        select(col(Interaction.member_id), func.max(Interaction.occurred_at))
        .where(Interaction.team_id == team_id, col(Interaction.deleted_at).is_(None))
        .group_by(col(Interaction.member_id))).all())
    ids = set(owned) | set(open_) | set(last)
    return {int(i): Holding(int(owned.get(i, 0)), int(open_.get(i, 0)), _aware(last.get(i))) for i in ids if i}


def _aware(at: datetime | None) -> datetime | None:
    """MAX() over a UTC column comes back naive on SQLite (the column type is bypassed by the aggregate)."""
    if at is None or at.tzinfo is not None:
        return at
    return at.replace(tzinfo=UTC)


def owners_left(session: Session, team_id: int) -> int:
    """Active owners of the team."""
    return int(session.exec(select(func.count()).select_from(Member).where(
        Member.team_id == team_id, Member.role == Role.owner.value, col(Member.active).is_(True))).one())


def customers_owned(session: Session, member_id: int) -> int:
    return int(session.exec(select(func.count()).select_from(Customer).where(
        Customer.owner_id == member_id, col(Customer.merged_into_id).is_(None))).one())


def deciders(session: Session, team_id: int, *, besides: int | None = None) -> list[Member]:
    """Active owners and managers of the team (but `besides`): who is told about a removal."""
    query = select(Member).where(Member.team_id == team_id, col(Member.active).is_(True),
                                 col(Member.role).in_([Role.owner.value, Role.manager.value]))
    return [m for m in session.exec(query.order_by(col(Member.id))) if m.id != besides]


def remove(session: Session, member: Member, *, by: int, now: datetime) -> None:
    """Mark `member` removed; their rows stay (customers wait for a handover)."""
    member.active, member.removed_at, member.removed_by = False, now, by
    session.add(member)


def former_member(session: Session, platform: str, platform_user_id: str) -> tuple[Member, Team] | None:
    """The removed member behind this chat identity, with their team; None when it is nobody's or still active."""
    row = session.exec(
        select(Member, Team).join(ChatIdentity, col(ChatIdentity.member_id) == col(Member.id))
        .join(Team, col(Team.id) == col(Member.team_id))
        .where(ChatIdentity.platform == platform, ChatIdentity.platform_user_id == platform_user_id)).first()
    if row is None or row[0].active:
        return None
    return row[0], row[1]


def team_of(session: Session, team_id: int) -> Team | None:
    return session.get(Team, team_id)
