"""Files attached to customers: a document or photo sent with a caption naming the customer.

`attach` stores the file once per source message (a redelivered or re-sent update finds the first one),
audited; `files_of` lists a customer's files (newest first, without their bytes) for the card and
`/files`; `file_data` gives one file back for sending.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from core.models import Customer, CustomerFile
from core.services import audit
from core.services import customers as customer_service
from core.services.actor import Actor
from core.uow import UnitOfWork
from core.usecases.views import CustomerRef

MAX_FILE_BYTES = 20 * 1024 * 1024  # what Telegram lets a bot download; larger files keep only their details
LISTED = 10  # files named on the card and sent back by /files


@dataclass(frozen=True, slots=True)
class Upload:
    """A file as the chat received it, and where it came from (its idempotency key)."""

    file_name: str
    mime_type: str | None
    data: bytes
    platform: str
    chat: str
    message_id: str
    platform_file_id: str | None = None


class AttachOutcome(StrEnum):
    ATTACHED = "attached"
    ALREADY = "already"  # this message's file was stored before
    AMBIGUOUS = "ambiguous"  # the caption fits several customers: `candidates`
    NO_CUSTOMER = "no_customer"  # the caption names no customer the member sees


@dataclass(frozen=True, slots=True)
class CustomerFileView:
    id: int
    file_name: str
    mime_type: str | None
    size: int
    created_at: datetime
    stored: bool  # False: too large to keep, only its details are known


@dataclass(frozen=True, slots=True)
class AttachResult:
    outcome: AttachOutcome
    customer: CustomerRef | None = None
    file: CustomerFileView | None = None
    file_count: int = 0  # the customer's files after this one
    candidates: tuple[CustomerRef, ...] = ()


@dataclass(frozen=True, slots=True)
class FileData:
    view: CustomerFileView
    data: bytes | None
    platform_file_id: str | None


def _view(row: CustomerFile) -> CustomerFileView:
    return CustomerFileView(row.id or 0, row.file_name, row.mime_type, row.size, row.created_at,
                            row.data is not None)


def _ref(customer: Customer) -> CustomerRef:
    return CustomerRef(customer.id or 0, customer.name)


def _mentions(caption: str) -> list[str]:
    """The caption, then shorter and shorter leading parts of it (`Acme quote v2` → `Acme quote`, `Acme`)."""
    words = caption.split()
    return [" ".join(words[:n]) for n in range(len(words), 0, -1)]


def _by_source(uow: UnitOfWork, upload: Upload) -> CustomerFile | None:
    return uow.session.exec(select(CustomerFile).where(
        CustomerFile.source_platform == upload.platform, CustomerFile.source_chat == upload.chat,
        CustomerFile.source_message_id == upload.message_id)).first()


def count_for(uow: UnitOfWork, actor: Actor, customer_id: int) -> int:
    customer_service.get_visible(uow.session, actor, customer_id)
    return uow.session.exec(select(func.count()).select_from(CustomerFile)
                            .where(CustomerFile.customer_id == customer_id)).one()


def attach(uow: UnitOfWork, actor: Actor, now: datetime, caption: str, upload: Upload) -> AttachResult:
    """Attach `upload` to the customer the caption names (once per source message; audited)."""
    existing = _by_source(uow, upload)
    if existing is not None:
        owner = customer_service.get_visible(uow.session, actor, existing.customer_id)
        return AttachResult(AttachOutcome.ALREADY, _ref(owner), _view(existing),
                            count_for(uow, actor, existing.customer_id))
    customer: Customer | None = None
    several: tuple[Customer, ...] = ()
    for mention in _mentions(caption):
        resolution = customer_service.resolve_customer(uow.session, actor, mention)
        if resolution.customer is not None:
            customer = resolution.customer
            break
        if resolution.ambiguous and not several:
            several = resolution.candidates  # the longest mention that fits several customers
    if customer is None:
        candidates = tuple(_ref(c) for c in several)
        return AttachResult(AttachOutcome.AMBIGUOUS if candidates else AttachOutcome.NO_CUSTOMER,
                            candidates=candidates)
    assert customer.id is not None
    data = upload.data
    row = CustomerFile(team_id=actor.team_id, customer_id=customer.id, member_id=actor.member_id,
                       file_name=upload.file_name, mime_type=upload.mime_type, size=len(data),
                       sha256=hashlib.sha256(data).hexdigest(), data=data if len(data) <= MAX_FILE_BYTES else None,
                       platform_file_id=upload.platform_file_id, source_platform=upload.platform,
                       source_chat=upload.chat, source_message_id=upload.message_id, created_at=now)
    try:
        with uow.session.begin_nested():
            uow.session.add(row)
            uow.session.flush()
    except IntegrityError:  # the same message stored by a concurrent delivery
        stored = _by_source(uow, upload)
        assert stored is not None
        return AttachResult(AttachOutcome.ALREADY, _ref(customer), _view(stored), count_for(uow, actor, customer.id))
    audit.record(uow.session, team_id=actor.team_id, actor_id=actor.member_id, action="attach", entity=row,
                 after={"customer_id": row.customer_id, "file_name": row.file_name, "mime_type": row.mime_type,
                        "size": row.size, "sha256": row.sha256, "source_message_id": row.source_message_id})
    return AttachResult(AttachOutcome.ATTACHED, _ref(customer), _view(row), count_for(uow, actor, customer.id))


def files_of(uow: UnitOfWork, actor: Actor, customer_id: int, *, limit: int = LISTED) -> tuple[CustomerFileView, ...]:
    """A customer's files, newest first (for the card: names and count; for /files)."""
    customer_service.get_visible(uow.session, actor, customer_id)
    rows = uow.session.exec(select(CustomerFile).where(CustomerFile.customer_id == customer_id)
                            .order_by(col(CustomerFile.created_at).desc(), col(CustomerFile.id).desc())
                            .limit(limit))
    return tuple(_view(row) for row in rows)


def file_data(uow: UnitOfWork, actor: Actor, file_id: int) -> FileData | None:
    """One stored file with its bytes, if the actor sees its customer."""
    row = uow.session.get(CustomerFile, file_id)
    if row is None or row.team_id != actor.team_id:
        return None
    customer_service.get_visible(uow.session, actor, row.customer_id)
    return FileData(_view(row), row.data, row.platform_file_id)
