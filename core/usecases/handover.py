"""Handover (離職交接 / 在職交接) and temporary cover (代理): who looks after a member's customers.

`hand_over` gives all or some of a member's customers to another active member of the team, with the giver's
open follow-ups (same due times; a nudge already sent is not sent again) and open deals on them. Only owners and
managers hand over. It is idempotent: what is no longer the giver's does not move again, and a run that moves
nothing says "already handed over". Every moved customer gets an audit event ("handover", from, to, by, ids).
After the commit the receiver gets a summary (`HandedOver`, rendered by bot.handover_messages) and the giver,
while still a member, is told (`core.events.Tell`).

A cover (`start_cover`) sends the nudges of a member's follow-ups to a colleague until the end of a date in the
absent member's zone (core.scheduling.dispatch asks `core.services.handover.recipients`); `end_cover` ends it
early and `end_due_covers` (a periodic job) ends those whose date has passed. Both members are told when a
cover starts and ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import col, select

from core.events import FollowUpsChanged, Tell
from core.models import Cover, Customer, Deal, FollowUp, Member, PipelineStage
from core.scheduling.notices import rows_changed
from core.services import audit
from core.services import handover as service
from core.services.actor import Actor
from core.services.errors import InvalidInput, NotAllowed, NotFound
from core.uow import UnitOfWork
from core.usecases.deals import read_close_date
from core.usecases.views import CustomerRef

PAGE = 8  # customers per page of the chooser


@dataclass(frozen=True, slots=True)
class MemberRef:
    id: int
    name: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class MemberChoice:
    member: MemberRef
    role: str
    customers: int


@dataclass(frozen=True, slots=True)
class FollowUpLine:
    customer: str
    action: str
    due_at: datetime
    kind: str = "followup"


@dataclass(frozen=True, slots=True)
class DealLine:
    customer: str
    title: str
    stage: str  # the stage's name in the receiver's language
    amount: Decimal | None
    currency: str | None


@dataclass(frozen=True, slots=True)
class HandedOver:
    """The summary for the receiver of a handover (delivered after the commit by bot.handover_messages)."""

    member_id: int
    giver: str
    by: str
    customers: tuple[str, ...]
    follow_ups: tuple[FollowUpLine, ...]
    deals: tuple[DealLine, ...]


class HandoverStatus(StrEnum):
    MOVED = "moved"
    ALREADY = "already"  # nothing of these is the giver's any more (a second press, a second CLI run)
    SAME = "same"  # giver and receiver are one member
    RECEIVER_GONE = "receiver_gone"  # the receiver is no longer an active member


@dataclass(frozen=True, slots=True)
class HandoverResult:
    status: HandoverStatus
    giver: MemberRef
    receiver: MemberRef
    customers: tuple[CustomerRef, ...] = ()
    follow_ups: int = 0
    deals: int = 0


@dataclass(frozen=True, slots=True)
class HandoverPlan:
    """What a handover would move (shown before the confirm button)."""

    giver: MemberRef
    receiver: MemberRef
    customers: tuple[CustomerRef, ...]
    follow_ups: int
    deals: int


def _may_hand_over(actor: Actor) -> None:
    if not actor.sees_whole_team:
        raise NotAllowed("only owners and managers hand customers over")


def _member(uow: UnitOfWork, actor: Actor, member_id: int) -> Member:
    member = uow.session.get(Member, member_id)
    if member is None or member.team_id != actor.team_id:
        raise NotFound("no such member")
    return member


def _ref(member: Member) -> MemberRef:
    return MemberRef(member.id or 0, member.name, member.active)


def _customer_refs(customers: list[Customer]) -> tuple[CustomerRef, ...]:
    return tuple(CustomerRef(c.id or 0, c.name) for c in customers)


# -- choosing ------------------------------------------------------------------------------------------
def givers(uow: UnitOfWork, actor: Actor) -> tuple[MemberChoice, ...]:
    """Members whose customers may move: removed members still owning customers first, then active members
    with customers, by name."""
    _may_hand_over(actor)
    counts = service.counts_by_owner(uow.session, actor.team_id)
    members = uow.session.exec(select(Member).where(Member.team_id == actor.team_id).order_by(col(Member.name)))
    choices = [MemberChoice(_ref(m), m.role, counts.get(m.id or 0, 0)) for m in members if counts.get(m.id or 0)]
    return tuple(sorted(choices, key=lambda c: c.member.active))


def receivers(uow: UnitOfWork, actor: Actor, giver_id: int) -> tuple[MemberChoice, ...]:
    """Active members who may receive `giver_id`'s customers."""
    _may_hand_over(actor)
    _member(uow, actor, giver_id)
    counts = service.counts_by_owner(uow.session, actor.team_id)
    members = uow.session.exec(select(Member).where(Member.team_id == actor.team_id, col(Member.active).is_(True),
                                                    Member.id != giver_id).order_by(col(Member.name)))
    return tuple(MemberChoice(_ref(m), m.role, counts.get(m.id or 0, 0)) for m in members)


