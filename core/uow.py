"""The unit of work a use case runs in: one transaction, and the events it raised for after the commit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlmodel import Session

from core.db import session_scope
from core.events import Event


class UnitOfWork:
    """Everything written through `session` commits together or not at all.

    Use cases `publish` what the rest of the app should react to once the work is committed (wake the
    scheduler, restart a forward burst's timer); the composition root delivers the events after the commit.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        if event not in self.events:
            self.events.append(event)

    def commit(self) -> None:
        """Commit what is done so far and hand the connection back (before a long wait, e.g. Whisper)."""
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
        self.events.clear()


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[UnitOfWork]:
    """Commit on success, roll back everything on any error (see `core.db.session_scope`)."""
    with session_scope(engine) as session:
        yield UnitOfWork(session)


class Database:
    """The app's database as the chat layer sees it: units of work, nothing else."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        with unit_of_work(self.engine) as uow:
            yield uow
