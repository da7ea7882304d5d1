"""Import a customer list in one transaction: rows of one company (by `company_key`, or by a phone in E.164) are
merged within the file and with the team's customers, so a re-import updates rather than doubles.

Planning (`plan_import`) reads the team's customers once and decides everything in memory; `write_plan` stores it
with bulk statements (100,000 rows in seconds). A dry run plans and writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from core.models import Contact, Customer, Member
from core.services.actor import Actor
from core.services.company_names import company_key
from core.services.customers import MAX_NAME
from core.services.list_files import ListFileError, ListRow, ListSheet, read_list
from core.services.phones import DEFAULT_COUNTRY, normalize_phone
from core.text import match_key, nfkc

NotACustomerList = ListFileError  # the name the use case and older callers know
_SPLIT_PHONES = re.compile(r"[/;,;,、\n]+|\s+or\s+|\s+或\s*")
_EXTENSION = re.compile(r"\s*(?:分機|分机|轉|转|ext\.?|extension|#)\s*(?=\d)", re.IGNORECASE)
_SPLIT_LIST = re.compile(r"[;,;,、|/\n]+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SKIP_REASONS = {"no_name": "no company name", "name_too_long": f"company name longer than {MAX_NAME} characters"}


@dataclass
class PlannedContact:
    name: str
    existing_id: int | None = None
    title: str | None = None
    phones: list[str] = field(default_factory=list)
    email: str | None = None
    notes: str | None = None
    changed: bool = False


@dataclass
class PlannedCustomer:
    first_row: int
    name: str
    existing_id: int | None = None
    visible: bool = True  # may the importing member see the existing customer (else only the file's values show)
    phones: list[str] = field(default_factory=list)
    email: str | None = None
    address: str | None = None
    region: str | None = None
    tags: list[str] = field(default_factory=list)
    owner_id: int | None = None
    aliases: list[str] = field(default_factory=list)  # every name the customer is known by, the file's included
    contacts: dict[str, PlannedContact] = field(default_factory=dict)  # by match_key(name)
    notes: list[str] = field(default_factory=list)  # rows' notes without a contact to keep them on
    from_file: dict[str, list[str]] = field(default_factory=dict)  # phones/emails/contacts the file gave
    before: dict[str, object] = field(default_factory=dict)  # the existing customer's fields, for the audit
    new_aliases: list[str] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    stored_id: int | None = None  # the customer's id once written


@dataclass
class ImportPlan:
    sheet: ListSheet
    customers: list[PlannedCustomer] = field(default_factory=list)
    merged_duplicates: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row, a SKIP_REASONS code)
    member_names: dict[int, str] = field(default_factory=dict)

    @property
    def created(self) -> int:
        return sum(1 for c in self.customers if c.existing_id is None)

    @property
    def updated(self) -> int:
        return sum(1 for c in self.customers if c.existing_id is not None)


def is_customer_list(data: bytes, file_name: str | None = None) -> bool:
    try:
        read_list(data, file_name)
    except ListFileError:
        return False
    return True


def clean(text: str | None) -> str:
    return " ".join(nfkc(text or "").split())


def phones_in(cell: str, country: str) -> list[str]:
    """The E.164 numbers a cell holds (`02-2345-6789 / 0912 345 678`); what does not parse is dropped."""
    found: list[str] = []
    for part in _SPLIT_PHONES.split(_EXTENSION.sub(" ext. ", cell)):
        phone = normalize_phone(part, country) if part.strip() else None
        if phone and phone.startswith("+") and phone not in found:
            found.append(phone)
    return found


def emails_in(cell: str) -> list[str]:
    found: list[str] = []
    for part in re.split(r"[\s;,;,、/]+", cell):
        if _EMAIL.match(part):
            local, _, domain = part.rpartition("@")
            email = f"{local}@{domain.lower()}"
            if email not in found:
                found.append(email)
    return found


def list_items(cell: str) -> list[str]:
    return [item for item in (clean(part) for part in _SPLIT_LIST.split(cell)) if item]


@dataclass(frozen=True, slots=True)
class _Known:
    id: int
    name: str
    aliases: list[str]
    phones: list[str]
    email: str | None
    address: str | None
    region: str | None
    tags: list[str]
    owner_id: int | None
    shared: bool


_KNOWN: tuple[Any, ...] = (Customer.id, Customer.name, Customer.aliases, Customer.phones, Customer.email, Customer.address,
          Customer.region, Customer.tags, Customer.owner_id, Customer.shared)
_CONTACT: tuple[Any, ...] = (Contact.id, Contact.customer_id, Contact.name, Contact.title, Contact.phones, Contact.email,
            Contact.notes)


class _Team:
    """The team's customers and contacts, keyed for matching (all of the team: one customer per company).

    Read as plain columns, not ORM rows: nothing is loaded into the session, `write_plan` writes in bulk."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.by_key: dict[str, int] = {}
        self.by_phone: dict[str, int] = {}
        self.rows: dict[int, _Known] = {}
        self.contacts: dict[int, list[PlannedContact]] = {}
        query = (select_columns(*_KNOWN).where(col(Customer.team_id) == actor.team_id, col(Customer.merged_into_id).is_(None))
                 .order_by(col(Customer.id)))
        rows: Any = session.execute(query)
        for values in rows:
            known = _Known(*values)
            self.rows[known.id] = known
            for name in (known.name, *known.aliases):
                self.by_key.setdefault(company_key(name), known.id)
            for phone in known.phones:
                self.by_phone.setdefault(phone, known.id)
        contacts: Any = session.execute(select_columns(*_CONTACT).where(col(Contact.team_id) == actor.team_id))
        for cid, customer_id, name, title, phones, email, notes in contacts:
            if customer_id in self.rows:
                contact = PlannedContact(name, cid, title, list(phones), email, notes)
                self.contacts.setdefault(customer_id, []).append(contact)
                for phone in phones:
                    self.by_phone.setdefault(phone, customer_id)
        members = session.exec(select(Member.id, Member.name).where(Member.team_id == actor.team_id)).all()
        self.members = {mid: name for mid, name in members if mid is not None}
        self.member_keys = {match_key(name): mid for mid, name in self.members.items() if match_key(name)}

    def visible(self, actor: Actor, known: _Known) -> bool:
        return actor.sees_whole_team or known.shared or known.owner_id == actor.member_id


