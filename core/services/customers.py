"""Customers and contacts: create, rename, alias, resolve a mention, the customer card (merging and removing
are in `core.services.customer_removal`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, func, select

from core.models import (
    Contact,
    Customer,
    CustomerAlias,
    Deal,
    FollowUp,
    FollowUpStatus,
    Interaction,
    Team,
    utcnow,
)
from core.services import audit
from core.services.actor import Actor
from core.services.customer_access import can_see, visible_filter
from core.services.errors import InvalidInput, NotFound
from core.services.name_index import name_index as directory
from core.services.phones import normalize_phone, normalize_phones
from core.text import match_key, nfkc

MAX_NAME = 120


def _clean_name(name: str) -> str:
    cleaned = " ".join(nfkc(name).split())
    if not cleaned or not match_key(cleaned):
        raise InvalidInput("a customer needs a name")
    if len(cleaned) > MAX_NAME:
        raise InvalidInput(f"names are at most {MAX_NAME} characters")
    return cleaned


def get_visible(session: Session, actor: Actor, customer_id: int) -> Customer:
    """A live customer the actor sees (their own, shared, granted to them, or any for managers)."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.merged_into_id is not None or not can_see(session, actor, customer):
        raise NotFound("no such customer")
    return customer


def get_in_team(session: Session, actor: Actor, customer_id: int) -> Customer:
    """A live customer of the actor's team, seen or not (a note may be filed on a colleague's customer)."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.team_id != actor.team_id or customer.merged_into_id is not None:
        raise NotFound("no such customer")
    return customer


def same_name(session: Session, team_id: int, name: str) -> Customer | None:
    """The team's live customer with exactly this name or alias (width-, case- and script-insensitive)."""
    key = match_key(name)
    if not key:
        return None
    return session.exec(select(Customer).join(CustomerAlias, col(CustomerAlias.customer_id) == col(Customer.id))
                        .where(CustomerAlias.team_id == team_id, CustomerAlias.key == key,
                               col(Customer.merged_into_id).is_(None)).order_by(col(Customer.id))).first()


def same_company(session: Session, actor: Actor, name: str) -> list[Customer]:
    """The team's live customers that are the same company as `name` (`company_names.company_key`)."""
    return _live(session, actor, directory.same_company(session, actor.team_id, name), team_wide=True)


def create_customer(session: Session, actor: Actor, name: str, *, shared: bool = False,
                    aliases: list[str] | None = None, phones: list[str] | None = None) -> Customer:
    """A new customer of the actor; the team's customer of exactly that name when there is one (one customer
    per company per team: never a second one of the same name, seen by the actor or not)."""
    name = _clean_name(name)
    if (existing := same_name(session, actor.team_id, name)) is not None:
        return existing
    now = utcnow()
    customer = Customer(team_id=actor.team_id, name=name, name_key=match_key(name), owner_id=actor.member_id,
                        shared=shared, phones=normalize_phones(phones or [], actor.country), created_at=now,
                        updated_at=now)
    session.add(customer)
    session.flush()
    _add_alias_row(session, customer, name)
    for alias in aliases or []:
        add_alias(session, actor, customer, alias, audited=False)
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="create", entity=customer,
                 after=audit.snapshot(customer))
    directory.added(session, customer)
    return customer


def _add_alias_row(session: Session, customer: Customer, alias: str) -> bool:
    key = match_key(alias)
    if not key:
        return False
    exists = session.exec(select(CustomerAlias.id).where(CustomerAlias.customer_id == customer.id,
                                                         CustomerAlias.key == key)).first()
    if exists:
        return False
    assert customer.id is not None
    session.add(CustomerAlias(team_id=customer.team_id, customer_id=customer.id, alias=alias, key=key))
    return True


def add_alias(session: Session, actor: Actor, customer: Customer, alias: str, *, audited: bool = True) -> bool:
    """Remember another name for a customer (e.g. the mention a user confirmed). False if known already."""
    alias = " ".join(nfkc(alias).split())
    if not _add_alias_row(session, customer, alias):
        return False
    if alias != customer.name and alias not in customer.aliases:
        customer.aliases = [*customer.aliases, alias]
        customer.updated_at = utcnow()
        session.add(customer)
    if audited:
        audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="alias", entity=customer,
                     after={"alias": alias})
    session.flush()
    directory.added(session, customer)
    return True


