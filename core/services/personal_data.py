"""Everything stored about one customer or one contact person (a privacy export), and the whole team's records
as streamed rows (`chatcrm export`).

`collect` reads rows as plain dicts (JSON-ready: times in ISO 8601 UTC, amounts as strings), one list per kind, in
a fixed order: the customer and its contacts, interactions (texts and transcripts), conversation messages
(imported or forwarded), follow-ups, deals and their stage changes, files (names, sizes; their bytes apart), stored
voice clips (their bytes apart) and the audit entries about any of these rows. For a contact person only what is
theirs: the contact, the notes linked to them with those notes' messages, follow-ups, deals and audio, and the
audit entries about those rows (the customer appears as a name, for context).

`team_sheets` yields, per kind, a header and an iterator of rows read with `yield_per` (columns, not ORM
objects: nothing accumulates in the session), so 100k customers are written without holding them in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from core.models import (
    AudioClip,
    AuditEvent,
    Contact,
    ConversationMessage,
    Customer,
    CustomerFile,
    Deal,
    DealStageChange,
    FollowUp,
    Interaction,
    Member,
)

KINDS = ("customer", "contacts", "interactions", "conversation", "follow_ups", "deals", "stage_changes", "files",
         "audio", "audit")
_SKIP = {"search_text", "name_key", "data"}  # derived or binary: the bytes travel as files of their own
CHUNK = 500
MAX_ATTACHED = 20 * 1024 * 1024  # stored files and audio go into the zip while their total stays below this


@dataclass
class PersonalData:
    """One subject's rows per kind, and the stored bytes of its files and audio (name → bytes)."""

    name: str
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    attachments: dict[str, bytes] = field(default_factory=dict)
    attachments_left_out: int = 0  # files or clips over MAX_ATTACHED, listed but not attached


def _row(row: SQLModel) -> dict[str, Any]:
    return {key: value for key, value in row.model_dump(mode="json").items() if key not in _SKIP}


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def merged_into(session: Session, customer_id: int) -> list[int]:
    """The customer and every tombstone merged into it, directly or through another tombstone."""
    found, frontier = [customer_id], [customer_id]
    while frontier:
        frontier = [i for i in session.exec(select(Customer.id).where(col(Customer.merged_into_id).in_(frontier)))
                    if i is not None and i not in found]
        found.extend(frontier)
    return found


def _all(session: Session, model: type[SQLModel], column: Any, ids: list[int]) -> list[Any]:
    out: list[Any] = []
    for chunk in _chunks(ids):
        out.extend(session.exec(select(model).where(col(column).in_(chunk)).order_by(col(model.id))))  # type: ignore[attr-defined]
    return out


def collect(session: Session, team_id: int, customer_id: int, contact_id: int | None = None) -> PersonalData:
    """Everything stored about customer `customer_id` (with its merged tombstones), or only about its contact
    `contact_id`."""
    customer = session.get(Customer, customer_id)
    assert customer is not None and customer.team_id == team_id
    contact = session.get(Contact, contact_id) if contact_id is not None else None
    if contact_id is not None:
        assert contact is not None and contact.customer_id == customer_id
    data = PersonalData(contact.name if contact else customer.name)
    rows = data.rows
    if contact is None:
        customer_ids = merged_into(session, customer_id)
        rows["customer"] = [_row(c) for c in _all(session, Customer, Customer.id, customer_ids)]
        contacts = _all(session, Contact, Contact.customer_id, customer_ids)
        interactions = _all(session, Interaction, Interaction.customer_id, customer_ids)
        follow_ups = _all(session, FollowUp, FollowUp.customer_id, customer_ids)
        deals = _all(session, Deal, Deal.customer_id, customer_ids)
        files = _all(session, CustomerFile, CustomerFile.customer_id, customer_ids)
    else:
        customer_ids = []
        rows["customer"] = [{"id": customer.id, "name": customer.name}]
        contacts = [contact]
        interactions = list(session.exec(select(Interaction).where(Interaction.contact_id == contact.id)
                                         .order_by(col(Interaction.id))))
        note_ids = [i.id for i in interactions if i.id is not None]
        follow_ups = _all(session, FollowUp, FollowUp.source_interaction_id, note_ids)
        deals = _all(session, Deal, Deal.source_interaction_id, note_ids)
        files = _all(session, CustomerFile, CustomerFile.interaction_id, note_ids)
    note_ids = [i.id for i in interactions if i.id is not None]
    messages = _all(session, ConversationMessage, ConversationMessage.interaction_id, note_ids)
    if contact is None:  # messages keyed by the customer whose record went elsewhere (re-filed, undone)
        seen = {m.id for m in messages}
        keys = [str(i) for i in customer_ids]
        messages += [m for m in session.exec(select(ConversationMessage).where(
            ConversationMessage.team_id == team_id, col(ConversationMessage.customer_key).in_(keys)))
            if m.id not in seen]
    deal_ids = [d.id for d in deals if d.id is not None]
    changes = _all(session, DealStageChange, DealStageChange.deal_id, deal_ids)
    clips = _all(session, AudioClip, AudioClip.interaction_id, note_ids)
    rows["contacts"] = [_row(c) for c in contacts]
    rows["interactions"] = [_row(i) for i in interactions]
    rows["conversation"] = [_row(m) for m in messages]
    rows["follow_ups"] = [_row(f) for f in follow_ups]
    rows["deals"] = [_row(d) for d in deals]
    rows["stage_changes"] = [_row(c) for c in changes]
    rows["files"] = [_row(f) for f in files]
    rows["audio"] = [_row(a) for a in clips]
    entities = {"customer": customer_ids, "contact": [c.id for c in contacts if c.id is not None],
                "interaction": note_ids, "followup": [f.id for f in follow_ups if f.id is not None],
                "deal": deal_ids, "customerfile": [f.id for f in files if f.id is not None]}
    rows["audit"] = [_row(e) for e in audit_events(session, team_id, customer_ids, entities)]
    budget = MAX_ATTACHED
    for item in [*files, *clips]:
        blob = item.data
        if blob is None:
            continue
        if len(blob) > budget:
            data.attachments_left_out += 1
            continue
        budget -= len(blob)
        if isinstance(item, CustomerFile):
            data.attachments[f"files/{item.id}-{_safe(item.file_name)}"] = blob
        else:
            extension = (item.mime_type or "audio/ogg").rsplit("/", 1)[-1].split(";")[0] or "bin"
            data.attachments[f"audio/{item.interaction_id}-{item.id}.{_safe(extension)}"] = blob
    return data


