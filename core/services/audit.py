"""An audit event for every write.

Each event names the customer it concerns (`AuditEvent.customer_id`) so a customer's history (`/history`,
core.usecases.history) and a privacy export or erasure can find every event about it in one indexed query: the
customer itself, or any row carrying a `customer_id` (interaction, follow-up, deal, contact, file, access), or the
value passed explicitly (a row already deleted, an event named by a string).

`record` adds the event to the session; at the session's next flush (a query's autoflush, or the commit) every
event recorded since is written in one multi-row INSERT, in the order recorded, inside the same transaction as
the rows it describes (`_write_events`). Nothing reads an event's id back, so no RETURNING: on SQLite the ORM
would otherwise send one INSERT per event to learn each id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert
from sqlalchemy import inspect as sa_inspect
from sqlmodel import Session, SQLModel

from core.models import AuditEvent, Customer, utcnow

_SKIP = {"search_text", "name_key", "data"}


def snapshot(row: SQLModel | None) -> dict[str, Any] | None:
    if row is None:
        return None
    data = row.model_dump(mode="json")
    return {key: value for key, value in data.items() if key not in _SKIP}


def customer_of(entity: SQLModel | str, entity_id: int | None) -> int | None:
    """The customer an event is about, when the entity tells it."""
    if isinstance(entity, Customer):
        return entity.id
    if isinstance(entity, str):
        return entity_id if entity == "customer" else None
    value = getattr(entity, "customer_id", None)
    return value if isinstance(value, int) else None


def record(session: Session, *, team_id: int, actor_id: int | None, action: str, entity: SQLModel | str,
           entity_id: int | None = None, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, customer_id: int | None = None) -> None:
    name = entity if isinstance(entity, str) else entity.__class__.__name__.lower()
    if entity_id is None and not isinstance(entity, str):
        entity_id = getattr(entity, "id", None)
    if customer_id is None:
        customer_id = customer_of(entity, entity_id)
    session.add(AuditEvent(team_id=team_id, actor_id=actor_id, action=action, entity=name,
                           entity_id=entity_id, customer_id=customer_id, before=before, after=after, at=utcnow()))


_COLUMNS = tuple(c.key for c in AuditEvent.__table__.columns if c.key != "id")  # type: ignore[attr-defined]


@event.listens_for(Session, "before_flush")
def _write_events(session: Session, _flush: object, _instances: object) -> None:
    """The events recorded since the last flush, in one INSERT before the flush writes the rest; they leave the
    session (an event is never changed nor read back by its object)."""
    events = sorted((row for row in session.new if isinstance(row, AuditEvent)),
                    key=lambda row: sa_inspect(row).insert_order)
    if not events:
        return
    for row in events:
        session.expunge(row)
    session.connection().execute(insert(AuditEvent), [{key: getattr(row, key) for key in _COLUMNS}
                                                      for row in events])
