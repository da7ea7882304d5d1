"""Access to a colleague's customer: a member asks, the customer's owner or a manager approves or declines.

A note about a customer someone else owns is still stored on that customer (one customer per company per
team); seeing the customer's history takes access. `request_access` and `decide_access` publish
`AccessRequested`; once committed, the chat layer fetches `access_messages` and sends each (the request
with Approve / Decline to the deciders, the answer to the requester).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.chat import ChatRef
from core.models import Customer, CustomerAccess, Member
from core.services import customer_access
from core.services import customers as customer_service
from core.services.actor import Actor
from core.services.errors import NotFound
from core.uow import UnitOfWork
from core.usecases.member_chats import private_chat
from core.usecases.views import CustomerRef


@dataclass(frozen=True, slots=True)
class AccessRequested:
    """A request for access was made or decided (`request_id`): its messages may go out now.

    Delivered with `access_messages(uow, event.request_id, platforms)` and a send of each."""

    request_id: int


class AccessStatus(StrEnum):
    REQUESTED = "requested"  # asked now: the deciders hear of it
    PENDING = "pending"  # asked before and not decided yet: nothing new is sent
    SEES = "sees"  # the member sees the customer already (their own, shared, granted, or a manager)
    GRANTED = "granted"
    DECLINED = "declined"
    DECIDED = "decided"  # decided before (a second press): `request.status` says how
    NOT_ALLOWED = "not_allowed"  # only the customer's owner or a manager decides


@dataclass(frozen=True, slots=True)
class AccessRequestView:
    id: int
    customer: CustomerRef
    requester: str
    owner: str
    status: str  # requested | granted | declined
    decided_by: str | None = None


@dataclass(frozen=True, slots=True)
class AccessResult:
    status: AccessStatus
    request: AccessRequestView | None = None
    customer: CustomerRef | None = None


@dataclass(frozen=True, slots=True)
class AccessMessage:
    """One message the bot sends on its own: `kind` "ask" (to a decider) or the decision (to the requester)."""

    to: ChatRef
    language: str
    timezone: str
    kind: str  # ask | granted | declined
    request: AccessRequestView


def request_access(uow: UnitOfWork, actor: Actor, now: datetime, customer_id: int) -> AccessResult:
    """Ask the owner (or a manager) to share a colleague's customer with the actor; asking twice sends nothing."""
    session = uow.session
    customer = customer_service.get_in_team(session, actor, customer_id)
    if customer_access.can_see(session, actor, customer):
        return AccessResult(AccessStatus.SEES, customer=CustomerRef(customer.id or 0, customer.name))
    row, created = customer_access.request(session, actor, customer)
    if not created:
        return AccessResult(AccessStatus.PENDING, _view(uow, row))
    uow.publish(AccessRequested(row.id or 0))  # type: ignore[arg-type]  # core.events.Event lists it (lead)
    return AccessResult(AccessStatus.REQUESTED, _view(uow, row))


def decide_access(uow: UnitOfWork, actor: Actor, now: datetime, request_id: int, grant: bool) -> AccessResult:
    """Approve (share the customer with the requester only) or decline; a second press changes nothing."""
    session = uow.session
    row = session.get(CustomerAccess, request_id)
    customer = session.get(Customer, row.customer_id) if row else None
    if row is None or customer is None or row.team_id != actor.team_id:
        raise NotFound("no such request")
    if not customer_access.may_decide(actor, customer):
        return AccessResult(AccessStatus.NOT_ALLOWED, _view(uow, row))
    if not customer_access.decide(session, actor, row, grant):
        return AccessResult(AccessStatus.DECIDED, _view(uow, row))
    uow.publish(AccessRequested(row.id or 0))  # type: ignore[arg-type]
    return AccessResult(AccessStatus.GRANTED if grant else AccessStatus.DECLINED, _view(uow, row))


def access_messages(uow: UnitOfWork, request_id: int, platforms: Sequence[str]) -> tuple[AccessMessage, ...]:
    """What to send about a request now: the request to each decider, or the decision to the requester
    (each to the member's most recently linked chat among `platforms`)."""
    session = uow.session
    row = session.get(CustomerAccess, request_id)
    customer = session.get(Customer, row.customer_id) if row else None
    if row is None or customer is None:
        return ()
    view = _view(uow, row)
    if row.status == customer_access.REQUESTED:
        to = customer_access.approvers(session, customer, row.member_id)
        kind = "ask"
    else:
        requester = session.get(Member, row.member_id)
        to, kind = ([requester] if requester else []), row.status
    messages = []
    for member in to:
        found = private_chat(uow, member.id or 0, platforms)
        if found is not None:
            messages.append(AccessMessage(found.chat, found.language, found.timezone, kind, view))
    return tuple(messages)


def _name(uow: UnitOfWork, member_id: int | None) -> str:
    member = uow.session.get(Member, member_id) if member_id else None
    return member.name if member else "?"


def _view(uow: UnitOfWork, row: CustomerAccess) -> AccessRequestView:
    customer = uow.session.get(Customer, row.customer_id)
    assert customer is not None
    return AccessRequestView(row.id or 0, CustomerRef(customer.id or 0, customer.name), _name(uow, row.member_id),
                             _name(uow, customer.owner_id), row.status,
                             _name(uow, row.decided_by) if row.decided_by else None)
