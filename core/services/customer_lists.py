"""Import a customer list: rows of one company (by `company_key`, or by a phone in E.164) are merged within the
file and with the team's customers, so a re-import updates rather than doubles.

Streamed in chunks (core.usecases.customer_lists): `start_import` reads the team's company keys and phones once
(key → id dicts, nothing more); `plan_chunk` decides a chunk of rows, reading only the customers it matches;
`customer_list_writes.write_chunk` stores it with bulk statements, and the next chunk finds what it stored. Memory
stays bounded by the chunk, whatever the list's length; the caller holds every chunk in one transaction.
"""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import func
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
    existing_id: int | None = None  # a customer in the database (the team's, or one an earlier chunk stored)
    visible: bool = True  # may the importing member see the existing customer (else only the file's values show)
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    address: str | None = None
    region: str | None = None
    tags: list[str] = field(default_factory=list)
    notes: str | None = None  # the rows' notes, one line each
    owner_id: int | None = None
    aliases: list[str] = field(default_factory=list)  # every name the customer is known by, the file's included
    contacts: dict[str, PlannedContact] = field(default_factory=dict)  # by match_key(name)
    from_file: dict[str, list[str]] = field(default_factory=dict)  # phones/emails/contacts the file gave
    before: dict[str, object] = field(default_factory=dict)  # the existing customer's fields, for the audit
    new_aliases: list[str] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    stored_id: int | None = None  # the customer's id once written
    created_here: bool = False  # created by this import (in this chunk or an earlier one)
    key: str = ""  # company_key(name)
    row_keys: set[str] = field(default_factory=set)  # the company keys of the rows merged into it
    alias_keys: set[str] = field(default_factory=set)  # match_key of every alias


@dataclass
class ImportPlan:
    """The decisions for one chunk of rows (`customers`), and the running counts of the whole import."""

    sheet: ListSheet
    customers: list[PlannedCustomer] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    merged_duplicates: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row, a SKIP_REASONS code)
    member_names: dict[int, str] = field(default_factory=dict)


def is_customer_list(data: bytes, file_name: str | None = None) -> bool:
    try:
        read_list(data, file_name)
    except ListFileError:
        return False
    return True


@lru_cache(maxsize=16384)
def _clean(text: str) -> str:
    return " ".join(nfkc(text).split())


def clean(text: str | None) -> str:
    """Width-folded, spaces collapsed (cached: titles, tags, regions and notes repeat down a list)."""
    return _clean(text) if text else ""


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
    return list(_list_items(cell)) if cell else []


@lru_cache(maxsize=16384)
def _list_items(cell: str) -> tuple[str, ...]:
    return tuple(item for item in (clean(part) for part in _SPLIT_LIST.split(cell)) if item)


@dataclass(frozen=True, slots=True)
class _Known:
    id: int
    name: str
    aliases: list[str]
    phones: list[str]
    email: str | None
    emails: list[str]
    address: str | None
    region: str | None
    tags: list[str]
    notes: str | None
    owner_id: int | None
    shared: bool


_KNOWN: tuple[Any, ...] = (Customer.id, Customer.name, Customer.aliases, Customer.phones, Customer.email,
                           Customer.emails, Customer.address, Customer.region, Customer.tags, Customer.notes,
                           Customer.owner_id, Customer.shared)
_CONTACT: tuple[Any, ...] = (Contact.id, Contact.customer_id, Contact.name, Contact.title, Contact.phones, Contact.email,
                             Contact.notes)
_STREAM = 5000  # rows fetched at a time while the team's keys are read


