"""Claim due follow-ups atomically, hand each to a sender, record the outcome.

Delivery policy (at most once, never silently dropped): a claimed nudge is marked `sent` in its own
transaction *before* the platform call; the message id is added after. A process that dies between
the two leaves `sent` without a message id: it is not sent again (no duplicate) and /status and the
digest list it as "may not have arrived". Claims carry a lease; a claim whose process died is taken
over when the lease ends. PostgreSQL claims with FOR UPDATE SKIP LOCKED, so several processes never
take the same row; SQLite has a single writer.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine, or_, select, update
from sqlmodel import Session, col

from core.models import FollowUp, FollowUpStatus, Member
from core.ports import Clock, DeliveryError, RateLimited, Unreachable
from core.scheduling.limits import Pacer
from core.scheduling.workhours import next_working_start

log = logging.getLogger(__name__)
DUE = (FollowUpStatus.pending.value, FollowUpStatus.snoozed.value)
MAX_ATTEMPTS = 5
GIVE_UP_RETRY = timedelta(hours=6)  # after MAX_ATTEMPTS: keep trying, slowly, and report it
LATE_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class Claimed:
    follow_up_id: int
    member_id: int
    due_at: datetime
    late: bool


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
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


class Dispatcher:
    def __init__(self, engine: Engine, sender: NudgeSender, clock: Clock, *, worker: str | None = None,
                 lease: timedelta = timedelta(minutes=2), batch: int = 100, pacer: Pacer | None = None) -> None:
        self.engine, self.sender, self.clock = engine, sender, clock
        self.worker = worker or worker_name()
        self.lease, self.batch = lease, batch
        self.pacer = pacer or Pacer()

    # -- claiming --------------------------------------------------------------------------
    def claim(self) -> list[Claimed]:
        """Take up to `batch` due follow-ups (oldest first) for this worker."""
        now = self.clock.now()
        with Session(self.engine) as session, session.begin():
            query = (select(FollowUp.id).join(Member, col(Member.id) == col(FollowUp.member_id))
                     .where(col(FollowUp.status).in_(DUE), FollowUp.due_at <= now,
                            or_(col(FollowUp.next_attempt_at).is_(None), FollowUp.next_attempt_at <= now),
                            or_(col(FollowUp.claimed_until).is_(None), FollowUp.claimed_until < now),
                            col(Member.unreachable_since).is_(None), col(Member.active).is_(True))
                     .order_by(col(FollowUp.due_at)).limit(self.batch))
            if self.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=FollowUp)
            ids = list(session.execute(query).scalars())
            if not ids:
                return []
            session.execute(update(FollowUp).where(col(FollowUp.id).in_(ids))
                            .values(claimed_by=self.worker, claimed_until=now + self.lease))
            rows = session.execute(select(FollowUp.id, FollowUp.member_id, FollowUp.due_at, FollowUp.explicit_time)
                                   .where(col(FollowUp.id).in_(ids)).order_by(col(FollowUp.due_at))).all()
            members = {m.id: m for m in session.execute(
                select(Member).where(col(Member.id).in_({r.member_id for r in rows}))).scalars()}
            claimed: list[Claimed] = []
            for row in rows:
                member = members[row.member_id]
                if not row.explicit_time and (start := next_working_start(now, member)) > now:
                    session.execute(update(FollowUp).where(FollowUp.id == row.id).values(
                        claimed_by=None, claimed_until=None, next_attempt_at=start))
                    continue
                claimed.append(Claimed(row.id, row.member_id, row.due_at, now - row.due_at > LATE_AFTER))
            return claimed

    def _mine(self, follow_up_id: int):
        return update(FollowUp).where(FollowUp.id == follow_up_id, FollowUp.claimed_by == self.worker)

    # -- sending ---------------------------------------------------------------------------
    async def run_once(self) -> int:
        """Claim and send what is due; returns how many were sent."""
        claimed = await asyncio.to_thread(self.claim)
        sent = 0
        for item in claimed:
            sent += await self._deliver(item)
        return sent

    async def _deliver(self, item: Claimed) -> int:
        destination = await self.sender.destination(item)
        if destination is None:
            self._record_failure(item, "no chat for this member", retry=GIVE_UP_RETRY)
            return 0
        await self.pacer.wait(*destination)
        if not self._mark_sent(item):
            return 0  # someone else took it (lease lost) or it was done/snoozed meanwhile
        try:
            chat_ref, message_id = await self.sender.send_nudge(item)
        except RateLimited as error:
            self.pacer.back_off(destination[0], error.retry_after)
            self._unmark(item, f"rate limited ({error.retry_after:.0f}s)", retry=timedelta(seconds=error.retry_after),
                         count_attempt=False)
            return 0
        except Unreachable as error:
            self._unmark(item, f"unreachable: {error}", retry=None, count_attempt=False)
            self._member_unreachable(item.member_id)
            return 0
        except (DeliveryError, TimeoutError, OSError) as error:
            self._unmark(item, str(error) or error.__class__.__name__, retry=None, count_attempt=True)
            return 0
        except Exception as error:  # a rendering bug must not lose the nudge
            log.exception("nudge %s failed", item.follow_up_id)
            self._unmark(item, f"error: {error}", retry=None, count_attempt=True)
            return 0
        with Session(self.engine) as session, session.begin():
            session.execute(update(FollowUp).where(FollowUp.id == item.follow_up_id)
                            .values(message_ref=chat_ref, message_id=message_id, claimed_by=None, claimed_until=None))
        return 1

    def _mark_sent(self, item: Claimed) -> bool:
        now = self.clock.now()
        with Session(self.engine) as session, session.begin():
            reachable = select(Member.id).where(col(Member.unreachable_since).is_(None))
            result = session.execute(self._mine(item.follow_up_id)
                                     .where(col(FollowUp.status).in_(DUE), col(FollowUp.member_id).in_(reachable))
                                     .values(status=FollowUpStatus.sent.value, sent_at=now, sent_late=item.late,
                                             claimed_until=now + self.lease, updated_at=now))
            if result.rowcount == 1:
                return True
            session.execute(self._mine(item.follow_up_id).values(claimed_by=None, claimed_until=None))
            return False

    def _unmark(self, item: Claimed, error: str, *, retry: timedelta | None, count_attempt: bool) -> None:
        now = self.clock.now()
        with Session(self.engine) as session, session.begin():
            row = session.get(FollowUp, item.follow_up_id)
            if row is None or row.claimed_by != self.worker:
                return
            attempts = row.attempts + (1 if count_attempt else 0)
            delay = retry if retry is not None else (GIVE_UP_RETRY if attempts >= MAX_ATTEMPTS else backoff(attempts))
            row.status, row.sent_at, row.sent_late = FollowUpStatus.pending.value, None, False
            row.attempts, row.last_error = attempts, error[:300]
            row.next_attempt_at, row.claimed_by, row.claimed_until = now + delay, None, None
            session.add(row)

    def _record_failure(self, item: Claimed, error: str, *, retry: timedelta) -> None:
        now = self.clock.now()
        with Session(self.engine) as session, session.begin():
            session.execute(self._mine(item.follow_up_id).values(
                last_error=error, next_attempt_at=now + retry, claimed_by=None, claimed_until=None))

    def _member_unreachable(self, member_id: int) -> None:
        with Session(self.engine) as session, session.begin():
            session.execute(update(Member).where(Member.id == member_id, col(Member.unreachable_since).is_(None))
                            .values(unreachable_since=self.clock.now()))


def mark_reachable(session: Session, member_id: int) -> None:
    """The member wrote to the bot again: resume their nudges."""
    session.execute(update(Member).where(Member.id == member_id, col(Member.unreachable_since).is_not(None))
                    .values(unreachable_since=None))
