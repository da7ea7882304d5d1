"""Handover and cover helpers over a Session: find a member by name, move a member's customers, who covers whom.

Used by core.usecases.handover (the rules and the audit) and core.scheduling.dispatch (where a nudge goes)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.models import ChatIdentity, Cover, Customer, Deal, FollowUp, FollowUpStatus, Member
from core.services import audit
from core.text import match_key

# what moves with a customer: every follow-up not closed; a `sent` one keeps its delivery bookkeeping (it was
# nudged already and is not nudged again), a pending one claimed by a dispatcher is finished by that dispatcher
MOVING = (FollowUpStatus.pending.value, FollowUpStatus.snoozed.value, FollowUpStatus.sent.value)


def members_named(session: Session, team_id: int, name: str, *, active_only: bool = False) -> list[Member]:
    """The team's members called `name` (width-, case- and script-insensitive; their chat display name too);
    an exact match first, else the ones whose name starts with it, else the ones containing it."""
    key = match_key(name)
    if not key:
        return []
    query = select(Member).where(Member.team_id == team_id)
    if active_only:
        query = query.where(col(Member.active).is_(True))
    members = list(session.exec(query.order_by(col(Member.id))))
    shown = {m.id: [m.name] for m in members}
    for identity in session.exec(select(ChatIdentity).where(ChatIdentity.team_id == team_id)):
        if identity.member_id in shown and identity.display_name:
            shown[identity.member_id].append(identity.display_name)
    keys = {m.id: [match_key(n) for n in shown[m.id]] for m in members}
    for test in (lambda k: k == key, lambda k: k.startswith(key), lambda k: key in k):
        found = [m for m in members if any(test(k) for k in keys[m.id] if k)]
        if found:
            return found
    return []


def owned_customers(session: Session, team_id: int, member_id: int,
                    customer_ids: Sequence[int] | None = None) -> list[Customer]:
    """`member_id`'s live customers (all, or those of `customer_ids` still theirs), by name."""
    query = select(Customer).where(Customer.team_id == team_id, Customer.owner_id == member_id,
                                   col(Customer.merged_into_id).is_(None))
    if customer_ids is not None:
        query = query.where(col(Customer.id).in_(list(customer_ids)))
    return list(session.exec(query.order_by(col(Customer.name), col(Customer.id))))


def counts_by_owner(session: Session, team_id: int) -> dict[int, int]:
    """Live customers per owner."""
    rows = session.exec(select(Customer.owner_id, func.count()).where(
        Customer.team_id == team_id, col(Customer.merged_into_id).is_(None), col(Customer.owner_id).is_not(None))
        .group_by(col(Customer.owner_id)))
    return {owner: int(n) for owner, n in rows if owner is not None}


@dataclass
class Moved:
    customers: list[Customer] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)


