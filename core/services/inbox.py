"""The durable inbox (issue 17) and the dedupe of updates already handled.

Every update from a platform is stored here (`store`, one small insert, unique per platform + key) before it is
acknowledged (the next getUpdates offset, a Telegram webhook's or a Slack request's HTTP 200, a Socket Mode ack). Workers `claim` rows with a short lease,
always the oldest open row of a chat and only when no other row of that chat is in flight (one chat's updates are
never processed concurrently, by any process); the lease is renewed by a heartbeat (`renew`) while a row is worked
on, so a dead process's rows are taken again within seconds. A row is marked done in the transaction of its
effects (`mark_current_done`, called where the update's unit of work commits), or right after for updates that
wrote nothing (`finish`). A row whose claim was taken `MAX_ATTEMPTS` times without finishing is parked with its
error, and the claim that parks it is returned once with `parked=True` so the member is told.

On PostgreSQL a claim is one statement (`FOR UPDATE SKIP LOCKED` over the chats' heads, see `_claim_postgres`) and
a store notifies the workers of every process (`Wakeups`, LISTEN/NOTIFY); on SQLite, one machine and one writer, the
heads are read and taken one guarded UPDATE at a time, and the workers are woken in process.

`Worker` is the processing loop every platform's adapter runs (`Inbox.processor`): it claims, processes with the
claim current, renews, parks and hands rows back on stop.

`ProcessedUpdate` keeps the per-message keys (a message redelivered under another update id, a Slack retry): the
effects of an update and its keys commit together, so a row retried after its effects committed is recognised.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Engine, String, and_, case, cast, exists, func, or_, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.models import InboxItem, ProcessedUpdate, utcnow
from core.ports import Clock, SystemClock
from core.uow import UnitOfWork

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
# a row whose effects committed with replies still to send (`mark_current_answering`): claims that only send those
# replies get this many more attempts; spent, its replies are recorded lost (the member told at their next message,
# "it was stored") and the row is done — never parked as "not processed", which would ask to send it again
REPLY_ATTEMPTS = 3
ANSWERING = "answering: "  # last_error of such a row, followed by its replies' outbox key
LEASE_SECONDS = 10.0
STALLED_SECONDS = 60.0  # a worker loop with no progress for this long stops renewing its leases (see Worker)
PENDING, PROCESSING, DONE, PARKED = "pending", "processing", "done", "parked"
OPEN = (PENDING, PROCESSING)
# the predicate of the partial index ix_inboxitem_open, written as literals so that a prepared (generic) plan still
# proves it and uses the index
OPEN_ROWS = text("inboxitem.status IN ('pending', 'processing')")
EARLIER_OPEN = text("earlier.status IN ('pending', 'processing')")
POLL_LOCK = 0x63726D02  # the PostgreSQL advisory lock of the one getUpdates poller (next to core.db.SCHEMA_LOCK)
CHANNEL = "chatcrm_inbox"  # NOTIFY channel: a row of the platform named in the payload was stored


class Redelivered(Exception):
    """The update was handled before (the platform sent it again)."""


def seen_before(uow: UnitOfWork, platform: str, keys: Sequence[str]) -> bool:
    """Whether any of the update's keys was recorded (one query)."""
    unique = list(dict.fromkeys(keys))
    return bool(unique) and uow.session.exec(
        select(ProcessedUpdate.id).where(ProcessedUpdate.platform == platform,
                                         col(ProcessedUpdate.key).in_(unique)).limit(1)).first() is not None


def record_keys(uow: UnitOfWork, platform: str, keys: Sequence[str]) -> list[str]:
    """Record the keys in the update's own transaction with one `INSERT … ON CONFLICT DO NOTHING RETURNING`; the
    keys that were there already (a redelivery; or a concurrent delivery that committed first: the statement
    waits for it on the unique index). [] when all are new: this statement is also the check `seen_before` is."""
    unique = list(dict.fromkeys(keys))
    if not unique:
        return []
    connection = uow.session.connection()
    now = utcnow()
    stored: set[str] = set(connection.execute(_insert_keys(connection.dialect.name),
                                    [{"platform": platform, "key": key, "at": now} for key in unique]).scalars())
    return [key for key in unique if key not in stored]