def plan_import(session: Session, actor: Actor, sheet: ListSheet, *, owner_id: int | None = None) -> ImportPlan:
    """Decide every row: a new customer, an update of an existing one, a duplicate of an earlier row, or skipped."""
    team = _Team(session, actor)
    plan = ImportPlan(sheet, member_names=team.members)
    country = actor.country or DEFAULT_COUNTRY
    default_owner = owner_id or actor.member_id
    by_key: dict[str, PlannedCustomer] = {}
    by_phone: dict[str, PlannedCustomer] = {}
    by_existing: dict[int, PlannedCustomer] = {}
    for row in sheet.rows:
        name = clean(row.cells.get("name"))
        key = company_key(name) if name else ""
        if not key:
            plan.skipped.append((row.number, "no_name"))
            continue
        if len(name) > MAX_NAME:
            plan.skipped.append((row.number, "name_too_long"))
            continue
        phones = phones_in(row.cells.get("phone", ""), country)
        target = by_key.get(key) or next((by_phone[p] for p in phones if p in by_phone), None)
        if target is not None:
            plan.merged_duplicates += 1
        else:
            existing_id = team.by_key.get(key) or next((team.by_phone[p] for p in phones if p in team.by_phone), None)
            target = by_existing.get(existing_id) if existing_id is not None else None
            if target is not None:
                plan.merged_duplicates += 1
            else:
                target = _start(plan, team, actor, row, name, existing_id, default_owner)
                if existing_id is not None:
                    by_existing[existing_id] = target
        by_key.setdefault(key, target)
        for phone in phones:
            by_phone.setdefault(phone, target)
        _apply(target, row, name, phones, team, actor)
    return plan


