"""A phone contact shared in the chat becomes a contact of a customer: chosen from a list, or typed by name.

A contact is a person: their name, every phone (E.164 for the member's country), e-mail, title and company
(vCard ORG) are kept. The company suggests the customer: the customer it resolves to comes first among the
choices (then the other close ones, then the most recent customers); a company no customer has is offered
as a new customer of that name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.services import audit
from core.services import customers as customer_service
from core.services.actor import Actor
from core.services.phones import normalize_phones
from core.uow import UnitOfWork
from core.usecases.customers import find_customer, recent_customers, ref
from core.usecases.team import person_name
from core.usecases.views import CustomerRef

CHOICES = 5


@dataclass(frozen=True, slots=True)
class SharedContact:
    """A contact card as it arrived, its phone normalised; `platform_user_id` when it is a chat user."""

    name: str
    phone: str | None
    platform: str
    platform_user_id: str | None = None
    company: str | None = None
    title: str | None = None
    email: str | None = None
    phones: tuple[str, ...] = ()  # every number, normalised, `phone` first

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "phone": self.phone, "platform": self.platform, "user": self.platform_user_id,
                "company": self.company, "title": self.title, "email": self.email, "phones": list(self.phones)}

    @classmethod
    def from_json(cls, data: dict[str, Any], platform: str) -> SharedContact:
        phone = data.get("phone")
        phones = tuple(str(p) for p in data.get("phones") or ([phone] if phone else []))
        return cls(str(data.get("name") or "?"), phone, data.get("platform") or platform, data.get("user"),
                   data.get("company"), data.get("title"), data.get("email"), phones)


@dataclass(frozen=True, slots=True)
class ContactToFile:
    """A shared contact waiting for its customer: the customers to offer (the company's first, when it
    resolves to one: `suggested`), and `new_company` when the company is no customer yet."""

    contact: SharedContact
    choices: tuple[CustomerRef, ...]
    suggested: CustomerRef | None = None
    new_company: str | None = None


@dataclass(frozen=True, slots=True)
class ContactSaved:
    name: str
    customer: CustomerRef


@dataclass(frozen=True, slots=True)
class WhichCustomer:
    """The typed name fits several customers: ask among `candidates`."""

    name: str
    candidates: tuple[CustomerRef, ...]


def receive_contact(uow: UnitOfWork, actor: Actor, *, name: str, phone: str | None, platform: str,
                    platform_user_id: str | None = None, company: str | None = None, title: str | None = None,
                    email: str | None = None, phones: Sequence[str] = ()) -> ContactToFile:
    """Read a shared contact (phones in E.164 for the member's country) and offer customers to file it on."""
    numbers = normalize_phones([phone, *phones], actor.country)
    company = _clean(company)
    contact = SharedContact(person_name(name) or (numbers[0] if numbers else "?"), numbers[0] if numbers else None,
                            platform, platform_user_id, company, _clean(title), _clean_email(email), tuple(numbers))
    recent = recent_customers(uow, actor, limit=CHOICES)
    if not company:
        return ContactToFile(contact, recent)
    match = find_customer(uow, actor, company)
    first = ((match.customer,) if match.customer else ()) + tuple(
        c for c in match.candidates if match.customer is None or c.id != match.customer.id)
    choices = _unique(first + recent)[:CHOICES]
    new_company = None if match.customer is not None or match.candidates else company
    return ContactToFile(contact, choices, match.customer, new_company)


def _clean(value: str | None) -> str | None:
    cleaned = " ".join((value or "").split()).strip(" ;,")
    return cleaned or None


def _clean_email(value: str | None) -> str | None:
    cleaned = (value or "").strip().strip("<>").lower()
    return cleaned if "@" in cleaned and " " not in cleaned else None


def _unique(customers: tuple[CustomerRef, ...]) -> tuple[CustomerRef, ...]:
    by_id: dict[int, CustomerRef] = {}
    for customer in customers:
        by_id.setdefault(customer.id, customer)
    return tuple(by_id.values())


def save_contact(uow: UnitOfWork, actor: Actor, customer_id: int, contact: SharedContact) -> ContactSaved:
    """Add (or complete) the contact on a customer: title, every phone, e-mail, and their chat account when
    they are a chat user. What the contact already has is kept; audited."""
    session = uow.session
    handle = (contact.platform, contact.platform_user_id) if contact.platform_user_id else None
    saved = customer_service.add_contact(session, actor, customer_id, contact.name, title=contact.title,
                                         phone=contact.phone, handle=handle)
    more = [p for p in contact.phones if p not in saved.phones]
    if more or (contact.email and not saved.email):
        before = audit.snapshot(saved)
        saved.phones = [*saved.phones, *more]
        saved.email = saved.email or contact.email
        session.add(saved)
        session.flush()
        audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="update", entity=saved,
                     before=before, after=audit.snapshot(saved))
    return ContactSaved(saved.name, ref(customer_service.get_visible(session, actor, customer_id)))


def save_contact_to_company(uow: UnitOfWork, actor: Actor, contact: SharedContact) -> ContactSaved | WhichCustomer:
    """File the contact on the customer its company names (a new customer of that name when none does)."""
    return save_contact_to_named(uow, actor, contact.company or contact.name, contact)


def save_contact_to_named(uow: UnitOfWork, actor: Actor, typed: str, contact: SharedContact
                          ) -> ContactSaved | WhichCustomer:
    """File the contact on the customer `typed` names; a new customer when none fits, a question when several do."""
    name = typed.strip()
    match = find_customer(uow, actor, name)
    if match.customer is None and match.candidates:
        return WhichCustomer(name, match.candidates[:CHOICES])
    customer = match.customer or ref(customer_service.create_customer(uow.session, actor, name))
    return save_contact(uow, actor, customer.id, contact)
