"""A customer list (CSV or XLSX) shared in the chat: every row becomes or completes a customer, in one go."""

from __future__ import annotations

from dataclasses import dataclass

from core.exports import looks_like_export
from core.services import customer_lists
from core.services.actor import Actor
from core.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class CustomerListImported:
    created: int
    updated: int
    skipped: int
    names: tuple[str, ...]  # of the customers created, in the list's order


def is_customer_list(data: bytes, file_name: str | None = None) -> bool:
    """A spreadsheet or CSV with a customer-name column, and not a chat export (those go to `chat_imports`)."""
    return not looks_like_export(data, file_name) and customer_lists.is_customer_list(data)


def import_customer_list(uow: UnitOfWork, actor: Actor, data: bytes) -> CustomerListImported:
    """Create the customers the list names, complete the ones that exist (raises `NotACustomerList`)."""
    result = customer_lists.import_customer_list(uow.session, actor, data)
    return CustomerListImported(result.created, result.updated, result.skipped, tuple(result.names))
