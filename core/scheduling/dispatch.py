"""Claim due follow-ups atomically, hand each to a sender, record the outcome.

The guarantee: **each nudge is sent at most once, and one that may not have arrived is never silently
dropped.** The single point of truth is one conditional UPDATE, `pending|snoozed → sent`, committed
*before* the platform call; only the process whose UPDATE matched may send, so no restart, crash or
second process can send a nudge twice. What happens next:
- the platform confirms → the message id is recorded: delivered once;
- the platform refuses and the message surely did not go out (429, 5xx, connection refused, a
  rendering error) → back to `pending` with a retry time: 429 after `retry_after` (not counted as an
  attempt), others with exponential backoff; after MAX_ATTEMPTS it keeps retrying every 6 h, flagged
  for /status and the digest;
- blocked bot / chat gone → back to `pending`, the member is marked unreachable, nothing more is tried
  until they write again;
- no answer (a timeout or a connection dropped after the request left) or the process died during the
  call → it stays `sent` without a message id: not resent (it may well have arrived), and /status
  lists it as "sent but maybe not arrived".

So "exactly once" holds whenever the platform answers; the only way to miss is a crash or a timeout in
the few milliseconds of a platform call, and those are reported, never retried into a duplicate.

Claims are leases (`claimed_by`, `claimed_until`), short (`LEASE`, 20 s) and renewed by a heartbeat
(`renew`, every `lease / 3`) while this process still holds them: a claim whose process died is taken over
within one lease, not minutes later; `close` (SIGTERM) hands unsent claims back at once. One UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) … RETURNING takes the rows (on
SQLite the statement itself is the single writer), oldest due first. A member with a nudge in flight
anywhere is skipped, so one chat is served by one process at a time, in order, at its platform's pace.
Claimed nudges are delivered concurrently: one queue per chat waits its gap while other chats go on;
the pacer holds the platform rate. A process claims only what it can send well within its lease.

Whose chat: a removed member's follow-ups (`Member.active` false) are never claimed — held, neither failed nor
sent — until a handover gives them to an active member (core.usecases.handover), whose chat they then reach.
While a colleague covers a member (core.models.Cover, in force and the cover still active), the claim carries
the cover (`Claimed.cover_id`) and the nudge goes to the cover's chat, at the same due time; the row stays the
member's. What must be reachable is the chat the nudge goes to: a covered member's unreachable chat does not hold
their nudges (the cover gets them), a cover's unreachable chat does (until the cover writes or the cover ends).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Engine, Update, and_, func, or_, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from core.delivery import POLICY, Classified, FailureKind, Outcome, Schedule, classify, no_chat
from core.models import Cover, FollowUp, FollowUpStatus, Member
from core.ports import Clock
from core.scheduling.limits import Pacer
from core.scheduling.notices import rows_changed
from core.scheduling.workhours import next_working_start
from core.services.handover import recipients as cover_recipients

log = logging.getLogger(__name__)
DUE = (FollowUpStatus.pending.value, FollowUpStatus.snoozed.value)
MAX_ATTEMPTS = POLICY.nudges.max_attempts or 0
GIVE_UP_RETRY = POLICY.nudges.then_every or timedelta(hours=6)  # after MAX_ATTEMPTS: keep trying, slowly
LATE_AFTER = timedelta(minutes=10)
LEASE = timedelta(seconds=20)
UNCERTAIN = "no answer from the platform; it may not have arrived"
T = TypeVar("T")


@dataclass(frozen=True)
class Claimed:
    follow_up_id: int
    member_id: int
    due_at: datetime
    late: bool
    cover_id: int | None = None  # a colleague covering the member (core.models.Cover): the nudge goes to them

    @property
    def recipient_id(self) -> int:
        """The member the nudge is for: the cover while one is in force, else the follow-up's owner."""
        return self.cover_id or self.member_id


class NudgeSender(Protocol):
    async def destination(self, claimed: Claimed) -> tuple[str, str] | None:
        """(platform, chat id) the nudge goes to, or None when the member has no chat."""
        ...

    async def send_nudge(self, claimed: Claimed) -> tuple[str, str]:
        """Send it; return (chat reference, platform message id). Raises core.ports delivery errors."""
        ...


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def backoff(attempts: int) -> timedelta:
    """The wait after the n-th counted failure of a nudge (core.delivery.POLICY.nudges)."""
    return POLICY.nudges.wait(attempts)


Destination = tuple[str, str]