@cache
def _insert_keys(dialect: str) -> Any:
    """`record_keys`' statement, built once per dialect (each call binds its values)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (insert(ProcessedUpdate).on_conflict_do_nothing(index_elements=["platform", "key"])
            .returning(col(ProcessedUpdate.key)))


def mark_handled(uow: UnitOfWork, platform: str, keys: Sequence[str]) -> None:
    """Record the keys in the update's own transaction (`record_keys`); a concurrent delivery that got there
    first raises `Redelivered`, and the caller's transaction is rolled back."""
    if missing := record_keys(uow, platform, keys):
        raise Redelivered(missing[0])


# -- the inbox -------------------------------------------------------------------------------------

@dataclass(slots=True)
class Claim:
    """One inbox row a worker holds. `done` turns true once the row is marked done (in the effects' transaction);
    `redelivered` when processing found the update's effects already committed (an earlier attempt died after
    its commit). `sent`: while a `Worker` processes the row, the outbox replies sent meanwhile (their receipts,
    `core.services.outbox.Receipt.sent`), marked sent in the transaction that finishes the row; None otherwise
    (a receipt then writes at once)."""

    id: int
    platform: str
    key: str
    chat_key: str
    payload: dict[str, Any]
    attempts: int
    parked: bool = False
    last_error: str | None = None
    done: bool = False
    redelivered: bool = False
    sent: list[int] | None = None


_current: contextvars.ContextVar[Claim | None] = contextvars.ContextVar("inbox_claim", default=None)


@contextmanager
def processing(claim: Claim) -> Iterator[Claim]:
    """Within this block the update's unit of work marks `claim` done with its effects (`mark_current_done`)."""
    token = _current.set(claim)
    try:
        yield claim
    finally:
        _current.reset(token)


def current() -> Claim | None:
    return _current.get()


def mark_current_done(uow: UnitOfWork) -> None:
    """Mark the row being processed done in the update's own transaction (nothing when not from the inbox)."""
    claim = _current.get()
    if claim is None or claim.done:
        return
    uow.session.execute(update(InboxItem).where(col(InboxItem.id) == claim.id).values(status=DONE, claimed_by=None,
                                                                                       claimed_until=None))
    claim.done = True  # a rollback after this point is the update failing: `finish`/`failed` settle the row


def mark_current_answering(uow: UnitOfWork, outbox_key: str) -> None:
    """The row being processed committed its effects with its replies in the outbox under `outbox_key`: from now
    on its claims only send them (see `REPLY_ATTEMPTS`)."""
    claim = _current.get()
    if claim is None or claim.done:
        return
    marker = (ANSWERING + outbox_key)[:2000]
    uow.session.execute(update(InboxItem).where(col(InboxItem.id) == claim.id).values(last_error=marker))
    claim.last_error = marker


def answering(claim: Claim) -> str | None:
    """The outbox key of a row whose effects committed with replies to send (`mark_current_answering`), else None."""
    error = claim.last_error or ""
    return error[len(ANSWERING):] if error.startswith(ANSWERING) else None


def _spent(attempts: int, last_error: str | None) -> bool:
    limit = MAX_ATTEMPTS + REPLY_ATTEMPTS if (last_error or "").startswith(ANSWERING) else MAX_ATTEMPTS
    return attempts >= limit


def chat_has_open(session: Session, chat_key: str) -> bool:
    """Whether an update of this chat is stored but not yet processed (or being processed right now)."""
    return session.exec(select(InboxItem.id).where(InboxItem.chat_key == chat_key, OPEN_ROWS).limit(1)).first() \
        is not None