def customers_of(uow: UnitOfWork, actor: Actor, giver_id: int) -> tuple[CustomerRef, ...]:
    """`giver_id`'s customers, by name."""
    _may_hand_over(actor)
    giver = _member(uow, actor, giver_id)
    return _customer_refs(service.owned_customers(uow.session, actor.team_id, giver.id or 0))


def member_named(uow: UnitOfWork, actor: Actor, name: str, *, active_only: bool = False) -> MemberRef | None:
    """The one member of the actor's team called `name` (None when nobody or several are)."""
    found = service.members_named(uow.session, actor.team_id, name, active_only=active_only)
    return _ref(found[0]) if len(found) == 1 else None


def customer_named(uow: UnitOfWork, actor: Actor, name: str) -> CustomerRef | None:
    """The one customer of the team called `name` (exact name or alias), for "transfer Acme to Bob"."""
    from core.services.customers import resolve_customer

    found = resolve_customer(uow.session, actor, name, team_wide=True)
    if found.customer is None or found.customer.owner_id is None:
        return None
    return CustomerRef(found.customer.id or 0, found.customer.name)


def owner_of(uow: UnitOfWork, actor: Actor, customer_id: int) -> MemberRef | None:
    customer = uow.session.get(Customer, customer_id)
    if customer is None or customer.team_id != actor.team_id or customer.owner_id is None:
        return None
    return _ref(_member(uow, actor, customer.owner_id))


def plan(uow: UnitOfWork, actor: Actor, giver_id: int, receiver_id: int,
         customer_ids: tuple[int, ...] | None = None) -> HandoverPlan:
    """What `hand_over` with these arguments would move now."""
    _may_hand_over(actor)
    session = uow.session
    giver, receiver = _member(uow, actor, giver_id), _member(uow, actor, receiver_id)
    customers = service.owned_customers(session, actor.team_id, giver.id or 0, customer_ids)
    ids = [c.id for c in customers]
    follow_ups = len(session.exec(select(FollowUp.id).where(col(FollowUp.customer_id).in_(ids),
                                                            FollowUp.member_id == giver.id,
                                                            col(FollowUp.status).in_(service.MOVING))).all()) if ids else 0
    deals = len(session.exec(select(Deal.id).where(col(Deal.customer_id).in_(ids), Deal.owner_id == giver.id,
                                                   col(Deal.closed_at).is_(None))).all()) if ids else 0
    return HandoverPlan(_ref(giver), _ref(receiver), _customer_refs(customers), follow_ups, deals)


