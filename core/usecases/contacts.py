"""A phone contact shared in the chat becomes a contact of a customer: chosen from a list, or typed by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.services import customers as customer_service
from core.services.actor import Actor
from core.services.phones import normalize_phone
from core.uow import UnitOfWork
from core.usecases.customers import find_customer, recent_customers, ref
from core.usecases.views import CustomerRef

CHOICES = 5


@dataclass(frozen=True, slots=True)
class SharedContact:
    """A contact card as it arrived, its phone normalised; `platform_user_id` when it is a chat user."""

    name: str
    phone: str | None
    platform: str
    platform_user_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "phone": self.phone, "platform": self.platform, "user": self.platform_user_id}

    @classmethod
    def from_json(cls, data: dict[str, Any], platform: str) -> SharedContact:
        return cls(str(data.get("name") or "?"), data.get("phone"), data.get("platform") or platform, data.get("user"))


@dataclass(frozen=True, slots=True)
class ContactToFile:
    """A shared contact waiting for its customer, and the recent customers to offer."""

    contact: SharedContact
    choices: tuple[CustomerRef, ...]


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
                    platform_user_id: str | None = None) -> ContactToFile:
    """Read a shared contact (the phone in E.164 for the member's country) and offer customers to file it on."""
    number = normalize_phone(phone, actor.country)
    contact = SharedContact(name.strip() or (number or "?"), number, platform, platform_user_id)
    return ContactToFile(contact, recent_customers(uow, actor, limit=CHOICES))


def save_contact(uow: UnitOfWork, actor: Actor, customer_id: int, contact: SharedContact) -> ContactSaved:
    """Add (or complete) the contact on a customer: its phone, and its chat account when it is a chat user."""
    handle = (contact.platform, contact.platform_user_id) if contact.platform_user_id else None
    saved = customer_service.add_contact(uow.session, actor, customer_id, contact.name, phone=contact.phone,
                                         handle=handle)
    return ContactSaved(saved.name, ref(customer_service.get_visible(uow.session, actor, customer_id)))


def save_contact_to_named(uow: UnitOfWork, actor: Actor, typed: str, contact: SharedContact
                          ) -> ContactSaved | WhichCustomer:
    """File the contact on the customer `typed` names; a new customer when none fits, a question when several do."""
    name = typed.strip()
    match = find_customer(uow, actor, name)
    if match.customer is None and match.candidates:
        return WhichCustomer(name, match.candidates[:CHOICES])
    customer = match.customer or ref(customer_service.create_customer(uow.session, actor, name))
    return save_contact(uow, actor, customer.id, contact)
