"""SQLite in WAL mode: a transaction that began with a read fails at its first write, at once, when another
connection committed in between ("database is locked", whatever the busy timeout). So a transaction the bot opens
for a savepoint, and one that `lock_for_writing` opens, takes the write lock first: the other writer waits its
turn instead, and both writes land."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

import pytest
from sqlmodel import Session, func, select

from core.db import lock_for_writing, make_engine
from core.models import Team


def team_names(engine) -> list[str]:
    with Session(engine) as session:
        return sorted(team.name for team in session.exec(select(Team)))


def write_elsewhere(engine, name: str, started: threading.Event) -> threading.Thread:
    """Another connection adds a team and commits (in a thread: it may have to wait for the lock)."""
    def run() -> None:
        other = make_engine(engine.url.render_as_string(hide_password=False))
        try:
            with Session(other) as session:
                started.set()
                session.add(Team(name=name))
                session.commit()
        finally:
            other.dispose()
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_deferred_transaction_that_read_first_cannot_write_after_another_connection_did(sqlite_engine):
    """Why: the plain driver's behaviour, which the bot's transactions avoid."""
    path = sqlite_engine.url.database
    ours, theirs = sqlite3.connect(path, timeout=5), sqlite3.connect(path, timeout=5)
    try:
        theirs.execute("CREATE TABLE probe (x)")
        theirs.commit()
        ours.execute("BEGIN")
        ours.execute("SELECT count(*) FROM probe").fetchone()  # the snapshot
        theirs.execute("INSERT INTO probe VALUES ('elsewhere')")
        theirs.commit()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            ours.execute("INSERT INTO probe VALUES ('ours')")
    finally:
        ours.close()
        theirs.close()


def savepoint_first(session: Session) -> None:
    with session.begin_nested():  # the unit of work's first statement is a savepoint
        session.exec(select(func.count()).select_from(Team)).one()


@pytest.mark.parametrize("opening", [savepoint_first, lock_for_writing], ids=["savepoint", "lock_for_writing"])
def test_the_bots_transaction_takes_the_lock_first_so_the_other_writer_waits_and_both_land(
        sqlite_engine, opening: Callable[[Session], None]):
    before = team_names(sqlite_engine)
    with Session(sqlite_engine) as session:
        opening(session)
        session.exec(select(Team)).all()
        started = threading.Event()
        other = write_elsewhere(sqlite_engine, "elsewhere", started)
        assert started.wait(10)
        with session.begin_nested():
            session.add(Team(name="ours"))
        session.commit()
    other.join(30)
    assert not other.is_alive()
    assert team_names(sqlite_engine) == sorted([*before, "elsewhere", "ours"])