def rename_customer(session: Session, actor: Actor, customer_id: int, new_name: str) -> Customer:
    customer = get_visible(session, actor, customer_id)
    before = audit.snapshot(customer)
    old = customer.name
    customer.name, customer.name_key, customer.updated_at = _clean_name(new_name), match_key(new_name), utcnow()
    session.add(customer)
    _add_alias_row(session, customer, customer.name)
    if old not in customer.aliases:
        customer.aliases = [*customer.aliases, old]  # the old name still finds it
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="rename", entity=customer,
                 before=before, after=audit.snapshot(customer))
    session.flush()
    directory.added(session, customer)
    return customer


def add_contact(session: Session, actor: Actor, customer_id: int, name: str, *, title: str | None = None,
                phone: str | None = None, handle: tuple[str, str] | None = None, email: str | None = None,
                team_wide: bool = False) -> Contact:
    """Add (or complete) a contact; `team_wide`: on any customer of the team (a note on a colleague's)."""
    customer = get_in_team(session, actor, customer_id) if team_wide else get_visible(session, actor, customer_id)
    cleaned = " ".join(nfkc(name).split())
    if not cleaned:
        raise InvalidInput("a contact needs a name")
    existing = session.exec(select(Contact).where(Contact.customer_id == customer.id,
                                                  Contact.name_key == match_key(cleaned))).first()
    contact = existing or Contact(team_id=actor.team_id, customer_id=customer.id or 0, name=cleaned,
                                  name_key=match_key(cleaned))
    before = audit.snapshot(existing)
    if title and not contact.title:
        contact.title = title
    if email and not contact.email:
        contact.email = email
    phone = normalize_phone(phone, actor.country)  # E.164 with the member's country, whoever calls
    if phone and phone not in contact.phones:
        contact.phones = [*contact.phones, phone]
    if handle:
        contact.handles = {**contact.handles, handle[0]: handle[1]}
    session.add(contact)
    session.flush()
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id,
                 action="update" if existing else "create", entity=contact, before=before,
                 after=audit.snapshot(contact))
    return contact


def find_contact(session: Session, customer_id: int, name: str) -> Contact | None:
    key = match_key(name)
    if not key:
        return None
    return session.exec(select(Contact).where(Contact.customer_id == customer_id, Contact.name_key == key)).first()


def contact_by_handle(session: Session, actor: Actor, platform: str, user_id: str) -> Contact | None:
    """The contact a forwarded sender is known as (by platform user id), among visible customers."""
    candidates = session.exec(select(Contact).join(Customer, col(Customer.id) == col(Contact.customer_id))
                              .where(visible_filter(actor))).all()
    return next((c for c in candidates if c.handles.get(platform) == user_id), None)


def contacts_named(session: Session, actor: Actor, name: str) -> list[Contact]:
    key = match_key(name)
    if not key:
        return []
    query = (select(Contact).join(Customer, col(Customer.id) == col(Contact.customer_id))
             .where(visible_filter(actor), Contact.name_key == key, col(Customer.merged_into_id).is_(None)))
    return list(session.exec(query.limit(10)))


