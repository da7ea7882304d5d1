"""The clock: APScheduler wakes the dispatcher every few seconds and the notices every minute.

No reminder is an APScheduler job: follow-up rows are the truth, so nothing is lost on restart and
whatever fell due while the bot was down is sent on start (oldest first, marked late).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.ports import Clock
from core.scheduling.dispatch import Dispatcher

log = logging.getLogger(__name__)


class NoticeSender(Protocol):
    async def send_notices(self, now: datetime) -> int:
        """Digests, silent-customer alerts and weekly summaries that are due now; returns how many went out."""
        ...


class FollowUpScheduler:
    def __init__(self, dispatcher: Dispatcher, notices: NoticeSender | None, clock: Clock, *,
                 interval: float = 5.0, notice_interval: float = 60.0) -> None:
        self.dispatcher, self.notices, self.clock = dispatcher, notices, clock
        self.interval, self.notice_interval = interval, notice_interval
        self._scheduler: AsyncIOScheduler | None = None

    async def start(self) -> None:
        scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        scheduler.add_job(self.dispatch, "interval", seconds=self.interval, id="dispatch",
                          next_run_time=datetime.now().astimezone())  # catch up at once
        if self.notices is not None:
            scheduler.add_job(self.send_notices, "interval", seconds=self.notice_interval, id="notices",
                              next_run_time=datetime.now().astimezone())
        scheduler.start()
        self._scheduler = scheduler

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    def wake(self) -> None:
        """Run the dispatcher now (a follow-up was just created or changed)."""
        if self._scheduler is not None:
            job = self._scheduler.get_job("dispatch")
            if job is not None:
                job.modify(next_run_time=datetime.now().astimezone())

    async def dispatch(self) -> int:
        total = 0
        try:
            while sent := await self.dispatcher.run_once():
                total += sent
        except Exception:
            log.exception("dispatcher run failed; it runs again shortly")
        return total

    async def send_notices(self) -> int:
        try:
            return await self.notices.send_notices(self.clock.now()) if self.notices else 0
        except Exception:
            log.exception("notices failed; they run again shortly")
            return 0
