"""An audit event for every write."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, SQLModel

from core.models import AuditEvent, utcnow

_SKIP = {"search_text", "name_key", "data"}


def snapshot(row: SQLModel | None) -> dict[str, Any] | None:
    if row is None:
        return None
    data = row.model_dump(mode="json")
    return {key: value for key, value in data.items() if key not in _SKIP}


def record(session: Session, *, team_id: int, actor_id: int | None, action: str, entity: SQLModel | str,
           entity_id: int | None = None, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None) -> None:
    name = entity if isinstance(entity, str) else entity.__class__.__name__.lower()
    if entity_id is None and not isinstance(entity, str):
        entity_id = getattr(entity, "id", None)
    session.add(AuditEvent(team_id=team_id, actor_id=actor_id, action=action, entity=name,
                           entity_id=entity_id, before=before, after=after, at=utcnow()))
