"""SQLite in WAL mode: a transaction that reads and then writes fails at its first write, at once, when another
connection committed in between ("database is locked", whatever the busy timeout). `lock_for_writing` takes the
write lock first, so the other writer waits its turn instead, and both writes land."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, func, select

from core.db import lock_for_writing, make_engine
from core.models import Team


def team_count(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Team)).one()


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


def test_a_read_then_write_transaction_fails_when_another_connection_wrote_in_between(sqlite_engine):
    before = team_count(sqlite_engine)
    session = Session(sqlite_engine)
    try:
        with pytest.raises(OperationalError, match="locked"), session.begin_nested():  # a savepoint: BEGIN first
            session.exec(select(Team)).all()  # the read starts the snapshot
            write_elsewhere(sqlite_engine, "elsewhere", threading.Event()).join()
            session.add(Team(name="ours"))
            session.flush()
    finally:
        session.close()
    assert team_count(sqlite_engine) == before + 1  # only the other connection's


def test_with_the_write_lock_taken_first_the_other_writer_waits_and_both_land(sqlite_engine):
    before = team_count(sqlite_engine)
    with Session(sqlite_engine) as session:
        lock_for_writing(session)
        with session.begin_nested():
            session.exec(select(Team)).all()
        started = threading.Event()
        other = write_elsewhere(sqlite_engine, "elsewhere", started)
        assert started.wait(10)
        with session.begin_nested():
            session.add(Team(name="ours"))
        session.commit()
    other.join(30)
    assert not other.is_alive()
    with Session(sqlite_engine) as session:
        names = sorted(team.name for team in session.exec(select(Team)).all()[before:])
    assert names == ["elsewhere", "ours"]
