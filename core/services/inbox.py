"""Updates already handled: every key an update carries is stored with its effects, so a redelivery is ignored."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core.models import ProcessedUpdate
from core.uow import UnitOfWork


class Redelivered(Exception):
    """The update was handled before (the platform sent it again)."""


def seen_before(uow: UnitOfWork, platform: str, keys: Sequence[str]) -> bool:
    return any(uow.session.exec(select(ProcessedUpdate.id).where(ProcessedUpdate.platform == platform,
                                                                 ProcessedUpdate.key == key)).first() is not None
               for key in keys)


def mark_handled(uow: UnitOfWork, platform: str, keys: Sequence[str]) -> None:
    """Record the keys in the update's own transaction; a concurrent delivery that got there first raises."""
    for key in keys:
        try:
            with uow.session.begin_nested():
                uow.session.add(ProcessedUpdate(platform=platform, key=key))
        except IntegrityError as exc:
            raise Redelivered(key) from exc