def _start(plan: ImportPlan, team: _Team, actor: Actor, row: ListRow, name: str, existing_id: int | None,
           default_owner: int) -> PlannedCustomer:
    if existing_id is None:
        planned = PlannedCustomer(row.number, name, owner_id=_owner(team, actor, row) or default_owner,
                                  aliases=[name], changed={"new"})
    else:
        known = team.rows[existing_id]
        planned = PlannedCustomer(row.number, known.name, existing_id, team.visible(actor, known), list(known.phones),
                                  known.email, known.address, known.region, list(known.tags), known.owner_id,
                                  [known.name, *known.aliases])
        planned.before = {"phones": list(known.phones), "email": known.email, "address": known.address,
                          "region": known.region, "tags": list(known.tags), "owner_id": known.owner_id}
        for contact in team.contacts.get(existing_id, []):
            planned.contacts.setdefault(match_key(contact.name), contact)
        owner = _owner(team, actor, row)
        if known.owner_id is None or (owner and owner != known.owner_id):
            planned.owner_id = owner or known.owner_id or default_owner
            planned.changed.add("owner_id")
    plan.customers.append(planned)
    return planned


def _owner(team: _Team, actor: Actor, row: ListRow) -> int | None:
    """The member the row's Owner column names — honoured for owners and managers (sales import their own)."""
    named = row.cells.get("owner")
    if not named or not actor.sees_whole_team:
        return None
    return team.member_keys.get(match_key(named))


def _apply(target: PlannedCustomer, row: ListRow, name: str, phones: list[str], team: _Team, actor: Actor) -> None:
    cells = row.cells
    emails = emails_in(cells.get("email", ""))
    given = target.from_file
    for phone in phones:
        _add(given.setdefault("phones", []), phone)
        if _add(target.phones, phone):
            target.changed.add("phones")
    for email in emails:
        _add(given.setdefault("emails", []), email)
    if emails and not target.email:
        target.email = emails[0]
        target.changed.add("email")
    if company_key(name) == company_key(target.name) and match_key(name) not in map(match_key, target.aliases):
        target.aliases.append(name)
        target.new_aliases.append(name)
        target.changed.add("aliases")
    for column in ("address", "region"):
        value = clean(cells.get(column))
        current = getattr(target, column)
        if value and value != current and (not current or target.visible):
            setattr(target, column, value)
            target.changed.add(column)
    for tag in list_items(cells.get("tags", "")):
        if _add(target.tags, tag):
            target.changed.add("tags")
    note = clean(cells.get("notes")) or None
    people = list_items(cells.get("contact", ""))
    for person in people:
        contact = target.contacts.setdefault(match_key(person), PlannedContact(person, changed=True))
        _add(given.setdefault("contacts", []), contact.name)
        title = clean(cells.get("title")) or None
        if title and not contact.title:
            contact.title, contact.changed = title, True
        for phone in phones if len(people) == 1 else ():
            contact.changed |= _add(contact.phones, phone)
        if len(people) == 1 and emails and not contact.email:
            contact.email, contact.changed = emails[0], True
        if note and note not in (contact.notes or ""):
            contact.notes = f"{contact.notes}\n{note}" if contact.notes else note
            contact.changed = True
    if note and not people and note not in target.notes:
        target.notes.append(note)
        target.changed.add("notes")
    if any(c.changed for c in target.contacts.values()):
        target.changed.add("contacts")


def _add(items: list[str], item: str) -> bool:
    if item in items:
        return False
    items.append(item)
    return True


def read_and_plan(session: Session, actor: Actor, data: bytes, file_name: str | None = None, *,
                  owner_id: int | None = None) -> ImportPlan:
    return plan_import(session, actor, read_list(data, file_name), owner_id=owner_id)