def audit_events(session: Session, team_id: int, customer_ids: list[int],
                 entities: dict[str, list[int]]) -> list[AuditEvent]:
    """The team's audit events about these customers (`customer_id`) or about any of these rows."""
    found: dict[int, AuditEvent] = {}
    for chunk in _chunks(customer_ids):
        for event in session.exec(select(AuditEvent).where(AuditEvent.team_id == team_id,
                                                           col(AuditEvent.customer_id).in_(chunk))):
            found[event.id or 0] = event
    for entity, ids in entities.items():
        for chunk in _chunks(ids):
            for event in session.exec(select(AuditEvent).where(AuditEvent.team_id == team_id,
                                                               AuditEvent.entity == entity,
                                                               col(AuditEvent.entity_id).in_(chunk))):
                found[event.id or 0] = event
    return [found[i] for i in sorted(found)]


def _safe(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_.() " else "_" for ch in name).strip(" .")
    return cleaned[:80] or "file"


# -- the whole team, streamed ------------------------------------------------------------------------------------

TEAM_SHEETS: dict[str, tuple[type[SQLModel], tuple[str, ...]]] = {
    "customers": (Customer, ("id", "name", "aliases", "phones", "emails", "address", "region", "tags", "notes",
                             "owner_id", "shared", "important", "last_interaction_at", "merged_into_id",
                             "erased_at", "created_at")),
    "contacts": (Contact, ("id", "customer_id", "name", "title", "phones", "email", "notes", "created_at")),
    "interactions": (Interaction, ("id", "customer_id", "contact_id", "member_id", "kind", "occurred_at", "text",
                                   "transcript", "amounts", "source_platform", "deleted_at", "created_at")),
    "follow_ups": (FollowUp, ("id", "customer_id", "member_id", "due_at", "action", "kind", "amount", "currency",
                              "status", "source_interaction_id", "sent_at", "done_at", "created_at")),
    "deals": (Deal, ("id", "customer_id", "owner_id", "title", "stage", "amount", "currency", "probability",
                     "expected_close", "won_at", "lost_at", "lost_reason", "created_at")),
    "members": (Member, ("id", "name", "role", "timezone", "language", "country", "active", "created_at")),
}
YIELD_PER = 2000


def team_sheets(session: Session, team_id: int) -> Iterator[tuple[str, tuple[str, ...], Iterable[tuple[Any, ...]]]]:
    """(kind, header, rows) per sheet of `TEAM_SHEETS`; each row's values as stored, in the header's order."""
    for kind, (model, columns) in TEAM_SHEETS.items():
        yield kind, columns, _stream(session, model, columns, team_id)


def _stream(session: Session, model: type[SQLModel], columns: tuple[str, ...], team_id: int
            ) -> Iterator[tuple[Any, ...]]:
    query: Select[Any] = (sa_select(*(col(getattr(model, name)) for name in columns))
                          .where(col(model.team_id) == team_id)  # type: ignore[attr-defined]
                          .order_by(col(model.id))  # type: ignore[attr-defined]
                          .execution_options(yield_per=YIELD_PER))
    for row in session.execute(query):
        yield tuple(row)