def store(session: Session, platform: str, items: Sequence[tuple[str, str, dict[str, Any]]], now: datetime) -> int:
    """Insert the updates (key, chat key, payload) not stored yet; returns how many were new."""
    if not items:
        return 0
    rows = [{"platform": platform, "key": key, "chat_key": chat_key, "payload": payload, "received_at": now,
             "status": PENDING, "attempts": 0} for key, chat_key, payload in items]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (insert(InboxItem).on_conflict_do_nothing(index_elements=["platform", "key"])
                 .returning(col(InboxItem.id)))
    stored = len(session.connection().execute(statement, rows).all())
    if stored and dialect == "postgresql":  # delivered at the commit, to every process listening (`Wakeups`)
        session.connection().execute(text("SELECT pg_notify(:channel, :platform)"),
                                     {"channel": CHANNEL, "platform": platform})
    return stored


def claim(session: Session, worker: str, now: datetime, *, lease: float = LEASE_SECONDS, limit: int = 16,
          platform: str | None = None) -> list[Claim]:
    """Take up to `limit` rows: per chat the oldest open one, when no other row of that chat is in flight."""
    if session.get_bind().dialect.name == "postgresql":
        return _claim_postgres(session, worker, now, lease=lease, limit=limit, platform=platform)
    return _claim_each(session, worker, now, lease=lease, limit=limit, platform=platform)


def _claim_each(session: Session, worker: str, now: datetime, *, lease: float, limit: int,
                platform: str | None) -> list[Claim]:
    """SQLite (one writer at a time): read the chats' heads, then take each with a guarded UPDATE."""
    earlier = aliased(InboxItem, name="earlier")
    query = (select(InboxItem)
             .where(OPEN_ROWS, _claimable(now),  # literals: the partial indexes hold
                    ~exists().where(col(earlier.chat_key) == col(InboxItem.chat_key), EARLIER_OPEN,
                                    col(earlier.id) < col(InboxItem.id)))
             .order_by(col(InboxItem.id)).limit(limit))
    if platform is not None:
        query = query.where(col(InboxItem.platform) == platform)
    claims: list[Claim] = []
    until = now + timedelta(seconds=lease)
    for row in session.exec(query).all():
        parked = _spent(row.attempts, row.last_error)
        values: dict[str, Any] = ({"status": PARKED, "claimed_by": None, "claimed_until": None,
                                   "last_error": row.last_error or f"not finished after {row.attempts} attempts"}
                                  if parked else
                                  {"status": PROCESSING, "claimed_by": worker, "claimed_until": until,
                                   "attempts": row.attempts + 1})
        taken = session.connection().execute(update(InboxItem).where(col(InboxItem.id) == row.id, _claimable(now))
                                             .values(**values))
        if taken.rowcount != 1:
            continue  # another worker took it first
        claims.append(Claim(row.id or 0, row.platform, row.key, row.chat_key, dict(row.payload),
                            row.attempts + (0 if parked else 1), parked, values.get("last_error", row.last_error)))
    return claims


def _claimable(now: datetime) -> Any:
    return or_(col(InboxItem.status) == PENDING,
               and_(col(InboxItem.status) == PROCESSING, col(InboxItem.claimed_until) < now))


def _claim_postgres(session: Session, worker: str, now: datetime, *, lease: float, limit: int,
                    platform: str | None) -> list[Claim]:
    """The claim in one statement: open rows walked oldest first (the partial index `ix_inboxitem_open_id`), kept
    when claimable and the head of their chat (no earlier open row: `ix_inboxitem_open`), locked with `FOR UPDATE
    SKIP LOCKED` up to `limit`, then updated `… RETURNING`. The walk stops after `limit` rows, so its cost follows
    the rows skipped (chats in flight), not the backlog.

    Why one chat's rows are never in flight twice or out of order: only a chat's head is ever taken, and "head" is
    judged in the statement's snapshot, in which a row another claimer is taking is still open (rows never go from
    closed back to open), so its chat's next row is not a head; the head itself is locked by that claimer
    (skipped) or, once it committed, re-checked under our lock against its newest version (no longer claimable)."""
    item = InboxItem.__table__  # type: ignore[attr-defined]
    earlier = item.alias("earlier")
    picked = select(item.c.id).where(
        OPEN_ROWS, _claimable(now),
        ~exists().where(earlier.c.chat_key == item.c.chat_key, EARLIER_OPEN, earlier.c.id < item.c.id))
    if platform is not None:
        picked = picked.where(item.c.platform == platform)
    picked_cte = picked.order_by(item.c.id).limit(limit).with_for_update(skip_locked=True, of=item).cte("picked")
    spent = item.c.attempts >= case((item.c.last_error.startswith(ANSWERING, autoescape=True),
                                     MAX_ATTEMPTS + REPLY_ATTEMPTS), else_=MAX_ATTEMPTS)
    statement = (update(item).where(item.c.id == picked_cte.c.id)
                 .values(status=case((spent, PARKED), else_=PROCESSING),
                         claimed_by=case((spent, None), else_=worker),
                         claimed_until=case((spent, None), else_=now + timedelta(seconds=lease)),
                         attempts=case((spent, item.c.attempts), else_=item.c.attempts + 1),
                         last_error=case((spent, func.coalesce(
                             item.c.last_error, "not finished after " + cast(item.c.attempts, String) + " attempts")),
                             else_=item.c.last_error))
                 .returning(item.c.id, item.c.platform, item.c.key, item.c.chat_key, item.c.payload,
                            item.c.attempts, item.c.status, item.c.last_error))
    rows = session.connection().execute(statement).all()
    return [Claim(row.id, row.platform, row.key, row.chat_key, dict(row.payload), row.attempts,
                  row.status == PARKED, row.last_error) for row in sorted(rows, key=lambda r: r.id)]