class Dispatcher:
    """Claims due nudges and delivers them; `pump` starts deliveries, `run_once` also waits for them."""

    def __init__(self, engine: Engine, sender: NudgeSender, clock: Clock, *, worker: str | None = None,
                 lease: timedelta = LEASE, batch: int = 100, pacer: Pacer | None = None,
                 capacity: int = 500, concurrency: int = 8) -> None:
        self.engine, self.sender, self.clock = engine, sender, clock
        self.worker = worker or worker_name()
        self.lease, self.batch, self.capacity = lease, batch, capacity
        self.pacer = pacer or Pacer()
        self.sent = self.uncertain = 0  # totals since start
        self._sending = asyncio.Semaphore(concurrency)  # platform calls in flight (bounds a burst after a pause)
        self._queued: set[int] = set()
        self._chats: dict[Destination, deque[Claimed]] = {}
        self._tasks: set[asyncio.Task] = set()
        self._pump_lock = asyncio.Lock()
        self._closing = False
        self.refill = False  # set by the service: a chat that finishes its queue triggers another claim
        self._kicker: asyncio.Task | None = None
        self._heartbeat: asyncio.Task | None = None
        self._db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dispatch-db")

    async def _db(self, function: Callable[..., T], *args: object) -> T:
        """Database work off the event loop, one statement at a time (SQLite has a single writer)."""
        return await asyncio.get_running_loop().run_in_executor(self._db_thread, function, *args)

    # -- claiming --------------------------------------------------------------------------
    def claim_statement(self, now: datetime, limit: int) -> Any:
        """UPDATE … RETURNING that takes up to `limit` due follow-ups for this worker, oldest first."""
        in_flight = select(col(FollowUp.member_id)).where(col(FollowUp.claimed_until) >= now).scalar_subquery()
        due = (select(col(FollowUp.id)).join(Member, col(Member.id) == col(FollowUp.member_id))
               .where(col(FollowUp.status).in_(DUE), col(FollowUp.due_at) <= now,
                      or_(col(FollowUp.next_attempt_at).is_(None), col(FollowUp.next_attempt_at) <= now),
                      or_(col(FollowUp.claimed_until).is_(None), col(FollowUp.claimed_until) < now),
                      col(FollowUp.member_id).not_in(in_flight), col(Member.active).is_(True),
                      _recipient_reachable(now))
               .order_by(col(FollowUp.due_at), col(FollowUp.id)).limit(limit))
        if self.engine.dialect.name == "postgresql":
            # locking the member too: while one process's claim is uncommitted, another skips that member
            # entirely (its in-flight subquery cannot see the uncommitted claim), so one chat has one sender
            due = due.with_for_update(skip_locked=True, of=(FollowUp, Member))
        statement = (update(FollowUp).where(col(FollowUp.id).in_(due.scalar_subquery()))
                     .values(claimed_by=self.worker, claimed_until=now + self.lease)
                     .returning(col(FollowUp.id), col(FollowUp.member_id), col(FollowUp.due_at), col(FollowUp.explicit_time)))
        return statement

    def claim(self, limit: int | None = None) -> list[Claimed]:
        """Take up to `limit` due follow-ups (oldest first) for this worker; defer those outside working hours."""
        now = self.clock.now()
        statement = self.claim_statement(now, limit or self.batch)
        with Session(self.engine) as session, session.begin():
            rows = sorted(session.execute(statement).all(), key=lambda r: (r.due_at, r.id))
            if not rows:
                return []
            found: list[Member] = list(session.scalars(
                select(Member).where(col(Member.id).in_({r.member_id for r in rows}))))
            members = {m.id: m for m in found}
            covers = cover_recipients(session, {r.member_id for r in rows}, now)
            claimed: list[Claimed] = []
            for row in rows:
                if not row.explicit_time and (start := next_working_start(now, members[row.member_id])) > now:
                    session.execute(update(FollowUp).where(col(FollowUp.id) == row.id).values(
                        claimed_by=None, claimed_until=None, next_attempt_at=start))
                    continue
                claimed.append(Claimed(row.id, row.member_id, row.due_at, now - row.due_at > LATE_AFTER,
                                       covers.get(row.member_id)))
            return claimed

    def next_due(self, within: timedelta) -> datetime | None:
        """The earliest moment in (now, now + within] at which a follow-up becomes sendable."""
        now = self.clock.now()
        until = now + within
        with Session(self.engine) as session:
            first_due = session.execute(select(func.min(col(FollowUp.due_at))).where(
                col(FollowUp.status).in_(DUE), col(FollowUp.due_at) > now, col(FollowUp.due_at) <= until)).scalar()
            first_retry = session.execute(select(func.min(col(FollowUp.next_attempt_at))).where(
                col(FollowUp.status).in_(DUE), col(FollowUp.next_attempt_at) > now,
                col(FollowUp.next_attempt_at) <= until)).scalar()
        found = [moment for moment in (first_due, first_retry) if moment is not None]
        return min(found) if found else None

    def release(self, ids: list[int]) -> None:
        """Give claims back untouched (not sendable within the lease, or shutting down)."""
        if ids:
            with Session(self.engine) as session, session.begin():
                session.execute(update(FollowUp).where(col(FollowUp.id).in_(ids), col(FollowUp.claimed_by) == self.worker,
                                                       col(FollowUp.status).in_(DUE))
                                .values(claimed_by=None, claimed_until=None))

    def renew(self) -> int:
        """Heartbeat: extend the lease of every claim this process still holds and works on; returns how many.
        A claim whose lease already ended is not renewed (another process may have taken it)."""
        ids = sorted(self._queued)
        if not ids:
            return 0
        now = self.clock.now()
        with Session(self.engine) as session, session.begin():
            result = session.execute(update(FollowUp).where(col(FollowUp.id).in_(ids),
                                                            col(FollowUp.claimed_by) == self.worker,
                                                            col(FollowUp.claimed_until) >= now)
                                     .values(claimed_until=now + self.lease))
            return rows_changed(result)

    async def _beat(self) -> None:
        """Renew the leases every third of a lease while claims are in flight."""
        try:
            while self._queued and not self._closing:
                await asyncio.sleep(self.lease.total_seconds() / 3)
                if self._queued and not self._closing:
                    try:
                        await self._db(self.renew)
                    except Exception:  # the next beat tries again; the lease still has two thirds left
                        log.exception("could not renew the nudge leases")
        finally:
            self._heartbeat = None

    def _start_heartbeat(self) -> None:
        if self._heartbeat is None and self._queued and not self._closing:
            self._heartbeat = asyncio.create_task(self._beat(), name="nudge lease heartbeat")

    def _mine(self, follow_up_id: int) -> Update:
        return update(FollowUp).where(col(FollowUp.id) == follow_up_id, col(FollowUp.claimed_by) == self.worker)

    # -- scheduling deliveries ----------------------------------------------------------------
    def _per_chat(self, platform: str) -> int:
        """How many nudges one chat may queue: all must leave within half the lease."""
        gap = self.pacer.gap(platform)
        return self.capacity if gap <= 0 else max(1, int(self.lease.total_seconds() / 2 / gap))

    def _fits(self) -> int:
        room = self.capacity - len(self._queued)
        rates = [r for r in (self.pacer.rate(p) for p, _ in self._chats) if r]
        if rates:  # the platform queue must also drain within half the lease
            room = min(room, int(min(rates) * self.lease.total_seconds() / 2) - len(self._queued))
        return max(0, min(self.batch, room))

    async def pump(self) -> int:
        """Claim what fits and start delivering it in the background; returns how many were claimed."""
        if self._closing:
            return 0
        async with self._pump_lock:
            total = 0
            while (room := self._fits()) > 0:
                claimed = [c for c in await self._db(self.claim, room) if c.follow_up_id not in self._queued]
                if not claimed:
                    break
                total += len(claimed)
                await self._enqueue(claimed)
                if len(claimed) < room:
                    break
            log.debug("claimed %d (%d in flight, %d chats)", total, len(self._queued), len(self._chats))
            return total

    def _kick(self) -> None:
        """Claim again soon (debounced): a chat just freed up, its next nudges may be waiting."""
        if self.refill and not self._closing and self._kicker is None:
            self._kicker = asyncio.create_task(self._kicked())

    async def _kicked(self) -> None:
        try:
            await asyncio.sleep(0.05)
            await self.pump()
        finally:
            self._kicker = None

    async def _enqueue(self, claimed: list[Claimed]) -> None:
        destinations: dict[int, Destination | None] = {}
        spare: list[int] = []
        for item in claimed:
            if item.recipient_id not in destinations:
                destinations[item.recipient_id] = await self.sender.destination(item)
                await asyncio.sleep(0)  # a look-up may block briefly: let waiting sends go first
            destination = destinations[item.recipient_id]
            if destination is None:
                await self._db(self._record_failure, item, no_chat(), GIVE_UP_RETRY)
                continue
            queue = self._chats.get(destination)
            if queue is not None and len(queue) >= self._per_chat(destination[0]):
                spare.append(item.follow_up_id)
                continue
            self._queued.add(item.follow_up_id)
            if queue is None:
                queue = self._chats[destination] = deque()
                task = asyncio.create_task(self._serve(destination, queue), name=f"nudges {destination}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            queue.append(item)
        self._start_heartbeat()
        await self._db(self.release, spare)

    async def _serve(self, destination: Destination, queue: deque[Claimed]) -> None:
        """One chat's nudges in order, each after the pacer allows it."""
        current: Claimed | None = None
        try:
            while queue and not self._closing:
                current = queue.popleft()
                outcome = await self._deliver(current, destination)
                self._queued.discard(current.follow_up_id)
                current = None
                if outcome == "unreachable":
                    break
        finally:  # cancelled or stopped: unsent claims go back at once (release never touches a `sent` row)
            rest = [item.follow_up_id for item in ([current] if current else []) + list(queue)]
            self._queued.difference_update(rest)
            queue.clear()
            self._chats.pop(destination, None)
            if not self._queued and self._heartbeat is not None:
                self._heartbeat.cancel()
            if rest:
                with contextlib.suppress(Exception):
                    await self._db(self.release, rest)
            self._kick()

    async def drain(self) -> None:
        """Wait until every started delivery has finished."""
        while self._tasks or self._kicker:
            await asyncio.gather(*list(self._tasks), *([self._kicker] if self._kicker else []))

    async def run_once(self) -> int:
        """Claim and send what is due now, waiting for it; returns how many were confirmed sent."""
        before = self.sent
        await self.pump()
        await self.drain()
        return self.sent - before

    @property
    def busy(self) -> int:
        """Nudges claimed by this process and not yet finished."""
        return len(self._queued)

    async def close(self, timeout: float = 5.0) -> None:
        """Stop taking work; let calls in flight finish (up to `timeout`), give unsent claims back."""
        self._closing = True
        if self._kicker is not None:
            self._kicker.cancel()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._db_thread.shutdown(wait=True)

    # -- sending ---------------------------------------------------------------------------
    async def _deliver(self, item: Claimed, destination: Destination | None = None) -> str:
        if destination is None:
            destination = await self.sender.destination(item)
            if destination is None:
                await self._db(self._record_failure, item, no_chat(), GIVE_UP_RETRY)
                return "no chat"
        async def mark() -> bool:
            """Inside the pacer's slot: a free sending slot, then `sent` — so only calls on the wire are marked."""
            await self._sending.acquire()
            try:
                if await self._db(self._mark_sent, item):
                    return True
            except BaseException:
                self._sending.release()
                raise
            self._sending.release()
            return False

        if not await self.pacer.wait(*destination, then=mark):
            return "skipped"  # done/snoozed meanwhile, member unreachable, or another process took it
        failure: BaseException | None = None
        try:
            chat_ref, message_id = await self.sender.send_nudge(item)
        except Exception as error:
            failure = error
        finally:
            self._sending.release()
            self.pacer.done(*destination)
        outcome = classify(failure)
        if outcome.outcome is Outcome.delivered:
            await self._db(self._record_sent, item, chat_ref, message_id)
            self.sent += 1
            return "sent"
        if outcome.outcome is Outcome.uncertain:
            self.uncertain += 1
            log.warning("nudge %s: %s (%s)", item.follow_up_id, UNCERTAIN, outcome.detail)
            await self._db(self._uncertain, item, f"{UNCERTAIN}: {outcome.detail}"[:300])
            return "uncertain"
        if outcome.outcome is Outcome.unreachable:
            await self._db(self._unmark, item, outcome, POLICY.nudges)
            await self._db(self._member_unreachable, item.recipient_id)
            return "unreachable"
        if outcome.kind is FailureKind.internal:  # a rendering bug must not lose the nudge
            log.error("nudge %s failed", item.follow_up_id, exc_info=failure)
        if outcome.retry_after is not None:
            self.pacer.back_off(destination[0], outcome.retry_after.total_seconds())
        await self._db(self._unmark, item, outcome, POLICY.nudges)
        return "rate limited" if outcome.kind is FailureKind.rate_limited else "failed"

    def _mark_sent(self, item: Claimed) -> bool:
        now = self.clock.now()
        with Session(self.engine) as session, session.begin():
            reachable = select(col(Member.id)).where(col(Member.id) == item.recipient_id,
                                                     col(Member.unreachable_since).is_(None)).exists()
            result = session.execute(self._mine(item.follow_up_id)
                                     .where(col(FollowUp.status).in_(DUE), reachable)
                                     .values(status=FollowUpStatus.sent.value, sent_at=now, sent_late=item.late,
                                             message_ref=None, message_id=None,
                                             claimed_until=now + self.lease, updated_at=now))
            if rows_changed(result) == 1:
                return True
            session.execute(self._mine(item.follow_up_id).values(claimed_by=None, claimed_until=None))
            return False

    def _still_sent(self, follow_up_id: int) -> Update:
        """This worker's row as it left it: not snoozed, rescheduled or done while the call was out."""
        return self._mine(follow_up_id).where(col(FollowUp.status) == FollowUpStatus.sent.value)

    def _record_sent(self, item: Claimed, chat_ref: str, message_id: str) -> None:
        with Session(self.engine) as session, session.begin():
            session.execute(self._still_sent(item.follow_up_id).values(
                message_ref=chat_ref, message_id=message_id, last_error=None, last_failure=None, claimed_by=None,
                claimed_until=None))

    def _uncertain(self, item: Claimed, error: str) -> None:
        with Session(self.engine) as session, session.begin():
            session.execute(self._still_sent(item.follow_up_id).values(
                last_error=error, last_failure=FailureKind.uncertain.value, claimed_by=None, claimed_until=None))

    def _unmark(self, item: Claimed, outcome: Classified, schedule: Schedule) -> None:
        """Back to `pending`, to be tried again as the delivery policy says."""
        now = self.clock.now()
        with Session(self.engine) as session, session.begin():
            row = session.get(FollowUp, item.follow_up_id)
            if row is None or row.claimed_by != self.worker or row.status != FollowUpStatus.sent.value:
                return
            retry = POLICY.retry(outcome, row.attempts, schedule)
            attempts, wait = retry.attempts, retry.wait
            row.status, row.sent_at, row.sent_late = FollowUpStatus.pending.value, None, False
            row.attempts, row.last_error = attempts, _last_error(outcome)
            row.last_failure = outcome.kind.value if outcome.kind else None
            row.next_attempt_at, row.claimed_by, row.claimed_until = now + wait, None, None
            session.add(row)

    def _record_failure(self, item: Claimed, outcome: Classified, retry: timedelta) -> None:
        now = self.clock.now()
        with Session(self.engine) as session, session.begin():
            session.execute(self._mine(item.follow_up_id).values(
                last_error=_last_error(outcome), last_failure=outcome.kind.value if outcome.kind else None,
                next_attempt_at=now + retry, claimed_by=None, claimed_until=None))

    def _member_unreachable(self, member_id: int) -> None:
        with Session(self.engine) as session, session.begin():
            session.execute(update(Member).where(col(Member.id) == member_id, col(Member.unreachable_since).is_(None))
                            .values(unreachable_since=self.clock.now()))


def _recipient_reachable(now: datetime) -> ColumnElement[bool]:
    """For the claim (its FROM joins the follow-up's `Member`): whoever the nudge goes to now can be reached —
    the colleague covering the member while a cover is in force (even when the member's own chat is unreachable:
    they are away, the cover is not), else the member. A cover whose chat is unreachable holds the nudges until
    they write again or the cover ends; they never fall back to the absent member."""
    covering = aliased(Member)
    in_force = (select(col(Cover.id)).join(covering, col(covering.id) == col(Cover.cover_id))
                .where(col(Cover.member_id) == col(Member.id), col(Cover.ended_at).is_(None),
                       col(Cover.starts_at) <= now, col(Cover.ends_at) > now, col(covering.active).is_(True)))
    return or_(and_(col(Member.unreachable_since).is_(None), ~in_force.exists()),
               in_force.where(col(covering.unreachable_since).is_(None)).exists())


def _last_error(outcome: Classified) -> str:
    """The platform's words as logs show them (the kind is in `last_failure`)."""
    if outcome.kind is FailureKind.rate_limited and outcome.retry_after is not None:
        return f"rate limited ({outcome.retry_after.total_seconds():.0f}s)"
    if outcome.kind is FailureKind.unreachable:
        return f"unreachable: {outcome.detail}"[:300]
    return outcome.detail[:300]


def mark_reachable(session: Session, member_id: int) -> None:
    """The member wrote to the bot again: resume their nudges."""
    session.execute(update(Member).where(col(Member.id) == member_id, col(Member.unreachable_since).is_not(None))
                    .values(unreachable_since=None))