class _Team:
    """The team's customers keyed for matching (all of the team: one customer per company): company key → id and
    phone → id only; a chunk's matched customers are read in full when it is planned (`load`). Customers an
    earlier chunk of this import stored are added as they are written (`remember`).

    Read as plain columns, not ORM rows: nothing is loaded into the session, the writes are bulk statements."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.team_id = actor.team_id
        self.by_key: dict[str, int] = {}
        self.by_phone: dict[str, int] = {}
        self.touched: set[int] = set()  # ids this import has already counted (created, or updated once)
        self.created: set[int] = set()
        self.created_name_keys: set[str] = set()
        self._keys: dict[str, str] = {}  # company_key per name, for this import only (its cache is small)
        keyed: tuple[Any, ...] = (Customer.id, Customer.name, Customer.aliases, Customer.phones)
        query = (select_columns(*keyed)
                 .where(col(Customer.team_id) == actor.team_id, col(Customer.merged_into_id).is_(None))
                 .order_by(col(Customer.id)).execution_options(yield_per=_STREAM))
        live: set[int] = set()
        rows: Any = session.execute(query)
        for cid, name, aliases, phones in rows:
            live.add(cid)
            for alias in (name, *aliases):
                self.by_key.setdefault(self.key(alias), cid)
            for phone in phones:
                self.by_phone.setdefault(phone, cid)
        phoned: tuple[Any, ...] = (Contact.customer_id, Contact.phones)
        contacts: Any = session.execute(select_columns(*phoned)
                                        .where(col(Contact.team_id) == actor.team_id)
                                        .execution_options(yield_per=_STREAM))
        for customer_id, phones in contacts:
            if customer_id in live:
                for phone in phones:
                    self.by_phone.setdefault(phone, customer_id)
        self.id_floor = session.execute(select_columns(func.max(Customer.id))).scalar() or 0
        members = session.exec(select(Member.id, Member.name).where(Member.team_id == actor.team_id)).all()
        self.members = {mid: name for mid, name in members if mid is not None}
        self.member_keys = {match_key(name): mid for mid, name in self.members.items() if match_key(name)}

    def key(self, name: str) -> str:
        """`company_key(name)`, computed once per import."""
        found = self._keys.get(name)
        if found is None:
            found = self._keys[name] = company_key(name)
        return found

    def find(self, key: str, phones: list[str]) -> int | None:
        return self.by_key.get(key) or next((self.by_phone[p] for p in phones if p in self.by_phone), None)

    def load(self, session: Session, ids: set[int]) -> tuple[dict[int, _Known], dict[int, list[PlannedContact]]]:
        known: dict[int, _Known] = {}
        contacts: dict[int, list[PlannedContact]] = {}
        for chunk in _batches(sorted(ids)):
            rows: Any = session.execute(select_columns(*_KNOWN).where(col(Customer.id).in_(chunk)))
            for values in rows:
                known[values[0]] = _Known(*values)
            found: Any = session.execute(select_columns(*_CONTACT).where(col(Contact.customer_id).in_(chunk))
                                         .order_by(col(Contact.id)))
            for cid, customer_id, name, title, phones, email, notes in found:
                contacts.setdefault(customer_id, []).append(PlannedContact(name, cid, title, list(phones), email,
                                                                           notes))
        return known, contacts

    def remember(self, planned: PlannedCustomer) -> None:
        """A customer this chunk wrote: later chunks find it by its names and phones, and count it as merged."""
        assert planned.stored_id is not None
        self.touched.add(planned.stored_id)
        if planned.existing_id is None:
            self.created.add(planned.stored_id)
        for key in planned.row_keys:
            self.by_key.setdefault(key, planned.stored_id)
        for phone in planned.phones:
            self.by_phone.setdefault(phone, planned.stored_id)
        for contact in planned.contacts.values():
            for phone in contact.phones:
                self.by_phone.setdefault(phone, planned.stored_id)

    def visible(self, actor: Actor, known: _Known) -> bool:
        return actor.sees_whole_team or known.shared or known.owner_id == actor.member_id


_person_key = lru_cache(maxsize=16384)(match_key)  # contacts' names repeat down a list


def _batches(items: list[int], size: int = 1000) -> list[list[int]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


_collections = threading.Lock()
_importing = 0
_thresholds = gc.get_threshold()
IMPORT_GC_THRESHOLDS = (50_000, 20, 10)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Python's cyclic garbage collector, run less often while a list is imported: the import allocates millions
    of small, acyclic objects and keeps the keys it has seen, and with the default thresholds the repeated full
    collections took a third of its time (bench/bench_customer_lists.py). Thresholds are restored after the last
    import running ends; cycles are still collected, just in larger batches."""
    global _importing, _thresholds
    with _collections:
        if _importing == 0:
            _thresholds = gc.get_threshold()
            gc.set_threshold(*IMPORT_GC_THRESHOLDS)
        _importing += 1
    try:
        yield
    finally:
        with _collections:
            _importing -= 1
            if _importing == 0:
                gc.set_threshold(*_thresholds)


def start_import(session: Session, actor: Actor, sheet: ListSheet) -> tuple[_Team, ImportPlan]:
    team = _Team(session, actor)
    return team, ImportPlan(sheet, member_names=team.members)


