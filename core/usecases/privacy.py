"""Privacy requests (Taiwan's 個資法, China's PIPL, Hong Kong's PDPO): a customer's or contact person's data
exported (`export_personal`), erased (`erase`), and the whole team exported (`team_export`).

Who may:
- export a customer or one of its contacts: the customer's owner, or a team owner or manager. A salesperson
  never exports a colleague's customer, shared or granted to them or not (seeing is not the right to hand it
  out);
- erase: team owners and managers only, with a reason (kept, redacted, in the one audit event of the erasure);
- export the whole team: the team's owner.
A subject named by id (a button) is checked again: another team's id is NotFound, whatever the payload says.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import col, func, select

from core.models import Contact, Customer, Deal, FollowUp, Interaction, Role
from core.services import audit, customer_access, erasure, personal_data
from core.services import customers as customer_service
from core.services.actor import Actor
from core.services.errors import InvalidInput, NotAllowed, NotFound
from core.uow import UnitOfWork
from core.usecases.views import CustomerRef

CUSTOMER, CONTACT = "customer", "contact"
MAX_REASON = 500
MAX_CANDIDATES = 8


class EraseStatus(StrEnum):
    DONE = "done"
    ALREADY = "already"  # erased before (a second press): nothing changed


@dataclass(frozen=True, slots=True)
class Subject:
    """Whose data: a customer, or one contact person of `customer`."""

    kind: str  # CUSTOMER or CONTACT
    id: int
    name: str
    customer: CustomerRef
    erased: bool = False


@dataclass(frozen=True, slots=True)
class SubjectMatch:
    subject: Subject | None
    candidates: tuple[Subject, ...] = ()


@dataclass(frozen=True, slots=True)
class PersonalExport:
    """Everything stored about a subject: rows per kind (JSON-ready dicts), the stored files' and voice clips'
    bytes by path, and how many were too large to attach."""

    subject: Subject
    sheets: tuple[tuple[str, tuple[dict[str, Any], ...]], ...]
    attachments: tuple[tuple[str, bytes], ...] = ()
    left_out: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"subject": {"kind": self.subject.kind, "id": self.subject.id, "name": self.subject.name},
                **{kind: list(rows) for kind, rows in self.sheets}}


@dataclass(frozen=True, slots=True)
class ErasePreview:
    subject: Subject
    notes: int = 0
    contacts: int = 0
    follow_ups: int = 0
    deals: int = 0


@dataclass(frozen=True, slots=True)
class Erasure:
    status: EraseStatus
    subject: Subject  # as it was before the erasure (its name for the reply; the data is gone)
    counts: tuple[tuple[str, int], ...] = ()


# -- finding the subject ---------------------------------------------------------------------------------------


def find_subject(uow: UnitOfWork, actor: Actor, name: str) -> SubjectMatch:
    """A typed name: a customer first (exact, alias, prefix, fuzzy), else a contact person of that name."""
    session = uow.session
    typed = " ".join(name.split())
    if not typed:
        return SubjectMatch(None)
    resolution = customer_service.resolve_customer(session, actor, typed)
    if resolution.customer is not None:
        return SubjectMatch(_customer_subject(resolution.customer))
    contacts = [c for c in customer_service.contacts_named(session, actor, typed)]
    people = [s for s in (_contact_subject(session, c) for c in contacts) if s is not None]
    if len(people) == 1 and not resolution.candidates:
        return SubjectMatch(people[0])
    candidates = [_customer_subject(c) for c in resolution.candidates] + people
    return SubjectMatch(None, tuple(candidates[:MAX_CANDIDATES]))


def subject(uow: UnitOfWork, actor: Actor, kind: str, subject_id: int) -> Subject:
    """The subject a button names, if it is of the actor's team and the actor sees it; else NotFound."""
    session = uow.session
    if kind == CUSTOMER:
        customer = session.get(Customer, subject_id)
        if customer is None or customer.team_id != actor.team_id or customer.merged_into_id is not None:
            raise NotFound("no such customer")
        if not customer_access.can_see(session, actor, customer):
            raise NotFound("no such customer")
        return _customer_subject(customer)
    if kind == CONTACT:
        contact = session.get(Contact, subject_id)
        found = _contact_subject(session, contact) if contact and contact.team_id == actor.team_id else None
        owner = session.get(Customer, contact.customer_id) if contact else None
        if found is None or owner is None or not customer_access.can_see(session, actor, owner):
            raise NotFound("no such contact")
        return found
    raise InvalidInput(f"unknown subject kind {kind!r}")


def may_export(uow: UnitOfWork, actor: Actor, found: Subject) -> bool:
    customer = uow.session.get(Customer, found.customer.id)
    return customer is not None and customer.team_id == actor.team_id and (
        actor.sees_whole_team or customer.owner_id == actor.member_id)


