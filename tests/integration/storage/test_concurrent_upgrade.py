"""Several processes starting at once on one fresh PostgreSQL database: the schema upgrade runs under an
advisory lock, so every process succeeds and the schema ends at the newest migration."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import core.models  # noqa: F401 - registers every table on SQLModel.metadata
from core.db import SCHEMA_LOCK, alembic_config, make_engine
from tests.conftest import _admin_engine, drop_postgres, postgres_url

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[3]
PROCESSES = 4
WAIT = 120.0  # seconds a sentinel may take to appear before the test gives up (never reached when all is well)

# One process: connect, say it is ready, start upgrading when the go file appears (all start together).
UPGRADER = """
import sys, time
from pathlib import Path
from core.db import make_engine, upgrade
url, ready, go = sys.argv[1:4]
engine = make_engine(url)
with engine.connect():
    pass
Path(ready).touch()
deadline = time.monotonic() + 120
while not Path(go).exists():
    if time.monotonic() > deadline:
        sys.exit("no go signal")
    time.sleep(0.005)
upgrade(engine)
engine.dispose()
"""


@pytest.fixture
def empty_database(postgres_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database with no tables (not cloned from the migrated template)."""
    name = f"chatcrm_upgrade_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    yield postgres_url(name)
    drop_postgres(name)


def upgrader(url: str, ready: Path, go: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", UPGRADER, url, str(ready), str(go)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


def finished(process: subprocess.Popen[str]) -> tuple[int, str]:
    output, _ = process.communicate(timeout=WAIT)
    return process.returncode, output


def assert_at_head(url: str) -> None:
    engine = make_engine(url)
    try:
        heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
        with engine.connect() as connection:
            assert set(MigrationContext.configure(connection).get_current_heads()) == heads
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert sorted(versions) == sorted(heads)  # one row per head: nobody stamped twice
        missing = set(SQLModel.metadata.tables) - set(inspect(engine).get_table_names())
        assert not missing
    finally:
        engine.dispose()


def test_four_processes_upgrading_a_fresh_database_at_once_all_succeed(empty_database, tmp_path):
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(PROCESSES)]
    processes = [upgrader(empty_database, path, go) for path in ready]
    try:
        wait_until(lambda: all(path.exists() for path in ready), "every process to connect")
        go.touch()
        results = [finished(process) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    assert [code for code, _ in results] == [0] * PROCESSES, "\n".join(output for _, output in results)
    assert_at_head(empty_database)


def _waiting_for_the_schema_lock(admin_url: str, database: str) -> bool:
    admin = make_engine(admin_url)
    try:
        with admin.connect() as connection:
            return connection.execute(text(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                "WHERE l.locktype = 'advisory' AND l.objid = :key AND NOT l.granted AND d.datname = :name"),
                {"key": SCHEMA_LOCK, "name": database}).scalar_one() > 0
    finally:
        admin.dispose()


def test_an_upgrade_waits_for_the_schema_lock_and_runs_once_it_is_released(empty_database, tmp_path):
    go = tmp_path / "go"
    go.touch()
    holder = make_engine(empty_database)
    try:
        with holder.connect().execution_options(isolation_level="AUTOCOMMIT") as lock:
            lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK})  # another process upgrading
            process = upgrader(empty_database, tmp_path / "ready", go)
            try:
                database = make_url(empty_database).database or ""
                wait_until(lambda: _waiting_for_the_schema_lock(empty_database, database), "the upgrade to wait")
                assert process.poll() is None
                assert "alembic_version" not in inspect(holder).get_table_names()  # it has migrated nothing
                lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK})
                code, output = finished(process)
            finally:
                if process.poll() is None:
                    process.kill()
    finally:
        holder.dispose()
    assert code == 0, output
    assert_at_head(empty_database)
