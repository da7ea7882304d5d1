"""The customer pool (公海) over a Session: which customers are in it, idle, warned; the guarded writes that move a
customer in and out of it (each one conditional UPDATE, so two processes or two members never do it twice).

A customer is in its team's pool when it has no owner and `pooled_at` is set; `pooled_at`, `pooled_from_id`,
`assigned_at` and `claimed_by_id` stay after a claim as its pool history (the card shows them). Its idle period
starts at the later of its last interaction (its creation when it has none) and its assignment from the pool.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, update
from sqlmodel import Session, col, select

from core.models import Customer, Deal, FollowUp, FollowUpStatus, Member, Team
from core.services import audit

CLAIM_WINDOW = timedelta(days=7)  # the per-person claim limit counts claims in this window
MIN_DAYS, MAX_DAYS = 7, 365
MAX_WARN_DAYS = 30
MAX_LIMIT = 100
OPEN_FOLLOW_UPS = (FollowUpStatus.pending.value, FollowUpStatus.sent.value, FollowUpStatus.snoozed.value)


def in_pool(customer: Customer) -> bool:
    return customer.owner_id is None and customer.pooled_at is not None and customer.merged_into_id is None


def pooled_filter(team_id: int) -> ColumnElement[bool]:
    """The team's live customers in the pool."""
    return and_(col(Customer.team_id) == team_id, col(Customer.owner_id).is_(None),
                col(Customer.pooled_at).is_not(None), col(Customer.merged_into_id).is_(None))


def idle_since_before(cutoff: datetime) -> ColumnElement[bool]:
    """No interaction (or, without any, no creation) and no assignment after `cutoff`."""
    last = col(Customer.last_interaction_at)
    return and_(or_(last <= cutoff, last.is_(None) & (col(Customer.created_at) <= cutoff)),
                or_(col(Customer.assigned_at).is_(None), col(Customer.assigned_at) <= cutoff))


def warned_this_period() -> ColumnElement[bool]:
    """The owner was warned after the customer's idle period began (so not again for it)."""
    warned, last = col(Customer.pool_warned_at), col(Customer.last_interaction_at)
    return and_(warned.is_not(None), or_(warned >= last, last.is_(None) & (warned >= col(Customer.created_at))),
                or_(col(Customer.assigned_at).is_(None), warned >= col(Customer.assigned_at)))


def returnable(team: Team) -> ColumnElement[bool]:
    """Owned, live customers the pool may take: important customers never return."""
    return and_(col(Customer.team_id) == team.id, col(Customer.owner_id).is_not(None),
                col(Customer.merged_into_id).is_(None), col(Customer.important).is_(False))


def due_for_warning(session: Session, team: Team, cutoff: datetime) -> list[Customer]:
    """Customers idle since before `cutoff` whose owner was not warned in this idle period, oldest first."""
    return list(session.exec(select(Customer).where(returnable(team), idle_since_before(cutoff),
                                                    ~warned_this_period()).order_by(col(Customer.id))))


def due_for_return(session: Session, team: Team, now: datetime) -> list[Customer]:
    """Customers idle for the team's pool days whose owner was warned at least its warning days ago."""
    idle_cutoff = now - timedelta(days=team.pool_days)
    warned_cutoff = now - timedelta(days=team.pool_warn_days)
    return list(session.exec(select(Customer).where(returnable(team), idle_since_before(idle_cutoff),
                                                    warned_this_period(),
                                                    col(Customer.pool_warned_at) <= warned_cutoff)
                             .order_by(col(Customer.id))))


def mark_warned(session: Session, team: Team, customer: Customer, cutoff: datetime, now: datetime) -> bool:
    """Record the warning for this idle period; False when another process (or run) did it first."""
    done = session.execute(update(Customer).where(col(Customer.id) == customer.id, returnable(team),
                                                  col(Customer.owner_id) == customer.owner_id,
                                                  idle_since_before(cutoff), ~warned_this_period())
                           .values(pool_warned_at=now).execution_options(synchronize_session=False))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(customer)
    audit.record(session, team_id=customer.team_id, actor_id=None, action="pool_warn", entity=customer,
                 after={"owner_id": customer.owner_id, "pool_warned_at": now.isoformat()})
    return True


