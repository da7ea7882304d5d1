"""Who may see a customer: the actor's own role rules (`Actor.customer_filter`) plus the access a colleague's
customer was granted to them (`CustomerAccess`), and the requests for it."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from core.models import Customer, CustomerAccess, Member, Role, utcnow
from core.services import audit
from core.services.actor import Actor

REQUESTED, GRANTED, DECLINED = "requested", "granted", "declined"


def visible_filter(actor: Actor) -> ColumnElement[bool]:
    """Customers the actor sees: `Actor.customer_filter()` or granted to them."""
    if actor.sees_whole_team:
        return actor.customer_filter()
    granted = select(CustomerAccess.customer_id).where(col(CustomerAccess.member_id) == actor.member_id,
                                                       col(CustomerAccess.status) == GRANTED)
    return or_(actor.customer_filter(),
               (col(Customer.team_id) == actor.team_id) & col(Customer.id).in_(granted))


def can_see(session: Session, actor: Actor, customer: Customer) -> bool:
    if actor.can_see(customer):
        return True
    if customer.team_id != actor.team_id:
        return False
    row = access_of(session, customer.id or 0, actor.member_id)
    return row is not None and row.status == GRANTED


def access_of(session: Session, customer_id: int, member_id: int) -> CustomerAccess | None:
    return session.exec(select(CustomerAccess).where(CustomerAccess.customer_id == customer_id,
                                                     CustomerAccess.member_id == member_id)).first()


def may_decide(actor: Actor, customer: Customer) -> bool:
    """The customer's owner, or an owner or manager of the team."""
    return customer.team_id == actor.team_id and (actor.sees_whole_team or customer.owner_id == actor.member_id)


def request(session: Session, actor: Actor, customer: Customer) -> tuple[CustomerAccess, bool]:
    """Ask for access to a colleague's customer; False when asked (or decided) already and not declined."""
    row = access_of(session, customer.id or 0, actor.member_id)
    if row is not None and row.status != DECLINED:
        return row, False
    if row is None:
        row = CustomerAccess(team_id=actor.team_id, customer_id=customer.id or 0, member_id=actor.member_id)
    row.status, row.requested_at, row.decided_by, row.decided_at = REQUESTED, utcnow(), None, None
    session.add(row)
    session.flush()
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="request", entity=row,
                 after=audit.snapshot(row))
    return row, True


def decide(session: Session, actor: Actor, row: CustomerAccess, grant: bool) -> bool:
    """Grant or decline a pending request; False when it was decided already."""
    if row.status != REQUESTED:
        return False
    before = audit.snapshot(row)
    row.status, row.decided_by, row.decided_at = (GRANTED if grant else DECLINED), actor.member_id, utcnow()
    session.add(row)
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="grant" if grant else "decline",
                 entity=row, before=before, after=audit.snapshot(row))
    return True


def approvers(session: Session, customer: Customer, requester_id: int) -> list[Member]:
    """Who may decide a request: the customer's owner first, then the team's owners and managers."""
    members = session.exec(select(Member).where(Member.team_id == customer.team_id, col(Member.active).is_(True),
                                                 col(Member.id) != requester_id)
                           .order_by(col(Member.id))).all()
    managers = [m for m in members if m.role in (Role.owner.value, Role.manager.value)]
    owner = [m for m in members if m.id == customer.owner_id]
    return list({m.id: m for m in [*owner, *managers]}.values())
