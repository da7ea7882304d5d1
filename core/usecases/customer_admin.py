"""Fixing customers in chat: rename, merge two into one (pick, then confirm), delete (confirm). Each is audited
and idempotent: a second press finds it done and changes nothing.

Who may: the customer's owner or a team owner/manager renames and merges (merging needs both customers);
deleting is for team owners and managers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlmodel import col, func, select

from core.models import Contact, Customer, Deal, FollowUp, FollowUpStatus, Interaction
from core.services import customer_access, customer_removal
from core.services import customers as customer_service
from core.services.actor import Actor
from core.services.errors import NotFound
from core.uow import UnitOfWork
from core.usecases.views import CustomerRef

MAX_TARGETS = 6
OPEN = (FollowUpStatus.pending.value, FollowUpStatus.sent.value, FollowUpStatus.snoozed.value)


class AdminStatus(StrEnum):
    DONE = "done"
    UNCHANGED = "unchanged"  # already so (a second press, the same name)
    CONFLICT = "conflict"  # another customer has that name already: `other` (merge them instead)
    NOT_ALLOWED = "not_allowed"
    GONE = "gone"  # the customer was deleted or merged away meanwhile: `other` is where it went, if merged
    BAD_NAME = "bad_name"


@dataclass(frozen=True, slots=True)
class Holdings:
    """What a customer has: what a merge moves and a delete removes or unfiles."""

    interactions: int = 0
    contacts: int = 0
    follow_ups: int = 0
    deals: int = 0


@dataclass(frozen=True, slots=True)
class AdminResult:
    status: AdminStatus
    customer: CustomerRef | None = None
    other: CustomerRef | None = None
    holdings: Holdings = field(default_factory=Holdings)


def may_manage(actor: Actor, customer: Customer) -> bool:
    return customer.team_id == actor.team_id and (actor.sees_whole_team or customer.owner_id == actor.member_id)


def holdings(uow: UnitOfWork, actor: Actor, customer_id: int) -> AdminResult:
    """A customer the actor may manage, with what it holds (for the confirmation)."""
    customer, gone = _managed(uow, actor, customer_id)
    if gone is not None:
        return gone
    return AdminResult(AdminStatus.UNCHANGED, _ref(customer), holdings=_holdings(uow, customer.id or 0))


def merge_targets(uow: UnitOfWork, actor: Actor, customer_id: int) -> tuple[CustomerRef, ...]:
    """Whom `customer_id` may be merged into: the same company or a close name first, then recent customers."""
    session = uow.session
    customer = customer_service.get_visible(session, actor, customer_id)
    found: list[Customer] = customer_service.same_company(session, actor, customer.name)
    found += customer_service.resolve_customer(session, actor, customer.name).candidates
    found += customer_service.list_customers(session, actor, limit=MAX_TARGETS * 2)
    targets: dict[int, Customer] = {}
    for other in found:
        if other.id != customer.id and may_manage(actor, other) and customer_access.can_see(session, actor, other):
            targets.setdefault(other.id or 0, other)
    return tuple(_ref(c) for c in list(targets.values())[:MAX_TARGETS])


def merge(uow: UnitOfWork, actor: Actor, drop_id: int, keep_id: int) -> AdminResult:
    """Merge `drop` into `keep`: its notes, contacts, follow-ups, deals, files and names move; done twice,
    UNCHANGED."""
    session = uow.session
    keep, gone = _managed(uow, actor, keep_id)
    if gone is not None:
        return gone
    dropped = session.get(Customer, drop_id)
    if dropped is not None and dropped.team_id == actor.team_id and dropped.merged_into_id == keep.id:
        return AdminResult(AdminStatus.UNCHANGED, _ref(dropped), _ref(keep))
    drop, gone = _managed(uow, actor, drop_id)
    if gone is not None:
        return gone
    if drop.id == keep.id:
        return AdminResult(AdminStatus.UNCHANGED, _ref(keep), _ref(keep))
    moved = _holdings(uow, drop.id or 0)
    drop_ref = _ref(drop)
    kept, _, _ = customer_removal.merge(session, actor, keep.id or 0, drop.id or 0)
    return AdminResult(AdminStatus.DONE, drop_ref, _ref(kept), moved)


def rename(uow: UnitOfWork, actor: Actor, now: datetime, customer_id: int, new_name: str) -> AdminResult:
    """Rename a customer (the old name still finds it); a name another customer has is a CONFLICT."""
    session = uow.session
    customer, gone = _managed(uow, actor, customer_id)
    if gone is not None:
        return gone
    name = " ".join(new_name.split())
    if not name or len(name) > customer_service.MAX_NAME or name.startswith("/"):
        return AdminResult(AdminStatus.BAD_NAME, _ref(customer))
    if name == customer.name:
        return AdminResult(AdminStatus.UNCHANGED, _ref(customer))
    other = customer_service.same_name(session, actor.team_id, name)
    if other is None:  # another customer of the same company (`Initech Inc.` while `Initech` exists): merge instead
        other = next((c for c in customer_service.same_company(session, actor, name) if c.id != customer.id), None)
    if other is not None and other.id != customer.id:
        return AdminResult(AdminStatus.CONFLICT, _ref(customer), _ref(other))
    renamed = customer_service.rename_customer(session, actor, customer.id or 0, name)
    return AdminResult(AdminStatus.DONE, _ref(renamed))


def delete(uow: UnitOfWork, actor: Actor, now: datetime, customer_id: int) -> AdminResult:
    """Delete a customer (team owners and managers): its contacts, names, deals and files go; its notes and
    follow-ups stay, without a customer. Deleted already: GONE."""
    session = uow.session
    customer, gone = _managed(uow, actor, customer_id)
    if gone is not None:
        return gone
    if not actor.sees_whole_team:
        return AdminResult(AdminStatus.NOT_ALLOWED, _ref(customer))
    held, ref = _holdings(uow, customer.id or 0), _ref(customer)
    customer_removal.delete_customer(session, actor, customer.id or 0)
    return AdminResult(AdminStatus.DONE, ref, holdings=held)


def _managed(uow: UnitOfWork, actor: Actor, customer_id: int) -> tuple[Customer, AdminResult | None]:
    """The customer if the actor may manage it, else (a placeholder, the result to answer with)."""
    session = uow.session
    customer = session.get(Customer, customer_id)
    if customer is None or customer.team_id != actor.team_id:
        return Customer(team_id=actor.team_id, name="", name_key=""), AdminResult(AdminStatus.GONE)
    if customer.merged_into_id is not None:
        into = session.get(Customer, customer.merged_into_id)
        return customer, AdminResult(AdminStatus.GONE, _ref(customer), _ref(into) if into else None)
    if not customer_access.can_see(session, actor, customer):
        raise NotFound("no such customer")
    if not may_manage(actor, customer):
        return customer, AdminResult(AdminStatus.NOT_ALLOWED, _ref(customer))
    return customer, None


def _holdings(uow: UnitOfWork, customer_id: int) -> Holdings:
    session = uow.session

    def count(model: type[Interaction] | type[Contact] | type[FollowUp] | type[Deal], *where: object) -> int:
        return int(session.exec(select(func.count()).select_from(model)
                                .where(col(model.customer_id) == customer_id, *where)).one())  # type: ignore[arg-type]
    return Holdings(count(Interaction, col(Interaction.deleted_at).is_(None)), count(Contact),
                    count(FollowUp, col(FollowUp.status).in_(OPEN)), count(Deal))


def _ref(customer: Customer) -> CustomerRef:
    return CustomerRef(customer.id or 0, customer.name)
