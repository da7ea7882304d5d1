"""Exports the file alone cannot import (the day/month order unknown, several chats to pick from): parked on
disk until the member says which.

`park` keeps the file (its only copy: the chat does not send it twice); `take` reads it back when the member
chose; `resume` (one chat) or `resume_all` (each chat of an account export) imports it as chosen and publishes
`SpooledFileDone`, so the copy is removed only once that unit of work committed (a failure leaves it parked,
and the button can be pressed again).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core.events import SpooledFileDone
from core.exports import ParsedConversation
from core.services.actor import Actor
from core.uow import UnitOfWork
from core.usecases.chat_imports import (
    DateOrder,
    ImportView,
    Unreadable,
    import_conversation,
    import_conversations,
)

DATE_ORDERS: tuple[DateOrder, ...] = ("dmy", "mdy")
SUFFIXES = (".bin", ".json")


@dataclass(frozen=True, slots=True)
class SpooledExport:
    token: str
    data: bytes
    file_name: str | None
    path: Path  # the spool entry, without its suffix


def park(spool_dir: Path, actor: Actor, data: bytes, file_name: str | None) -> str:
    """Keep the file for `actor`; returns the token the answer buttons carry."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(6)
    base = _base(spool_dir, actor, token)
    base.with_suffix(".bin").write_bytes(data)
    base.with_suffix(".json").write_text(json.dumps({"file_name": file_name}), encoding="utf-8")
    return token


def date_order(answer: str) -> DateOrder | None:
    return answer if answer in DATE_ORDERS else None


def take(spool_dir: Path, actor: Actor, token: str) -> SpooledExport | None:
    """The file parked under `token` for `actor`, or None when it is gone (answered already, or cleaned up)."""
    if not token.isalnum():
        return None
    base = _base(spool_dir, actor, token)
    try:
        data = base.with_suffix(".bin").read_bytes()
        meta = json.loads(base.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return SpooledExport(token, data, meta.get("file_name") if isinstance(meta, dict) else None, base)


def resume(uow: UnitOfWork, actor: Actor, now: datetime, spooled: SpooledExport,
           parsed: ParsedConversation | Unreadable, *, also_known_as: tuple[str, ...] = ()) -> ImportView | Unreadable:
    """Import the parked file as parsed in the chosen order; its copy goes after the commit, whatever it held."""
    uow.publish(SpooledFileDone(spooled.path))
    if isinstance(parsed, Unreadable):
        return parsed
    return import_conversation(uow, actor, now, parsed, also_known_as=also_known_as)


def resume_all(uow: UnitOfWork, actor: Actor, now: datetime, spooled: SpooledExport,
               parsed: tuple[ParsedConversation, ...] | Unreadable, *, also_known_as: tuple[str, ...] = ()
               ) -> tuple[ImportView, ...] | Unreadable:
    """Import every chat of the parked file, each its own conversation; its copy goes after the commit."""
    uow.publish(SpooledFileDone(spooled.path))
    if isinstance(parsed, Unreadable):
        return parsed
    return import_conversations(uow, actor, now, parsed, also_known_as=also_known_as)


def discard(event: SpooledFileDone) -> None:
    """Remove a spooled copy (after the commit of the unit of work that imported it)."""
    for suffix in SUFFIXES:
        event.path.with_suffix(suffix).unlink(missing_ok=True)


def _base(spool_dir: Path, actor: Actor, token: str) -> Path:
    return spool_dir / f"{actor.member_id}-{token}"