# -- handing over ----------------------------------------------------------------------------------------
def hand_over(uow: UnitOfWork, actor: Actor, now: datetime, giver_id: int, receiver_id: int,
              customer_ids: tuple[int, ...] | None = None) -> HandoverResult:
    """Give `giver_id`'s customers (all, or those of `customer_ids`) to `receiver_id`; see the module doc."""
    _may_hand_over(actor)
    session = uow.session
    giver, receiver = _member(uow, actor, giver_id), _member(uow, actor, receiver_id)
    if giver.id == receiver.id:
        return HandoverResult(HandoverStatus.SAME, _ref(giver), _ref(receiver))
    if not receiver.active:
        return HandoverResult(HandoverStatus.RECEIVER_GONE, _ref(giver), _ref(receiver))
    customers = service.owned_customers(session, actor.team_id, giver.id or 0, customer_ids)
    moved = service.move(session, team_id=actor.team_id, actor_id=actor.member_id, giver=giver, receiver=receiver,
                         customers=customers, unfiled=customer_ids is None, now=now)
    if not moved.customers and not moved.follow_ups:
        return HandoverResult(HandoverStatus.ALREADY, _ref(giver), _ref(receiver))
    names = {c.id: c.name for c in moved.customers}
    by = actor.name or _name(uow, actor.member_id)
    follow_ups = tuple(FollowUpLine(names.get(f.customer_id or 0, ""), f.action, f.due_at, f.kind)
                       for f in sorted(moved.follow_ups, key=lambda f: f.due_at))
    uow.publish(HandedOver(receiver.id or 0, giver.name, by, tuple(names.values()), follow_ups,  # type: ignore[arg-type]
                           _deal_lines(uow, actor.team_id, moved, names, receiver.language)))
    if giver.active:
        uow.publish(Tell.of(giver.id or 0, "handover.yours_moved", receiver=receiver.name, by=by,
                            customers="、".join(names.values()) if giver.language.startswith("zh")
                            else ", ".join(names.values())))
    uow.publish(FollowUpsChanged())
    return HandoverResult(HandoverStatus.MOVED, _ref(giver), _ref(receiver), _customer_refs(moved.customers),
                          len(moved.follow_ups), len(moved.deals))


def _deal_lines(uow: UnitOfWork, team_id: int, moved: service.Moved, names: dict[int | None, str],
                language: str) -> tuple[DealLine, ...]:
    stages = {s.key: s for s in uow.session.exec(select(PipelineStage).where(PipelineStage.team_id == team_id))}

    def stage_name(key: str) -> str:
        stage = stages.get(key)
        return str(stage.names.get(language) or stage.names.get("en") or key) if stage else key

    return tuple(DealLine(names.get(d.customer_id, ""), d.title, stage_name(d.stage), d.amount, d.currency)
                 for d in moved.deals)


def _name(uow: UnitOfWork, member_id: int | None) -> str:
    member = uow.session.get(Member, member_id) if member_id else None
    return member.name if member else "?"


# -- cover -------------------------------------------------------------------------------------------------
class CoverStatus(StrEnum):
    STARTED = "started"
    CHANGED = "changed"  # a cover in force was replaced (another colleague or another date)
    SAME = "same"  # this very cover is in force already
    ENDED = "ended"
    NONE = "none"  # /cover off with no cover in force


@dataclass(frozen=True, slots=True)
class CoverResult:
    status: CoverStatus
    member: MemberRef
    cover: MemberRef | None = None
    until: date | None = None  # the last day covered, in the absent member's zone


def _may_cover(actor: Actor, member: Member) -> None:
    if not actor.sees_whole_team and member.id != actor.member_id:
        raise NotAllowed("only owners, managers and the member themselves arrange a cover")


def read_until(actor: Actor, now: datetime, text: str) -> date:
    """The last day of a cover: 2026-12-20, 12/20, 下週五, next Friday (InvalidInput when there is none)."""
    return read_close_date(actor, now, text)


