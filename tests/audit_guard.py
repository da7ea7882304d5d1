"""The audit guarantee as a test guard: a committed transaction that wrote domain rows without an audit event.

Every SQL statement the app sends (ORM flushes, bulk `update()`/`delete()`/`insert()`, raw SQL) is seen at the
cursor (`after_cursor_execute` on every `Engine`), parsed for its verb, table and, for an UPDATE, the columns it
sets, and kept per database connection for the transaction it belongs to (savepoints rolled back drop what they
wrote; a statement the driver reports as having changed no row, such as a guarded UPDATE another process or member
won, wrote nothing; with RETURNING the count is not known yet and the statement counts). At the commit, a
transaction with domain writes and no INSERT into `auditevent` is a violation, kept with the app frames that made
each write (innermost first) so it can be found and fixed.

Only writes the app makes count: a write whose innermost project frame is in `core/`, `bot/` or `adapters/`
(test code seeding rows directly, and the migrations, are not use cases).

Exempt, explicitly (bookkeeping, not CRM data):
- tables `processedupdate` (idempotency keys), `inboxitem` (the durable inbox's delivery state), `replyoutbox`
  (replies held until sent: delivery state), `sendslot` (the shared send limiter's pacing), `chatstate`
  (what the bot waits for in a chat), `notice` (digest/alert/summary delivery), `auditevent` itself,
  `alembic_version`, `interaction_fts*` (the SQLite search index, kept with interactions) and `procrastinate_*`
  (the voice job queue);
- columns of nudge delivery on `followup` (claim lease, attempts, retry time, failure, sent time, message ids:
  core.scheduling writes them for every nudge it sends); `customer.last_interaction_at` (derived from notes),
  `customer.silent_alerted_at` and `customer.pool_warned_at` (a notice was sent once), `member.unreachable_since`
  (delivery learned the chat is gone), `deal.last_activity_at` (derived from notes and stage moves) and any
  `updated_at`; and `followup.status` when set together with delivery columns only (the dispatcher marks a nudge
  sent, or hands it back to pending). An UPDATE setting only these is bookkeeping; anything else is a domain
  write. PostgreSQL `COPY … FROM STDIN` (bulk customer lists) is seen through psycopg's `Cursor.copy`.

Use: the `audit_guard` fixture (a list of violations; fails the test at teardown when any), imported as an autouse
fixture by a conftest or loaded as a plugin: `pytest -p tests.audit_guard tests/integration/bot`.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

ROOT = Path(__file__).resolve().parent.parent
APP = ("core/", "bot/", "adapters/")
NOT_APP = ("core/migrations/",)
PLUMBING = ("core/db.py", "core/uow.py")  # a flush at commit: the write is whoever's called them
GUARD = str(Path(__file__).resolve())

EXEMPT_TABLES = frozenset({"processedupdate", "inboxitem", "replyoutbox", "sendslot", "chatstate", "notice",
                           "auditevent", "alembic_version"})
EXEMPT_PREFIXES = ("interaction_fts", "procrastinate_")
DELIVERY = frozenset({"claimed_by", "claimed_until", "attempts", "next_attempt_at", "last_error", "last_failure",
                      "sent_at", "sent_late", "message_ref", "message_id"})
SENT = frozenset({"status"})  # with delivery columns only: the dispatcher marking a nudge sent or handing it back
EXEMPT_COLUMNS: dict[str, frozenset[str]] = {
    "followup": DELIVERY,
    "customer": frozenset({"last_interaction_at", "silent_alerted_at", "pool_warned_at"}),
    "member": frozenset({"unreachable_since"}),
    "deal": frozenset({"last_activity_at"}),
}
ALWAYS_EXEMPT_COLUMNS = frozenset({"updated_at"})

_NAME = r'"?([A-Za-z_][A-Za-z0-9_]*)"?'
_INSERT = re.compile(r"^\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+" + _NAME, re.I)
_DELETE = re.compile(r"^\s*DELETE\s+FROM\s+" + _NAME, re.I)
_UPDATE = re.compile(r"^\s*UPDATE\s+" + _NAME + r"\s+SET\s+(.*)$", re.I | re.S)
_WITH_DML = re.compile(r"\)\s*(INSERT|UPDATE|DELETE)\b", re.I)
_END_OF_SET = re.compile(r"\s(WHERE|RETURNING|FROM)\s", re.I)
_RETURNING = re.compile(r"\bRETURNING\b", re.I)
_COPY = re.compile(r"^\s*COPY\s+" + _NAME + r".*\bFROM\s+STDIN", re.I | re.S)


@dataclass(frozen=True)
class Write:
    verb: str  # insert | update | delete
    table: str
    columns: tuple[str, ...]  # set by an UPDATE
    where: tuple[str, ...]  # the app frames that sent it, innermost first

    def __str__(self) -> str:
        cols = f" ({', '.join(self.columns)})" if self.columns else ""
        return f"{self.verb} {self.table}{cols}  ← {' ← '.join(self.where)}"


@dataclass
class Violation:
    writes: list[Write]

    def __str__(self) -> str:
        return "a transaction wrote without an audit event:\n    " + "\n    ".join(str(w) for w in self.writes)


@dataclass
class _Txn:
    writes: list[Write] = field(default_factory=list)
    audited: list[int] = field(default_factory=list)  # positions in `writes` of audit inserts (savepoint-safe)
    marks: list[tuple[str, int]] = field(default_factory=list)


def _split_top(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _top_level_end(text: str) -> int:
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and _END_OF_SET.match(text, i):
            return i
    return len(text)


def parse(statement: str) -> tuple[str, str, tuple[str, ...]] | None:
    """(verb, table, columns set) of a DML statement; None for anything else."""
    sql = statement.lstrip()
    if sql[:4].upper() == "WITH":
        found = _WITH_DML.search(sql)
        if found is None:
            return None
        sql = sql[found.start(1):]
    if (m := _INSERT.match(sql)) is not None:
        return "insert", m.group(1).lower(), ()
    if (m := _DELETE.match(sql)) is not None:
        return "delete", m.group(1).lower(), ()
    if (m := _UPDATE.match(sql)) is not None:
        assignments = m.group(2)
        assignments = assignments[:_top_level_end(assignments)]
        columns = []
        for part in _split_top(assignments):
            name = re.match(r"\s*" + _NAME + r"\s*=", part)
            if name is not None:
                columns.append(name.group(1).lower())
        return "update", m.group(1).lower(), tuple(columns)
    return None


def is_exempt(verb: str, table: str, columns: tuple[str, ...]) -> bool:
    if table in EXEMPT_TABLES or table.startswith(EXEMPT_PREFIXES):
        return True
    if verb != "update":
        return False
    allowed = EXEMPT_COLUMNS.get(table, frozenset()) | ALWAYS_EXEMPT_COLUMNS
    if table == "followup" and set(columns) & DELIVERY:
        allowed |= SENT
    return bool(columns) and set(columns) <= allowed


def _app_frames(limit: int = 6) -> tuple[str, ...] | None:
    """The project frames on the stack (innermost first) when the innermost one is app code; None otherwise."""
    frames: list[str] = []
    frame: Any = sys._getframe(2)
    first = True
    root = str(ROOT) + "/"
    while frame is not None and len(frames) < limit:
        filename = frame.f_code.co_filename
        if filename.startswith(root) and "/.venv/" not in filename and filename != GUARD:
            relative = filename[len(root):]
            if first and relative in PLUMBING:
                frame = frame.f_back
                continue
            if first:
                if not relative.startswith(APP) or relative.startswith(NOT_APP):
                    return None
                first = False
            frames.append(f"{relative}:{frame.f_lineno} {frame.f_code.co_name}")
        frame = frame.f_back
    return tuple(frames) if frames else None


class AuditGuard:
    """Listens on every Engine while installed; `violations` grows as unaudited transactions commit."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []
        self.transactions = 0
        self._lock = threading.Lock()
        self._open: dict[int, _Txn] = {}
        self._copy: Any = None

    # a transaction's state is kept per DBAPI connection (one transaction at a time on each)
    @staticmethod
    def _raw(conn: Any) -> int:
        return id(conn.connection.dbapi_connection)

    def _txn(self, conn: Any, raw: int | None = None) -> _Txn:
        key = self._raw(conn) if raw is None else raw
        txn = self._open.get(key)
        if txn is None:
            txn = self._open[key] = _Txn()
        return txn

    def _begin(self, conn: Any) -> None:
        self._open[self._raw(conn)] = _Txn()

    def _execute(self, conn: Any, cursor: Any, statement: str, _params: Any, _context: Any,
                 _executemany: bool) -> None:
        parsed = parse(statement)
        if parsed is None or (getattr(cursor, "rowcount", -1) == 0 and not _RETURNING.search(statement)):
            return  # (-1: the driver does not know; with RETURNING, pysqlite counts rows only once fetched)
        self._write(self._txn(conn), *parsed)

    def _copied(self, dbapi_connection: Any, statement: str) -> None:
        """PostgreSQL COPY … FROM STDIN through psycopg (not seen by SQLAlchemy's cursor events)."""
        if (m := _COPY.match(statement)) is not None:
            self._write(self._txn(None, id(dbapi_connection)), "insert", m.group(1).lower(), ())

    def _write(self, txn: _Txn, verb: str, table: str, columns: tuple[str, ...]) -> None:
        if table == "auditevent" and verb == "insert":
            txn.audited.append(len(txn.writes))
            txn.writes.append(Write(verb, table, columns, ()))
            return
        if is_exempt(verb, table, columns):
            return
        where = _app_frames()
        if where is None:
            return
        txn.writes.append(Write(verb, table, columns, where))

    def _savepoint(self, conn: Any, name: str) -> None:
        txn = self._txn(conn)
        txn.marks.append((name, len(txn.writes)))

    @staticmethod
    def _mark(txn: _Txn, name: str) -> int | None:
        """The position of savepoint `name` among the open ones (SQLAlchemy names a savepoint only after its
        event, so an unnamed mark is the innermost open one)."""
        for i in range(len(txn.marks) - 1, -1, -1):
            if txn.marks[i][0] == name:
                return i
        return len(txn.marks) - 1 if txn.marks else None

    def _rollback_savepoint(self, conn: Any, name: str, _context: Any) -> None:
        txn = self._txn(conn)
        if (i := self._mark(txn, name)) is not None:
            size = txn.marks[i][1]
            del txn.marks[i:]
            del txn.writes[size:]
            txn.audited = [p for p in txn.audited if p < size]

    def _release_savepoint(self, conn: Any, name: str, _context: Any) -> None:
        txn = self._txn(conn)
        if (i := self._mark(txn, name)) is not None:
            del txn.marks[i:]

    def _commit(self, conn: Any) -> None:
        txn = self._open.pop(self._raw(conn), None)
        if txn is None:
            return
        with self._lock:
            self.transactions += 1
            unaudited = [w for w in txn.writes if w.table != "auditevent"]
            if unaudited and not txn.audited:
                self.violations.append(Violation(unaudited))

    def _rollback(self, conn: Any) -> None:
        self._open.pop(self._raw(conn), None)

    _EVENTS = (("begin", "_begin"), ("after_cursor_execute", "_execute"), ("savepoint", "_savepoint"),
               ("rollback_savepoint", "_rollback_savepoint"), ("release_savepoint", "_release_savepoint"),
               ("commit", "_commit"), ("rollback", "_rollback"))

    def install(self) -> None:
        for name, method in self._EVENTS:
            event.listen(Engine, name, getattr(self, method))
        try:
            import psycopg
        except ImportError:  # pragma: no cover
            return
        original = self._copy = psycopg.Cursor.copy
        guard = self

        def copy(cursor: Any, statement: Any, *args: Any, **kwargs: Any) -> Any:
            guard._copied(cursor.connection, str(statement))
            return original(cursor, statement, *args, **kwargs)

        psycopg.Cursor.copy = copy  # type: ignore[method-assign,assignment]

    def remove(self) -> None:
        for name, method in self._EVENTS:
            event.remove(Engine, name, getattr(self, method))
        if self._copy is not None:
            import psycopg

            psycopg.Cursor.copy = self._copy  # type: ignore[method-assign]
            self._copy = None

    def report(self) -> str:
        return "\n".join(str(v) for v in self.violations)


@pytest.fixture
def audit_guard() -> Iterator[AuditGuard]:
    """Fails the test when any transaction it committed wrote domain rows without an audit event."""
    guard = AuditGuard()
    guard.install()
    try:
        yield guard
    finally:
        guard.remove()
    if guard.violations:
        pytest.fail(f"{len(guard.violations)} unaudited transaction(s):\n{guard.report()}", pytrace=False)


@pytest.fixture(autouse=True)
def audit_guard_everywhere(audit_guard: AuditGuard) -> AuditGuard:
    """The same guard as an autouse fixture: `from tests.audit_guard import audit_guard_everywhere` in a conftest,
    or `-p tests.audit_guard` on the command line, guards every test there."""
    return audit_guard