def move(session: Session, *, team_id: int, actor_id: int, giver: Member, receiver: Member,
         customers: Iterable[Customer], unfiled: bool, now: datetime) -> Moved:
    """Give `customers` (owned by `giver`) to `receiver` with `giver`'s open follow-ups and open deals on them
    (and `giver`'s follow-ups with no customer, when `unfiled`). Due times, statuses and delivery bookkeeping
    stay as they are. One audit event per customer (action "handover", with the moved ids) and per unfiled
    follow-up."""
    moved = Moved()
    names = {"from": giver.name, "to": receiver.name}
    for customer in customers:
        if customer.owner_id != giver.id:
            continue
        follow_ups = list(session.exec(select(FollowUp).where(
            FollowUp.customer_id == customer.id, FollowUp.member_id == giver.id,
            col(FollowUp.status).in_(MOVING)).order_by(col(FollowUp.due_at))))
        deals = list(session.exec(select(Deal).where(Deal.customer_id == customer.id, Deal.owner_id == giver.id,
                                                     col(Deal.closed_at).is_(None)).order_by(col(Deal.id))))
        # the pool's clock restarts for the new owner (its idle period runs from the assignment), and a claim
        # from the pool no longer counts against the giver's claim limit
        customer.owner_id, customer.assigned_at, customer.claimed_by_id = receiver.id, now, None
        customer.updated_at = now
        session.add(customer)
        for follow_up in follow_ups:
            follow_up.member_id, follow_up.updated_at = receiver.id or 0, now
            session.add(follow_up)
        for deal in deals:
            deal.owner_id, deal.updated_at = receiver.id, now
            session.add(deal)
        audit.record(session, team_id=team_id, actor_id=actor_id, action="handover", entity="customer",
                     entity_id=customer.id,
                     before={"owner_id": giver.id, "owner": giver.name},
                     after={"owner_id": receiver.id, "owner": receiver.name, **names,
                            "assigned_at": now.isoformat(),
                            "follow_up_ids": [f.id for f in follow_ups], "deal_ids": [d.id for d in deals]})
        moved.customers.append(customer)
        moved.follow_ups.extend(follow_ups)
        moved.deals.extend(deals)
    if unfiled:
        for follow_up in session.exec(select(FollowUp).where(
                FollowUp.team_id == team_id, FollowUp.member_id == giver.id, col(FollowUp.customer_id).is_(None),
                col(FollowUp.status).in_(MOVING))):
            follow_up.member_id, follow_up.updated_at = receiver.id or 0, now
            session.add(follow_up)
            audit.record(session, team_id=team_id, actor_id=actor_id, action="handover", entity=follow_up,
                         before={"member_id": giver.id}, after={"member_id": receiver.id, **names})
            moved.follow_ups.append(follow_up)
    session.flush()
    return moved


# -- cover ---------------------------------------------------------------------------------------------
def active_cover(session: Session, member_id: int, now: datetime) -> Cover | None:
    """The cover of `member_id` in force at `now` (the latest one, if several)."""
    return session.exec(select(Cover).where(Cover.member_id == member_id, col(Cover.ended_at).is_(None),
                                            col(Cover.starts_at) <= now, col(Cover.ends_at) > now)
                        .order_by(col(Cover.id).desc()).limit(1)).first()


def recipients(session: Session, member_ids: Iterable[int], now: datetime) -> dict[int, int]:
    """member id → the active colleague covering them at `now` (only members with a cover in force whose
    cover is still an active member)."""
    ids = list(set(member_ids))
    if not ids:
        return {}
    covering = aliased(Member)
    rows = session.exec(select(Cover.member_id, Cover.cover_id).join(covering, col(covering.id) == col(Cover.cover_id))
                        .where(col(Cover.member_id).in_(ids), col(Cover.ended_at).is_(None),
                               col(Cover.starts_at) <= now, col(Cover.ends_at) > now,
                               col(covering.active).is_(True))
                        .order_by(col(Cover.id)))
    return {member_id: cover_id for member_id, cover_id in rows}


def covers_for(session: Session, cover_id: int, member_id: int) -> bool:
    """Whether `cover_id` covers `member_id` (a cover not ended yet: they may act on the nudges they got)."""
    return session.exec(select(Cover.id).where(Cover.member_id == member_id, Cover.cover_id == cover_id,
                                               col(Cover.ended_at).is_(None)).limit(1)).first() is not None


def ending(session: Session, now: datetime) -> list[Cover]:
    """Covers whose date has passed and that were not ended (told) yet."""
    return list(session.exec(select(Cover).where(col(Cover.ended_at).is_(None), col(Cover.ends_at) <= now)
                             .order_by(col(Cover.id))))


def open_covers(session: Session, team_id: int, member_id: int) -> list[Cover]:
    """`member_id`'s covers not ended yet (in force or waiting for the periodic job to end them)."""
    return list(session.exec(select(Cover).where(Cover.team_id == team_id, Cover.member_id == member_id,
                                                 col(Cover.ended_at).is_(None))
                             .order_by(col(Cover.id))))