def start_cover(uow: UnitOfWork, actor: Actor, now: datetime, member_id: int, cover_id: int,
                until: date) -> CoverResult:
    """From now until the end of `until` (the absent member's day), `cover_id` gets `member_id`'s nudges."""
    session = uow.session
    member, cover = _member(uow, actor, member_id), _member(uow, actor, cover_id)
    _may_cover(actor, member)
    if member.id == cover.id:
        raise InvalidInput("a member cannot cover themselves")
    if not member.active or not cover.active:
        raise InvalidInput("both must be active members")
    zone = ZoneInfo(member.timezone)
    if until < now.astimezone(zone).date():
        raise InvalidInput("the date has passed")
    ends_at = datetime.combine(until + timedelta(days=1), time(0), zone)
    existing = service.open_covers(session, actor.team_id, member.id or 0)
    if any(c.cover_id == cover.id and c.ends_at == ends_at for c in existing):
        return CoverResult(CoverStatus.SAME, _ref(member), _ref(cover), until)
    for old in existing:
        _end(uow, actor, old, now, tell=False)
    row = Cover(team_id=actor.team_id, member_id=member.id or 0, cover_id=cover.id or 0, starts_at=now,
                ends_at=ends_at, created_by=actor.member_id, created_at=now)
    session.add(row)
    session.flush()
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="cover", entity=row,
                 after={**(audit.snapshot(row) or {}), "member": member.name, "cover": cover.name})
    day = until.isoformat()
    for told, key in ((member, "handover.cover_started_you"), (cover, "handover.cover_started_cover")):
        if told.id != actor.member_id:
            uow.publish(Tell.of(told.id or 0, key, member=member.name, cover=cover.name, until=day))
    uow.publish(FollowUpsChanged())
    return CoverResult(CoverStatus.CHANGED if existing else CoverStatus.STARTED, _ref(member), _ref(cover), until)


def _end(uow: UnitOfWork, actor: Actor | None, row: Cover, now: datetime, *, tell: bool) -> None:
    session = uow.session
    result = session.execute(update(Cover).where(col(Cover.id) == row.id, col(Cover.ended_at).is_(None))
                             .values(ended_at=min(now, row.ends_at)))
    if rows_changed(result) != 1:  # another process ended it first
        return
    session.refresh(row)
    member, cover = session.get(Member, row.member_id), session.get(Member, row.cover_id)
    assert member is not None and cover is not None
    audit.record(session, team_id=row.team_id, actor_id=actor.member_id if actor else None, action="cover_end",
                 entity=row, after={"ended_at": row.ended_at.isoformat() if row.ended_at else None,
                                    "member": member.name, "cover": cover.name})
    if tell:
        for told, key in ((member, "handover.cover_ended_you"), (cover, "handover.cover_ended_cover")):
            if actor is None or told.id != actor.member_id:
                uow.publish(Tell.of(told.id or 0, key, member=member.name, cover=cover.name))
    uow.publish(FollowUpsChanged())


def end_cover(uow: UnitOfWork, actor: Actor, now: datetime, member_id: int) -> CoverResult:
    """`/cover off`: the member's nudges go back to them now."""
    member = _member(uow, actor, member_id)
    _may_cover(actor, member)
    rows = service.open_covers(uow.session, actor.team_id, member.id or 0)
    if not rows:
        return CoverResult(CoverStatus.NONE, _ref(member))
    cover = uow.session.get(Member, rows[-1].cover_id)
    for row in rows:
        _end(uow, actor, row, now, tell=True)
    return CoverResult(CoverStatus.ENDED, _ref(member), _ref(cover) if cover else None)


def cover_of(uow: UnitOfWork, actor: Actor, now: datetime, member_id: int) -> CoverResult:
    """The cover in force for `member_id` (status NONE when there is none)."""
    member = _member(uow, actor, member_id)
    row = service.active_cover(uow.session, member.id or 0, now)
    if row is None:
        return CoverResult(CoverStatus.NONE, _ref(member))
    cover = uow.session.get(Member, row.cover_id)
    last_day = (row.ends_at.astimezone(ZoneInfo(member.timezone)) - timedelta(days=1)).date()
    return CoverResult(CoverStatus.SAME, _ref(member), _ref(cover) if cover else None, last_day)


def end_due_covers(uow: UnitOfWork, now: datetime) -> int:
    """Periodic: end the covers whose date has passed and tell both members; returns how many ended."""
    rows = service.ending(uow.session, now)
    for row in rows:
        _end(uow, None, row, now, tell=True)
    return len(rows)
