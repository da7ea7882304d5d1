"""The clock: APScheduler wakes the dispatcher every few seconds, at the next due time, and on demand.

No reminder is an APScheduler job: follow-up rows are the truth, so nothing is lost on restart and
whatever fell due while the bot was down is sent on start (oldest first, marked late). There are at
most four jobs whatever the number of follow-ups: the interval sweep, one one-shot wake at the
earliest due time within the next interval, one "wake now", and the notices. No misfire grace time:
a late wake still runs (`misfire_grace_time=None`), and the rows decide what is due anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]

from core.ports import Clock
from core.scheduling.dispatch import Dispatcher

log = logging.getLogger(__name__)


class NoticeSender(Protocol):
    async def send_notices(self, now: datetime) -> int:
        """Digests, silent-customer alerts and weekly summaries that are due now; returns how many went out."""
        ...


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    """Work the clock runs every `seconds` (the customer pool's returns, the janitor): `run(now)` decides from the
    rows what is due, so a run after a restart or on several processes at once does each thing once; it returns
    how many things it did (for logs)."""

    name: str
    seconds: float
    run: Callable[[datetime], Awaitable[int]]


def _real_now() -> datetime:
    return datetime.now().astimezone()


class FollowUpScheduler:
    def __init__(self, dispatcher: Dispatcher, notices: NoticeSender | None, clock: Clock, *,
                 interval: float = 5.0, notice_interval: float = 60.0, periodic: Sequence[PeriodicJob] = ()) -> None:
        self.dispatcher, self.notices, self.clock = dispatcher, notices, clock
        self.interval, self.notice_interval = interval, notice_interval
        self.periodic = tuple(periodic)
        self._scheduler: AsyncIOScheduler | None = None

    async def start(self) -> None:
        self.dispatcher.refill = True
        scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        scheduler.add_job(self.tick, "interval", seconds=self.interval, id="dispatch",
                          next_run_time=_real_now())  # catch up at once
        if self.notices is not None:
            scheduler.add_job(self.send_notices, "interval", seconds=self.notice_interval, id="notices",
                              next_run_time=_real_now())
        for job in self.periodic:
            scheduler.add_job(self.run_periodic, "interval", args=(job,), seconds=job.seconds, id=f"periodic:{job.name}",
                              next_run_time=_real_now())
        scheduler.start()
        self._scheduler = scheduler

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        await self.dispatcher.close()

    def add_periodic(self, job: PeriodicJob) -> None:
        """Run `job` every `job.seconds` once started (the composition root adds them before `start`)."""
        self.periodic = (*self.periodic, job)

    def _at(self, job_id: str, moment: datetime) -> None:
        if self._scheduler is not None:
            self._scheduler.add_job(self.tick, "date", run_date=moment, id=job_id, replace_existing=True)

    def wake(self) -> None:
        """Run the dispatcher now (a follow-up was just created or changed)."""
        self._at("wake-now", _real_now())

    async def dispatch(self) -> int:
        """Send what is due now and wait for it (tests, `chatcrm` commands); returns how many were sent."""
        before = self.dispatcher.sent
        await self.tick()
        await self.dispatcher.drain()
        return self.dispatcher.sent - before

    async def tick(self) -> int:
        """Claim what is due (deliveries go on in the background), then set the next wake-up."""
        claimed = 0
        try:
            claimed = await self.dispatcher.pump()
            upcoming = await asyncio.to_thread(self.dispatcher.next_due, timedelta(seconds=self.interval))
            if upcoming is not None:
                delay = max(timedelta(0), upcoming - self.clock.now()) + timedelta(milliseconds=5)
                self._at("wake-at", _real_now() + delay)
        except asyncio.CancelledError:
            log.debug("dispatcher run cancelled: the bot is stopping")  # the rows keep what is due
        except Exception:
            log.exception("dispatcher run failed; it runs again shortly")
        return claimed

    async def run_periodic(self, job: PeriodicJob) -> int:
        """Run one periodic job now; a failure is logged and the job runs again at its next time."""
        try:
            done = await job.run(self.clock.now())
        except asyncio.CancelledError:
            log.debug("%s cancelled: the bot is stopping", job.name)
            return 0
        except Exception:
            log.exception("%s failed; it runs again at its next time", job.name)
            return 0
        if done:
            log.info("%s: %d done", job.name, done)
        return done

    async def send_notices(self) -> int:
        try:
            return await self.notices.send_notices(self.clock.now()) if self.notices else 0
        except asyncio.CancelledError:
            log.debug("notices cancelled: the bot is stopping")  # reservations are released or retaken
            return 0
        except Exception:
            log.exception("notices failed; they run again shortly")
            return 0
