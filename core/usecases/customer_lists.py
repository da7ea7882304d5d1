"""A customer list (CSV or XLSX) shared in the chat or given to `chatcrm import-customers`: every row becomes or
completes a customer of the team, rows of one company merged, in one unit of work (all or nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import select

from core.exports import looks_like_export
from core.models import Member, utcnow
from core.services import customer_lists
from core.services.actor import Actor
from core.services.customer_list_writes import write_plan
from core.services.customer_lists import SKIP_REASONS, ImportPlan, NotACustomerList, PlannedCustomer
from core.services.errors import InvalidInput, NotAllowed
from core.services.list_files import MAX_ROWS, looks_like_spreadsheet
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


def import_customer_list(uow: UnitOfWork, actor: Actor, data: bytes, file_name: str | None = None, *,
                         now: datetime | None = None, dry_run: bool = False,
                         owner: str | None = None) -> CustomerListImported:
    """Create the customers the list names, complete the ones the team has (raises `NotACustomerList` with a
    `reason`: empty, encrypted, old_xls, damaged, binary, unknown_encoding, no_name_column, too_many_rows).

    `owner` (a member's name) owns the customers created from rows that name no owner; owners and managers only.
    With `dry_run` nothing is written and the result says what would have happened."""
    owner_id = _owner_id(uow, actor, owner) if owner else None
    plan = customer_lists.read_and_plan(uow.session, actor, data, file_name, owner_id=owner_id)
    if not dry_run:
        write_plan(uow.session, actor, plan, now or utcnow())
    return _result(plan, dry_run)


def _owner_id(uow: UnitOfWork, actor: Actor, name: str) -> int:
    if not actor.sees_whole_team:
        raise NotAllowed("only owners and managers import customers for someone else")
    members = uow.session.exec(select(Member.id, Member.name).where(Member.team_id == actor.team_id)).all()
    found = [mid for mid, member_name in members if match_key(member_name) == match_key(name)]
    if not found or found[0] is None:
        raise UnknownOwner(f"no member named {name!r}", members=[n for _, n in members])
    return found[0]


def _result(plan: ImportPlan, dry_run: bool) -> CustomerListImported:
    listed = tuple(_listed(plan, c) for c in plan.customers)
    return CustomerListImported(
        created=plan.created, updated=plan.updated, skipped=len(plan.skipped),
        names=tuple(c.name for c in plan.customers if c.existing_id is None),
        merged_duplicates=plan.merged_duplicates,
        skipped_rows=tuple(SkippedRow(row, SKIP_REASONS[code], code) for row, code in plan.skipped),
        customers=listed, dry_run=dry_run)


def _listed(plan: ImportPlan, c: PlannedCustomer) -> ListedCustomer:
    owner = plan.member_names.get(c.owner_id) if c.owner_id is not None else None
    if not c.visible:  # a colleague's customer the member may not see: only what the file itself gave
        given = c.from_file
        return ListedCustomer(c.name, tuple(given.get("phones", ())), tuple(given.get("emails", ())),
                              tuple(given.get("contacts", ())), owner, False)
    emails = [e for e in (c.email, *(p.email for p in c.contacts.values())) if e]
    return ListedCustomer(c.name, tuple(c.phones), tuple(dict.fromkeys(emails)),
                          tuple(p.name for p in c.contacts.values()), owner, c.existing_id is None)