def _customer_subject(customer: Customer) -> Subject:
    ref = CustomerRef(customer.id or 0, customer.name)
    return Subject(CUSTOMER, customer.id or 0, customer.name, ref, customer.erased_at is not None)


def _contact_subject(session: Any, contact: Contact | None) -> Subject | None:
    if contact is None:
        return None
    customer = session.get(Customer, contact.customer_id)
    if customer is None:
        return None
    return Subject(CONTACT, contact.id or 0, contact.name, CustomerRef(customer.id or 0, customer.name))


# -- export ------------------------------------------------------------------------------------------------------


def export_personal(uow: UnitOfWork, actor: Actor, now: datetime, kind: str, subject_id: int) -> PersonalExport:
    """Everything stored about the customer or contact (see core.services.personal_data); the export itself
    is audited (who asked for whose data, when)."""
    found = subject(uow, actor, kind, subject_id)
    if not may_export(uow, actor, found):
        raise NotAllowed("only the customer's owner or a manager may export it")
    session = uow.session
    data = personal_data.collect(session, actor.team_id, found.customer.id,
                                 found.id if found.kind == CONTACT else None)
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="export", entity="privacy_export",
                 entity_id=found.id, customer_id=found.customer.id,
                 after={"subject": found.kind, "id": found.id,
                        "rows": {kind: len(rows) for kind, rows in data.rows.items()}})
    return PersonalExport(found, tuple((k, tuple(data.rows[k])) for k in personal_data.KINDS),
                          tuple(sorted(data.attachments.items())), data.attachments_left_out)


# -- erasure -----------------------------------------------------------------------------------------------------


def clean_reason(reason: str) -> str:
    """The reason as stored: one line of at most MAX_REASON characters; empty is refused."""
    text = " ".join(reason.split())[:MAX_REASON]
    if not text:
        raise InvalidInput("a reason is required")
    return text


def erase_preview(uow: UnitOfWork, actor: Actor, kind: str, subject_id: int) -> ErasePreview:
    """What an erasure would remove (for the confirmation); owners and managers only."""
    if not actor.sees_whole_team:
        raise NotAllowed("only owners and managers may erase personal data")
    found = subject(uow, actor, kind, subject_id)
    session = uow.session

    def count(model: Any, *where: Any) -> int:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())

    if found.kind == CONTACT:
        return ErasePreview(found, notes=count(Interaction, col(Interaction.contact_id) == found.id), contacts=1)
    ids = personal_data.merged_into(session, found.id)
    return ErasePreview(found, notes=count(Interaction, col(Interaction.customer_id).in_(ids)),
                        contacts=count(Contact, col(Contact.customer_id).in_(ids)),
                        follow_ups=count(FollowUp, col(FollowUp.customer_id).in_(ids)),
                        deals=count(Deal, col(Deal.customer_id).in_(ids)))


def erase(uow: UnitOfWork, actor: Actor, now: datetime, kind: str, subject_id: int, reason: str) -> Erasure:
    """Erase the subject's personal data irreversibly (core.services.erasure); owners and managers, with a
    reason. A customer erased already, or a contact gone already, is ALREADY: nothing changes."""
    if not actor.sees_whole_team:
        raise NotAllowed("only owners and managers may erase personal data")
    why = clean_reason(reason)
    session = uow.session
    if kind == CONTACT and session.get(Contact, subject_id) is None:
        return Erasure(EraseStatus.ALREADY, Subject(CONTACT, subject_id, "", CustomerRef(0, "")))
    found = subject(uow, actor, kind, subject_id)
    if found.erased:
        return Erasure(EraseStatus.ALREADY, found)
    if kind == CUSTOMER:
        customer = session.get(Customer, subject_id)
        assert customer is not None
        counts = erasure.erase_customer(session, actor, customer, why, now)
    else:
        contact = session.get(Contact, subject_id)
        assert contact is not None
        counts = erasure.erase_contact(session, actor, contact, why, now)
    return Erasure(EraseStatus.DONE, found, tuple(sorted(counts.items())))


# -- the whole team ------------------------------------------------------------------------------------------


def team_export(uow: UnitOfWork, actor: Actor) -> Iterator[tuple[str, tuple[str, ...], Iterable[tuple[Any, ...]]]]:
    """The team's customers, contacts, interactions, follow-ups, deals and members as (sheet, header, rows),
    streamed: consume it inside the unit of work. The team's owner only; audited."""
    if actor.role != Role.owner.value:
        raise NotAllowed("only the team's owner may export the whole team")
    audit.record(uow.session, team_id=actor.team_id, actor_id=actor.member_id, action="export",
                 entity="team_export", entity_id=actor.team_id)
    return personal_data.team_sheets(uow.session, actor.team_id)