@dataclass(frozen=True, slots=True)
class Resolution:
    """The outcome of resolving a mention: one customer, several candidates, or nothing."""

    customer: Customer | None
    candidates: tuple[Customer, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return self.customer is None and len(self.candidates) > 1


def resolve_customer(session: Session, actor: Actor, mention: str, *, team_wide: bool = False) -> Resolution:
    """Exact name or alias (width-, case- and script-insensitive), then prefix, then fuzzy (rapidfuzz).

    Several close candidates → ambiguous, never a silent guess. Among the customers the actor sees, or
    (`team_wide`, for a note's mention) among all of the team's.
    """
    key = match_key(mention)
    if not key:
        return Resolution(None)
    ids = directory.lookup(session, actor.team_id, key)
    customers = _live(session, actor, ids, team_wide=team_wide)
    if len(customers) == 1:
        return Resolution(customers[0], tuple(customers))
    if customers:
        return Resolution(None, tuple(customers))
    customers = _live(session, actor, directory.fuzzy(session, actor.team_id, key), team_wide=team_wide)
    if len(customers) == 1 and directory.best_score(session, actor.team_id, key, customers[0].id) >= 90:
        return Resolution(customers[0], tuple(customers))
    return Resolution(None, tuple(customers))


def _live(session: Session, actor: Actor, ids: list[int], *, team_wide: bool = False) -> list[Customer]:
    if not ids:
        return []
    seen = col(Customer.team_id) == actor.team_id if team_wide else visible_filter(actor)
    found = session.exec(select(Customer).where(col(Customer.id).in_(ids), seen,
                                                col(Customer.merged_into_id).is_(None))).all()
    order = {cid: i for i, cid in enumerate(ids)}
    return sorted(found, key=lambda c: order.get(c.id or 0, 0))


@dataclass
class CustomerCard:
    customer: Customer
    contacts: list[Contact] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)
    interaction_count: int = 0
    last_contact: datetime | None = None


def customer_card(session: Session, actor: Actor, customer_id: int, *, recent: int = 5) -> CustomerCard:
    customer = get_visible(session, actor, customer_id)
    contacts = session.exec(select(Contact).where(Contact.customer_id == customer.id).order_by(col(Contact.id)))
    live = (Interaction.customer_id == customer.id, col(Interaction.deleted_at).is_(None))
    interactions = session.exec(select(Interaction).where(*live)
                                .order_by(col(Interaction.occurred_at).desc()).limit(recent))
    count = session.exec(select(func.count()).select_from(Interaction).where(*live)).one()
    open_states = (FollowUpStatus.pending.value, FollowUpStatus.sent.value, FollowUpStatus.snoozed.value)
    follow_ups = session.exec(select(FollowUp).where(FollowUp.customer_id == customer.id,
                                                     col(FollowUp.status).in_(open_states))
                              .order_by(col(FollowUp.due_at)))
    deals = session.exec(select(Deal).where(Deal.customer_id == customer.id).order_by(col(Deal.id).desc()))
    return CustomerCard(customer, list(contacts), list(interactions), list(follow_ups), list(deals),
                        int(count), customer.last_interaction_at)


def list_customers(session: Session, actor: Actor, *, limit: int = 20) -> list[Customer]:
    """The customers the actor sees, most recently in touch first (not merged ones, not erased shells)."""
    query = (select(Customer).where(visible_filter(actor), col(Customer.merged_into_id).is_(None),
                                    col(Customer.erased_at).is_(None))
             .order_by(col(Customer.last_interaction_at).desc().nulls_last(), col(Customer.id).desc()))
    return list(session.exec(query.limit(limit)))


MAX_SILENT_DAYS = 365
DEFAULT_SILENT_DAYS = 30


def quiet_days(session: Session, customer: Customer) -> int:
    """After how many quiet days an important customer's owner hears of it: its own setting, else the team's."""
    if customer.silent_days:
        return customer.silent_days
    team = session.get(Team, customer.team_id)
    return team.silent_days if team else DEFAULT_SILENT_DAYS


def set_important(session: Session, actor: Actor, customer_id: int, important: bool,
                  silent_days: int | None = None) -> tuple[Customer, bool]:
    """Mark a customer important (its owner is alerted once when it goes quiet) and its own quiet days.

    Returns whether anything changed (a second identical request changes nothing)."""
    customer = get_visible(session, actor, customer_id)
    if silent_days is not None and not 1 <= silent_days <= MAX_SILENT_DAYS:
        raise InvalidInput(f"between 1 and {MAX_SILENT_DAYS} days")
    days = silent_days if silent_days is not None else customer.silent_days
    if customer.important == important and customer.silent_days == days:
        return customer, False
    before = {"important": customer.important, "silent_days": customer.silent_days}
    customer.important, customer.silent_days, customer.updated_at = important, days, utcnow()
    session.add(customer)
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="update", entity=customer,
                 before=before, after={"important": important, "silent_days": days})
    return customer, True
