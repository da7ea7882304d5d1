"""SQLite's checkpoint after an erasure when another connection holds a read open: the erasure still commits,
the blocked checkpoint is logged (waiting at most CHECKPOINT_WAIT_MS), and once the reader is gone the next
checkpoint leaves no erased byte in the database file or its WAL."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest
from sqlmodel import select

from core.models import Contact
from core.uow import unit_of_work
from core.usecases import privacy
from tests.integration.usecases.test_customer_truth import NOW, run
from tests.integration.usecases.test_erased_details import _populate

NAME = "王志明"


def count(path: Path) -> int:
    data = path.read_bytes() if path.exists() else b""
    return sum(data.count(form) for form in (NAME.encode(), json.dumps(NAME)[1:-1].encode()))


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_reader_holds_the_checkpoint_back_and_the_next_one_finishes_it(engine, caplog):
    manager, ids = _populate(engine)
    database = Path(engine.url.database or "")
    wal = database.with_name(database.name + "-wal")
    reader = sqlite3.connect(database, isolation_level=None)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM contact").fetchone()[0] == 3  # a snapshot before the erasure
        with caplog.at_level(logging.WARNING, logger="core.services.erasure"):
            result, _ = run(engine, lambda uow: privacy.erase(uow, manager, NOW, "contact", ids["wang"], "本人要求"))
        assert result.status is privacy.EraseStatus.DONE
        assert "the WAL checkpoint was blocked by a reader" in caplog.text
        with unit_of_work(engine) as uow:
            assert uow.session.get(Contact, ids["wang"]) is None
            assert NAME not in [c.name for c in uow.session.exec(select(Contact))]
    finally:
        reader.close()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()[0] == 0
    assert count(database) == count(wal) == 0