def renew(session: Session, worker: str, ids: Sequence[int], until: datetime) -> None:
    if ids:
        session.execute(update(InboxItem).where(col(InboxItem.id).in_(list(ids)), col(InboxItem.claimed_by) == worker,
                                                col(InboxItem.status) == PROCESSING).values(claimed_until=until))


def _mark_sent(session: Session, sent: Sequence[int], now: datetime) -> None:
    """The replies the platform took while the row was processed (`Claim.sent`), in the row's own settling."""
    if sent:
        from core.services import outbox  # outbox reads the current claim from here

        outbox.mark_sent(session, sent, now)


def finish(session: Session, worker: str, claim_id: int, sent: Sequence[int] = (), now: datetime | None = None
           ) -> None:
    """The row is done (a no-op when its effects' transaction marked it so); `sent`: its replies the platform
    took, marked sent in this same transaction."""
    _mark_sent(session, sent, now or utcnow())
    session.execute(update(InboxItem).where(col(InboxItem.id) == claim_id, col(InboxItem.claimed_by) == worker,
                                            col(InboxItem.status) == PROCESSING)
                    .values(status=DONE, claimed_by=None, claimed_until=None))


def failed(session: Session, worker: str, claim_id: int, error: str, now: datetime, sent: Sequence[int] = ()
           ) -> None:
    """The attempt failed: the row is taken again after a short back-off (parked at the next claim if spent)."""
    _mark_sent(session, sent, now)
    row = session.get(InboxItem, claim_id)
    if row is None or row.claimed_by != worker or row.status != PROCESSING:
        return
    if not (row.last_error or "").startswith(ANSWERING):  # committed already: it stays a row that only answers
        row.last_error = error[:2000]
    row.claimed_by = None
    row.claimed_until = now + timedelta(seconds=min(30.0, 2.0 * row.attempts))
    session.add(row)


def give_up_replies(session: Session, claim: Claim, now: datetime) -> int:
    """A committed row whose replies could not be sent in `REPLY_ATTEMPTS` claims: its pending replies are recorded
    lost (core.usecases.lost_replies tells the member at their next message that it was stored) and the row is
    done. Returns how many replies were lost."""
    from core.services import outbox

    key = answering(claim)
    lost = [row_id for row_id, _ in (outbox.unsent(session, claim.platform, key) or [])] if key is not None else []
    outbox.mark_lost(session, lost, now)
    session.execute(update(InboxItem).where(col(InboxItem.id) == claim.id)
                    .values(status=DONE, claimed_by=None, claimed_until=None))
    return len(lost)


