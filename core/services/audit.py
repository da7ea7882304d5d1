"""An audit event for every write.

Each event names the customer it concerns (`AuditEvent.customer_id`) so a customer's history (`/history`,
core.usecases.history) and a privacy export or erasure can find every event about it in one indexed query: the
customer itself, or any row carrying a `customer_id` (interaction, follow-up, deal, contact, file, access), or the
value passed explicitly (a row already deleted, an event named by a string)."""

from __future__ import annotations

from typing import Any

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
