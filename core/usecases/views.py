"""Plain, frozen views of stored rows: what use cases hand to the chat layer to render (no ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CustomerRef:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class FollowUpView:
    id: int
    action: str
    due_at: datetime
    status: str
    customer: CustomerRef | None
    explicit_time: bool = False
    stamp: str = ""  # the due minute a card was drawn for (a button from an older card changes nothing)