def release(session: Session, worker: str, ids: Sequence[int], sent: Sequence[int] = ()) -> None:
    """Hand claims back (a stopping process): taken again at once, this attempt not counted; `sent`: their
    replies the platform took already (not sent again when the rows are taken again)."""
    _mark_sent(session, sent, utcnow())
    if ids:
        session.execute(update(InboxItem).where(col(InboxItem.id).in_(list(ids)), col(InboxItem.claimed_by) == worker,
                                                col(InboxItem.status) == PROCESSING)
                        .values(status=PENDING, claimed_by=None, claimed_until=None,
                                attempts=col(InboxItem.attempts) - 1))


class Inbox:
    """The inbox as an adapter uses it: awaitable, each call one short transaction in a worker thread."""

    def __init__(self, engine: Engine, worker: str, clock: Clock | None = None, lease: float = LEASE_SECONDS) -> None:
        self.engine = engine
        self.worker = worker
        self.clock = clock or SystemClock()
        self.lease = lease
        self._poller: Any = None

    def _run(self, work: Any) -> Any:
        with Session(self.engine) as session:
            result = work(session)
            session.commit()
            return result

    async def store(self, platform: str, items: Sequence[tuple[str, str, dict[str, Any]]]) -> int:
        return await asyncio.to_thread(self._run, lambda s: store(s, platform, items, self.clock.now()))

    async def claim(self, limit: int, platform: str | None = None) -> list[Claim]:
        return await asyncio.to_thread(self._run, lambda s: claim(s, self.worker, self.clock.now(), lease=self.lease,
                                                                  limit=limit, platform=platform))

    async def renew(self, ids: Sequence[int]) -> None:
        await asyncio.to_thread(self.renew_now, ids)

    def renew_now(self, ids: Sequence[int]) -> None:
        """Renew from any thread (the worker's heartbeat thread)."""
        until = self.clock.now() + timedelta(seconds=self.lease)
        self._run(lambda s: renew(s, self.worker, ids, until))

    async def finish(self, claim_id: int, sent: Sequence[int] = ()) -> None:
        await asyncio.to_thread(self._run, lambda s: finish(s, self.worker, claim_id, sent))

    async def failed(self, claim_id: int, error: str, sent: Sequence[int] = ()) -> None:
        await asyncio.to_thread(self._run, lambda s: failed(s, self.worker, claim_id, error, self.clock.now(), sent))

    async def release(self, ids: Sequence[int], sent: Sequence[int] = ()) -> None:
        await asyncio.to_thread(self._run, lambda s: release(s, self.worker, ids, sent))

    async def give_up_replies(self, claim: Claim) -> int:
        return int(await asyncio.to_thread(self._run, lambda s: give_up_replies(s, claim, self.clock.now())))

    processing = staticmethod(processing)

    def processor(self, platform: str, process: Callable[[Claim], Awaitable[None]],
               parked: Callable[[Claim], Awaitable[None]] | None = None, **options: Any) -> Worker:
        """A loop that processes this platform's rows (see `Worker`)."""
        return Worker(self, platform, process, parked, **options)

    async def acquire_poller(self) -> bool:
        """Become the one process that long-polls the bot token (two pollers get 409 Conflict from Telegram).

        On PostgreSQL a session advisory lock held on a connection of this process: it ends with the process,
        so another process takes over within its retry interval. On SQLite (one machine) always granted."""
        if self.engine.dialect.name != "postgresql":
            return True
        if self._poller is not None:
            return True

        def take() -> bool:
            connection = self.engine.connect()
            got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": POLL_LOCK}).scalar())
            connection.commit()
            if got:
                self._poller = connection
            else:
                connection.close()
            return got

        return await asyncio.to_thread(take)

    def release_poller(self) -> None:
        connection = self._poller
        if connection is not None:
            self._poller = None
            connection.close()  # the session ends: the advisory lock is released