def plan_chunk(session: Session, actor: Actor, team: _Team, plan: ImportPlan, rows: list[ListRow], *,
               owner_id: int | None = None) -> list[PlannedCustomer]:
    """Decide every row of a chunk: a new customer, an update of an existing one (the team's, or one an earlier
    chunk stored: then a merged duplicate), a duplicate of an earlier row, or skipped; the counts go to `plan`."""
    country = actor.country or DEFAULT_COUNTRY
    default_owner = owner_id or actor.member_id
    read: list[tuple[ListRow, str, str, list[str]]] = []
    wanted: set[int] = set()
    for row in rows:
        name = clean(row.cells.get("name"))
        key = team.key(name) if name else ""
        if not key:
            plan.skipped.append((row.number, "no_name"))
            continue
        if len(name) > MAX_NAME:
            plan.skipped.append((row.number, "name_too_long"))
            continue
        phones = phones_in(row.cells.get("phone", ""), country)
        read.append((row, name, key, phones))
        if (found := team.find(key, phones)) is not None:
            wanted.add(found)
    known, contacts = team.load(session, wanted)
    planned: list[PlannedCustomer] = []
    by_key: dict[str, PlannedCustomer] = {}
    by_phone: dict[str, PlannedCustomer] = {}
    by_existing: dict[int, PlannedCustomer] = {}
    for row, name, key, phones in read:
        target = by_key.get(key) or next((by_phone[p] for p in phones if p in by_phone), None)
        existing_id: int | None = None
        if target is None:
            existing_id = team.find(key, phones)
            target = by_existing.get(existing_id) if existing_id is not None else None
        if target is not None:
            plan.merged_duplicates += 1
        else:
            if existing_id is None:
                plan.created += 1
            elif existing_id in team.touched:
                plan.merged_duplicates += 1  # the same company as a row of an earlier chunk
            else:
                plan.updated += 1
            target = _start(team, actor, row, name, known.get(existing_id) if existing_id is not None else None,
                            contacts.get(existing_id, []) if existing_id is not None else [], default_owner)
            planned.append(target)
            if existing_id is not None:
                by_existing[existing_id] = target
        by_key.setdefault(key, target)
        for phone in phones:
            by_phone.setdefault(phone, target)
        _apply(target, row, name, key, phones)
    return planned


def _start(team: _Team, actor: Actor, row: ListRow, name: str, known: _Known | None, contacts: list[PlannedContact],
           default_owner: int) -> PlannedCustomer:
    if known is None:
        return PlannedCustomer(row.number, name, owner_id=_owner(team, actor, row) or default_owner,
                               aliases=[name], changed={"new"}, created_here=True, key=team.key(name),
                               alias_keys={_person_key(name)})
    emails = list(dict.fromkeys([*known.emails, *([known.email] if known.email else [])]))
    planned = PlannedCustomer(row.number, known.name, known.id, team.visible(actor, known), list(known.phones),
                              emails, known.address, known.region, list(known.tags), known.notes, known.owner_id,
                              [known.name, *known.aliases], created_here=known.id in team.created,
                              key=team.key(known.name))
    planned.alias_keys = {_person_key(alias) for alias in planned.aliases}
    planned.before = {"phones": list(known.phones), "emails": list(known.emails), "email": known.email,
                      "address": known.address, "region": known.region, "tags": list(known.tags),
                      "notes": known.notes, "owner_id": known.owner_id}
    if emails != known.emails:
        planned.changed.add("emails")  # an old row's single e-mail, now in the list
    for contact in contacts:
        planned.contacts.setdefault(_person_key(contact.name), contact)
    owner = _owner(team, actor, row)
    if known.owner_id is None or (owner and owner != known.owner_id):
        planned.owner_id = owner or known.owner_id or default_owner
        planned.changed.add("owner_id")
    return planned


def _owner(team: _Team, actor: Actor, row: ListRow) -> int | None:
    """The member the row's Owner column names — honoured for owners and managers (sales import their own)."""
    named = row.cells.get("owner")
    if not named or not actor.sees_whole_team:
        return None
    return team.member_keys.get(match_key(named))


def _apply(target: PlannedCustomer, row: ListRow, name: str, key: str, phones: list[str]) -> None:
    cells = row.cells
    target.row_keys.add(key)
    emails = emails_in(cells.get("email", ""))
    given = target.from_file
    for phone in phones:
        _add(given.setdefault("phones", []), phone)
        if _add(target.phones, phone):
            target.changed.add("phones")
    for email in emails:
        _add(given.setdefault("emails", []), email)
        if email.lower() not in (e.lower() for e in target.emails):
            target.emails.append(email)
            target.changed.add("emails")
    if key == target.key and (name_key := _person_key(name)) not in target.alias_keys:
        target.alias_keys.add(name_key)
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
    if note and note not in (target.notes or "").split("\n"):
        target.notes = f"{target.notes}\n{note}" if target.notes else note
        target.changed.add("notes")
    people = list_items(cells.get("contact", ""))
    for person in people:
        contact = target.contacts.setdefault(_person_key(person), PlannedContact(person, changed=True))
        _add(given.setdefault("contacts", []), contact.name)
        title = clean(cells.get("title")) or None
        if title and not contact.title:
            contact.title, contact.changed = title, True
        for phone in phones if len(people) == 1 else ():
            contact.changed |= _add(contact.phones, phone)
        if len(people) == 1 and emails and not contact.email:
            contact.email, contact.changed = emails[0], True
    if any(c.changed for c in target.contacts.values()):
        target.changed.add("contacts")


def _add(items: list[str], item: str) -> bool:
    if item in items:
        return False
    items.append(item)
    return True