def take_into_pool(session: Session, team: Team, customer: Customer, now: datetime) -> int | None:
    """Return the customer to the pool (its owner cleared); the former owner's id, or None when it is no longer
    due (a note arrived, it was marked important, another process returned it)."""
    owner_id = customer.owner_id
    idle_cutoff = now - timedelta(days=team.pool_days)
    warned_cutoff = now - timedelta(days=team.pool_warn_days)
    done = session.execute(update(Customer).where(col(Customer.id) == customer.id, returnable(team),
                                                  col(Customer.owner_id) == owner_id,
                                                  idle_since_before(idle_cutoff), warned_this_period(),
                                                  col(Customer.pool_warned_at) <= warned_cutoff)
                           .values(owner_id=None, pooled_at=now, pooled_from_id=owner_id, updated_at=now)
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1 or owner_id is None:  # type: ignore[attr-defined]
        return None
    session.refresh(customer)
    audit.record(session, team_id=customer.team_id, actor_id=None, action="pool_return", entity=customer,
                 before={"owner_id": owner_id}, after={"owner_id": None, "pooled_at": now.isoformat()})
    _cancel_follow_ups(session, customer, now)
    _clear_deal_owners(session, customer, owner_id, now)
    return owner_id


def _cancel_follow_ups(session: Session, customer: Customer, now: datetime) -> None:
    """Its open follow-ups are cancelled: nobody is to be nudged about a customer nobody owns (each event names
    the customer, so its history shows what was cancelled)."""
    rows = session.exec(select(FollowUp.id, FollowUp.status, FollowUp.action, FollowUp.due_at)
                        .where(FollowUp.customer_id == customer.id, col(FollowUp.status).in_(OPEN_FOLLOW_UPS))).all()
    for follow_up_id, status, action, due_at in rows:
        done = session.execute(update(FollowUp).where(col(FollowUp.id) == follow_up_id,
                                                      col(FollowUp.status).in_(OPEN_FOLLOW_UPS))
                               .values(status=FollowUpStatus.cancelled.value, claimed_by=None, claimed_until=None,
                                       updated_at=now).execution_options(synchronize_session=False))
        if done.rowcount == 1:  # type: ignore[attr-defined]
            audit.record(session, team_id=customer.team_id, actor_id=None, action="cancel", entity="followup",
                         entity_id=follow_up_id, customer_id=customer.id,
                         before={"status": status, "action": action, "due_at": due_at.isoformat()},
                         after={"status": FollowUpStatus.cancelled.value, "reason": "pool_return"})


def _clear_deal_owners(session: Session, customer: Customer, owner_id: int, now: datetime) -> None:
    """Its open deals stay with the customer, without an owner, until someone claims it."""
    for deal in session.exec(select(Deal).where(Deal.customer_id == customer.id, col(Deal.closed_at).is_(None),
                                                col(Deal.owner_id).is_not(None))):
        before = deal.owner_id
        deal.owner_id, deal.updated_at = None, now
        session.add(deal)
        audit.record(session, team_id=customer.team_id, actor_id=None, action="pool_return", entity=deal,
                     before={"owner_id": before}, after={"owner_id": None})
    session.flush()


def give(session: Session, customer: Customer, member_id: int, now: datetime, *, actor_id: int,
         claimed: bool) -> bool:
    """Make `member_id` the owner of a pool customer (a claim when `claimed`, else an assignment by `actor_id`);
    False when it is no longer in the pool (another member was faster)."""
    done = session.execute(update(Customer).where(col(Customer.id) == customer.id,
                                                  pooled_filter(customer.team_id))
                           .values(owner_id=member_id, assigned_at=now, claimed_by_id=member_id if claimed else None,
                                   pool_warned_at=None, updated_at=now)
                           .execution_options(synchronize_session=False))
    session.refresh(customer)
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return False
    audit.record(session, team_id=customer.team_id, actor_id=actor_id, action="claim" if claimed else "assign",
                 entity=customer, before={"owner_id": None},
                 after={"owner_id": member_id, "assigned_at": now.isoformat()})
    for deal in session.exec(select(Deal).where(Deal.customer_id == customer.id, col(Deal.closed_at).is_(None),
                                                col(Deal.owner_id).is_(None))):
        deal.owner_id, deal.updated_at = member_id, now
        session.add(deal)
        audit.record(session, team_id=customer.team_id, actor_id=actor_id, action="update", entity=deal,
                     before={"owner_id": None}, after={"owner_id": member_id})
    session.flush()
    return True


def lock_member(session: Session, member_id: int) -> None:
    """Hold the member's row until the commit (PostgreSQL), so two claims of one member count one after the
    other; SQLite writes one transaction at a time anyway."""
    session.exec(select(Member.id).where(Member.id == member_id).with_for_update()).first()


def claims_since(session: Session, member_id: int, since: datetime) -> list[datetime]:
    """When the member claimed the customers they claimed from the pool since `since`, oldest first."""
    return list(session.exec(select(Customer.assigned_at).where(col(Customer.claimed_by_id) == member_id,
                                                                col(Customer.assigned_at) > since)
                             .order_by(col(Customer.assigned_at))).all())  # type: ignore[arg-type]


def pool_size(session: Session, team_id: int) -> int:
    return int(session.exec(select(func.count()).select_from(Customer).where(pooled_filter(team_id))).one())