class Wakeups:
    """The one `LISTEN chatcrm_inbox` connection of this process and database (PostgreSQL): `store` notifies in its
    transaction, so a worker in any process looks at once when a row it may take was committed, instead of at its
    next poll. Subscribers are called with no argument, on the event loop; when the connection is lost it is made
    again (every subscriber is woken then: rows may have been stored meanwhile) and the workers' poll covers the
    gap. `ready` is set while listening."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.subscribers: dict[str, list[Callable[[], None]]] = {}
        self.ready = asyncio.Event()
        self.task: asyncio.Task | None = None

    @classmethod
    def subscribe(cls, engine: Engine, platform: str, wake: Callable[[], None]) -> Subscription:
        loop = asyncio.get_running_loop()
        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        listeners = _listeners.setdefault(loop, {})
        wakeups = listeners.get(conninfo)
        if wakeups is None or wakeups.task is None or wakeups.task.done():
            wakeups = listeners[conninfo] = cls(conninfo)
            wakeups.task = loop.create_task(wakeups._listen(), name="inbox-listen")
        wakeups.subscribers.setdefault(platform, []).append(wake)
        return Subscription(wakeups, platform, wake)

    async def _listen(self) -> None:
        import psycopg  # the PostgreSQL driver (only needed here)

        delay = 0.5
        while any(self.subscribers.values()):
            try:
                async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self.ready.set()
                    delay = 0.5
                    for wakes in list(self.subscribers.values()):
                        for wake in list(wakes):
                            wake()
                    async for note in connection.notifies():
                        for wake in list(self.subscribers.get(note.payload, ())):
                            wake()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("inbox wake-ups: LISTEN connection lost; polling until it is back", exc_info=True)
            self.ready.clear()
            await asyncio.sleep(delay)
            delay = min(10.0, delay * 2)

    async def _close(self) -> None:
        for listeners in list(_listeners.values()):
            if listeners.get(self.conninfo) is self:
                del listeners[self.conninfo]
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        self.ready.clear()


_listeners: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Wakeups]] = weakref.WeakKeyDictionary()


@dataclass(slots=True)
class Subscription:
    wakeups: Wakeups
    platform: str
    wake: Callable[[], None]

    @property
    def ready(self) -> asyncio.Event:
        return self.wakeups.ready

    async def close(self) -> None:
        wakes = self.wakeups.subscribers.get(self.platform, [])
        if self.wake in wakes:
            wakes.remove(self.wake)
        if not any(self.wakeups.subscribers.values()):
            await self.wakeups._close()


class Worker:
    """Processes one platform's inbox rows in this process: claims rows (per chat in order, at most `concurrency`
    in flight), runs `process(claim)` for each with the claim current (so the update's unit of work marks it done
    with its effects), renews the leases of the rows in flight every lease/3 from a thread of its own, and gives
    a parked row to
    `parked(claim)` once (the member is told).

    Why a thread: the CRM's database calls are synchronous, so while the loop works through a batch of claimed
    rows one by one (each handled without yielding) an asyncio heartbeat would wait behind all of them, and with
    32 rows at some 0.4 s each on a loaded machine the leases of the last ones ran out and other processes took
    them again (bench/bench_inbox.py). The thread renews only while the loop shows progress (a row started or
    ended, a claim loop turn) within `STALLED_SECONDS`, so the rows of a hung process are still taken over.

    `wake()` makes it look at once: a receiver in this process stored
    rows, or, on PostgreSQL, a receiver in any process did (`Wakeups`, LISTEN/NOTIFY); otherwise, and whenever
    the LISTEN connection is down, it looks every `idle_seconds`."""

    def __init__(self, inbox: Inbox, platform: str, process: Callable[[Claim], Awaitable[None]],
                 parked: Callable[[Claim], Awaitable[None]] | None = None, *, concurrency: int = 32,
                 idle_seconds: float = 0.5) -> None:
        self.inbox, self.platform, self.process, self.parked = inbox, platform, process, parked
        self.concurrency, self.idle_seconds = concurrency, idle_seconds
        self.inflight: dict[int, asyncio.Task] = {}
        self._claims: dict[int, Claim] = {}  # the claims of `inflight`
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._stopping = False  # the loops end on it even where a cancellation was lost
        self.wakeups: Subscription | None = None
        self._progress = time.monotonic()  # the loop's last sign of life, read by the heartbeat thread
        self._beat_stop = threading.Event()
        self._beat: threading.Thread | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        if self.inbox.engine.dialect.name == "postgresql":
            self.wakeups = Wakeups.subscribe(self.inbox.engine, self.platform, self.wake)
        self._tasks = [asyncio.create_task(self._work(), name=f"inbox-work-{self.platform}")]
        self._beat_stop.clear()
        self._beat = threading.Thread(target=self._heartbeat, name=f"inbox-heartbeat-{self.platform}", daemon=True)
        self._beat.start()

    async def stop(self, grace: float = 3.0) -> None:
        """Stop claiming, let the rows in flight finish for `grace` seconds, then cancel them and hand them back."""
        self._stopping = True
        self._wake.set()
        if self.wakeups is not None:
            await self.wakeups.close()
            self.wakeups = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.inflight:
            await asyncio.wait(list(self.inflight.values()), timeout=grace)
        self._beat_stop.set()
        if self._beat is not None:
            await asyncio.to_thread(self._beat.join, 5.0)
            self._beat = None
        left = dict(self.inflight)
        claims = [self._claims[claim_id] for claim_id in left if claim_id in self._claims]
        for task in left.values():
            task.cancel()
        for task in left.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if left:
            sent = [reply for claim in claims for reply in _take_sent(claim)]
            with contextlib.suppress(Exception):
                await self.inbox.release(list(left), sent)
            log.info("handed %d %s inbox rows back", len(left), self.platform)

    async def _work(self) -> None:
        while not self._stopping:
            self._progress = time.monotonic()
            free = self.concurrency - len(self.inflight)
            self._wake.clear()
            claims: list[Claim] = []
            if free > 0:
                try:
                    claims = await self.inbox.claim(free, platform=self.platform)
                except Exception:
                    log.exception("could not claim %s inbox rows", self.platform)
                    await asyncio.sleep(1.0)
                    continue
            for claim in claims:
                self._claims[claim.id] = claim
                self.inflight[claim.id] = asyncio.create_task(self._one(claim), name=f"inbox-{claim.id}")
            if not claims:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that arrives
                # as the event is set, and this loop would then never stop
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.idle_seconds):
                        await self._wake.wait()

    def _heartbeat(self) -> None:
        while not self._beat_stop.wait(self.inbox.lease / 3):
            ids = list(self.inflight)  # one C-level copy of the keys; the loop thread adds and removes
            if not ids:
                continue
            if time.monotonic() - self._progress > STALLED_SECONDS:
                log.warning("inbox worker %s made no progress for %.0f s; its %d leases are left to run out",
                            self.platform, time.monotonic() - self._progress, len(ids))
                continue
            try:
                self.inbox.renew_now(ids)
            except Exception:
                log.warning("could not renew inbox leases", exc_info=True)

    async def _one(self, claim: Claim) -> None:
        self._progress = time.monotonic()
        try:
            if claim.parked and answering(claim) is not None:
                lost = await self.inbox.give_up_replies(claim)
                log.error("inbox row %s (%s): stored, but %d replies could not be sent in %d attempts; recorded lost",
                          claim.id, claim.key, lost, claim.attempts)
                return
            if claim.parked:
                log.error("inbox row %s (%s) parked: %s", claim.id, claim.key, claim.last_error)
                if self.parked is not None:
                    with contextlib.suppress(Exception):
                        await self.parked(claim)
                return
            claim.sent = []  # the replies' receipts wait for the row's finish: one transaction, not one each
            with processing(claim):
                await self.process(claim)
            await self.inbox.finish(claim.id, _take_sent(claim))  # the row: a no-op when its effects marked it
        except asyncio.CancelledError:
            raise  # `stop` hands the row back with its replies sent so far
        except Exception as exc:
            log.exception("inbox row %s failed (attempt %d)", claim.id, claim.attempts)
            with contextlib.suppress(Exception):
                await self.inbox.failed(claim.id, f"{type(exc).__name__}: {exc}", _take_sent(claim))
        finally:
            self.inflight.pop(claim.id, None)
            self._claims.pop(claim.id, None)
            self._progress = time.monotonic()
            self._wake.set()


def _take_sent(claim: Claim) -> list[int]:
    """The replies sent while the row was processed; a receipt after this writes its own transaction."""
    sent, claim.sent = claim.sent or [], None
    return sent
