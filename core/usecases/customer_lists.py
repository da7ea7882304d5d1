"""A customer list (CSV or XLSX) shared in the chat or given to `chatcrm import-customers`: every row becomes or
completes a customer of the team, rows of one company merged, streamed in chunks inside one savepoint of the unit of work (all or nothing)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import select

from core.exports import looks_like_export
from core.models import Member, utcnow
from core.services import customer_lists
from core.services.actor import Actor
from core.services.customer_list_writes import write_chunk, write_import_event
from core.services.customer_lists import SKIP_REASONS, ImportPlan, NotACustomerList, PlannedCustomer
from core.services.errors import InvalidInput, NotAllowed
from core.services.list_files import MAX_ROWS, looks_like_spreadsheet, read_list
from core.text import match_key
from core.uow import UnitOfWork

__all__ = ["MAX_ROWS", "CustomerListImported", "ListedCustomer", "NotACustomerList", "SkippedRow", "UnknownOwner",
           "import_customer_list", "is_customer_list"]


class UnknownOwner(InvalidInput):
    code = "unknown_owner"


@dataclass(frozen=True, slots=True)
class SkippedRow:
    row: int  # as numbered in the sheet (Excel's row number; the CSV's record number)
    reason: str  # in English, for the CLI's JSON
    code: str  # no_name | name_too_long, for the chat's catalogue


@dataclass(frozen=True, slots=True)
class ListedCustomer:
    name: str
    phones: tuple[str, ...]  # E.164
    emails: tuple[str, ...]
    contacts: tuple[str, ...]
    owner: str | None
    created: bool


@dataclass(frozen=True, slots=True)
class CustomerListImported:
    created: int
    updated: int
    skipped: int
    names: tuple[str, ...]  # of the customers created, in the list's order
    merged_duplicates: int = 0
    skipped_rows: tuple[SkippedRow, ...] = ()
    customers: tuple[ListedCustomer, ...] = ()  # every customer the list created or updated, in the list's order
    dry_run: bool = False

    def as_json(self) -> dict[str, Any]:
        """The `chatcrm import-customers --json` contract."""
        return {"created": self.created, "updated": self.updated, "merged_duplicates": self.merged_duplicates,
                "skipped": [{"row": s.row, "reason": s.reason} for s in self.skipped_rows],
                "customers": [{"name": c.name, "phones": list(c.phones), "emails": list(c.emails),
                               "contacts": list(c.contacts), "owner": c.owner} for c in self.customers]}


def is_customer_list(data: bytes, file_name: str | None = None) -> bool:
    """Meant as a customer list, and not a chat export (those go to `chat_imports`): a spreadsheet (XLSX, even a
    damaged or protected one, so the reply can say what is wrong), a file named .csv, or a text with a
    customer-name column."""
    if looks_like_export(data, file_name):
        return False
    return looks_like_spreadsheet(data, file_name) or customer_lists.is_customer_list(data, file_name)


CHUNK_ROWS = 5000  # rows planned and written together: memory is bounded by a chunk, not by the list


def import_customer_list(uow: UnitOfWork, actor: Actor, data: bytes, file_name: str | None = None, *,
                         now: datetime | None = None, dry_run: bool = False, owner: str | None = None,
                         list_customers: bool = True) -> CustomerListImported:
    """Create the customers the list names, complete the ones the team has (raises `NotACustomerList` with a
    `reason`: empty, encrypted, old_xls, damaged, binary, unknown_encoding, no_name_column, too_many_rows).

    The list is streamed in chunks of `CHUNK_ROWS` rows, each planned and written with bulk statements, all inside
    one savepoint of the unit of work: a file that turns out bad past its first chunk (too many rows, cut off)
    leaves nothing behind. `owner` (a member's name) owns the customers created from rows that name no owner;
    owners and managers only. With `dry_run` the same work is done and rolled back, so the result says exactly
    what the import would do. `list_customers=False` leaves `customers` empty (the chat shows only counts)."""
    owner_id = _owner_id(uow, actor, owner) if owner else None
    sheet = read_list(data, file_name)
    session = uow.session
    moment = now or utcnow()
    listed: dict[int, ListedCustomer] | None = {} if list_customers else None
    names: list[str] = []
    savepoint = session.begin_nested()
    try:
        with customer_lists.fewer_collections():
            team, plan = customer_lists.start_import(session, actor, sheet)
            while chunk := list(itertools.islice(sheet.rows, CHUNK_ROWS)):
                planned = customer_lists.plan_chunk(session, actor, team, plan, chunk, owner_id=owner_id)
                names.extend(c.name for c in planned if c.existing_id is None)
                write_chunk(session, actor, team, planned, moment)
                if listed is not None:
                    for c in planned:
                        assert c.stored_id is not None
                        listed[c.stored_id] = _listed(plan, c, listed.get(c.stored_id))
            write_import_event(session, actor, plan, moment)
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    return CustomerListImported(
        created=plan.created, updated=plan.updated, skipped=len(plan.skipped), names=tuple(names),
        merged_duplicates=plan.merged_duplicates,
        skipped_rows=tuple(SkippedRow(row, SKIP_REASONS[code], code) for row, code in plan.skipped),
        customers=tuple(listed.values()) if listed is not None else (), dry_run=dry_run)


def _owner_id(uow: UnitOfWork, actor: Actor, name: str) -> int:
    if not actor.sees_whole_team:
        raise NotAllowed("only owners and managers import customers for someone else")
    members = uow.session.exec(select(Member.id, Member.name).where(Member.team_id == actor.team_id)).all()
    found = [mid for mid, member_name in members if match_key(member_name) == match_key(name)]
    if not found or found[0] is None:
        raise UnknownOwner(f"no member named {name!r}", members=[n for _, n in members])
    return found[0]


def _listed(plan: ImportPlan, c: PlannedCustomer, earlier: ListedCustomer | None) -> ListedCustomer:
    """The customer as the result lists it; `earlier` is what an earlier chunk listed for the same customer."""
    owner = plan.member_names.get(c.owner_id) if c.owner_id is not None else None
    created = c.created_here
    if not c.visible:  # a colleague's customer the member may not see: only what the file itself gave
        given = c.from_file
        before = earlier or ListedCustomer(c.name, (), (), (), owner, False)
        return ListedCustomer(c.name, tuple(dict.fromkeys([*before.phones, *given.get("phones", ())])),
                              tuple(dict.fromkeys([*before.emails, *given.get("emails", ())])),
                              tuple(dict.fromkeys([*before.contacts, *given.get("contacts", ())])), owner, False)
    emails = [e for e in (*c.emails, *(p.email for p in c.contacts.values())) if e]
    return ListedCustomer(c.name, tuple(c.phones), tuple(dict.fromkeys(emails)),
                          tuple(p.name for p in c.contacts.values()), owner, created)
