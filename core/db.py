"""Engines, sessions and schema upgrades for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The PostgreSQL advisory lock every chatcrm process takes around a schema upgrade (any fixed bigint
# works; this one spells "crm" and stays below 2**31, so pg_locks shows it as classid 0, objid SCHEMA_LOCK).
SCHEMA_LOCK = 0x63726D
# SQLite has one writer: a note that arrives while a large import commits waits for it (an import of the
# largest accepted export takes ~20 s here) rather than being refused after a few seconds
SQLITE_BUSY_SECONDS = 30


class StorageUnavailable(RuntimeError):
    """The database is locked or unreachable; the operation wrote nothing."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout, its folder is created."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False},
                               **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _sqlite_savepoint_inside_transaction)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_savepoint_inside_transaction(connection: Any, _name: str) -> None:
    """Open the outer transaction before a first SAVEPOINT, taking the write lock (`BEGIN IMMEDIATE`).

    The sqlite3 driver begins a transaction only before INSERT/UPDATE/DELETE; a SAVEPOINT issued first starts a
    transaction of its own, and releasing it commits, so a write made in `begin_nested()` as a unit of work's
    first write would survive the rollback of the whole unit. A BEGIN here keeps it inside. IMMEDIATE, not
    deferred: a transaction that began with a read and writes later fails at its first write, at once, whenever
    another connection committed in between (WAL snapshots; the busy timeout does not apply), so it waits for
    the lock here instead."""
    raw = connection.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")


def lock_for_writing(session: Session) -> None:
    """On SQLite, take the database's write lock now (`BEGIN IMMEDIATE`, waiting as the busy timeout allows), for a
    transaction that reads first and writes later: in WAL mode its first write would otherwise fail at once
    ("database is locked", whatever the timeout) whenever another connection committed since its first read.
    Nothing on PostgreSQL, or when the transaction has begun already."""
    if session.get_bind().dialect.name != "sqlite":
        return
    raw = session.connection().connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # freed pages zeroed, on every connection (some builds default off)
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
    cursor.close()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def alembic_config(engine: Engine) -> Config:
    # Alembic (with Mako) is imported only when a schema is upgraded: ~10 MB a bot at head does not keep
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def newest_revision() -> str | None:
    """The newest migration's revision, by this tree's rule: the file `NNNN_what.py` holds revision "NNNN"."""
    numbers = sorted(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    return numbers[-1] if numbers else None


def at_newest(engine: Engine) -> bool:
    """Whether the database's schema is already at the newest migration (one query; no Alembic needed)."""
    newest = newest_revision()
    try:
        with engine.connect() as connection:
            versions: list[str] = list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except DBAPIError:  # no schema yet
        return False
    return newest is not None and versions == [newest]


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (run at start and by `chatcrm migrate`).

    A database already there is left as it is without loading Alembic (`at_newest`). On PostgreSQL the upgrade runs
    under an advisory lock held on a connection of its own, so processes starting at once upgrade one after the
    other: the first migrates, the others find the schema at head. SQLite serialises writers itself (one file, one
    embedded process).
    """
    if at_newest(engine):
        return
    from alembic import command

    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), "head")
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK})
        try:
            command.upgrade(alembic_config(engine), "head")
        finally:
            try:
                lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK})
            except Exception:
                lock.invalidate()  # closing the connection releases the lock; never pool it still held
                raise


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back everything on any error."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except OperationalError as exc:
        session.rollback()
        raise StorageUnavailable(str(exc.orig) if exc.orig else str(exc)) from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
