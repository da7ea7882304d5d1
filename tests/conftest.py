"""Shared fixtures: real SQLite and PostgreSQL engines (migrated), a controllable clock, a bot app.

PostgreSQL is at CHATCRM_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test). Each test
gets a fresh database cloned from a migrated template. Without a server the PostgreSQL cases are
skipped, except under CI=true, where they fail.

Network guard: during every test, `socket.connect` reaches loopback only (127.0.0.1, ::1, localhost) and
unix sockets (asyncio's self-pipe, psycopg); anything else raises pytest_socket.SocketConnectBlockedError.
A test that really needs the network says so with `@pytest.mark.enable_socket`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_socket
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from core.db import make_engine, upgrade

POSTGRES_URL = os.environ.get("CHATCRM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
_RUN = uuid.uuid4().hex[:8]
LOOPBACK = ["127.0.0.1", "::1", "localhost"]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Refuse every non-loopback connection from the test's setup to its teardown (pytest-socket lifts it)."""
    if item.get_closest_marker("enable_socket") is None:
        pytest_socket.socket_allow_hosts(LOOPBACK, allow_unix_socket=True)


def _admin_engine() -> Engine:
    url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    return create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def postgres_url(database: str) -> str:
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated template database, created once per test run."""
    try:
        admin = _admin_engine()
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI but unreachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    name = f"chatcrm_tpl_{_RUN}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(postgres_url(name))
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def fresh_postgres(template: str) -> tuple[Engine, str]:
    name = f"chatcrm_t_{_RUN}_{uuid.uuid4().hex[:8]}"
    with _admin_engine().connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return make_engine(postgres_url(name)), name


def drop_postgres(name: str) -> None:
    with _admin_engine().connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """A migrated, empty database: the same test body runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "chatcrm.db"
        shutil.copy(sqlite_template, path)
        created = make_engine(f"sqlite:///{path}")
        yield created
        created.dispose()
        return
    template = request.getfixturevalue("postgres_template")
    created, name = fresh_postgres(template)
    yield created
    created.dispose()
    drop_postgres(name)


@pytest.fixture
def sqlite_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    path = tmp_path / "chatcrm.db"
    shutil.copy(sqlite_template, path)
    created = make_engine(f"sqlite:///{path}")
    yield created
    created.dispose()


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # Wed 10:00 in Taipei

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def whisper_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the packaged Whisper model is assembled, once per test run."""
    return tmp_path_factory.mktemp("models")
