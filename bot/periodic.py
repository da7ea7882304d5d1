"""Periodic work the composition root hands to the scheduler's clock (`core.scheduling.PeriodicJob`).

Each job is a use case run in its own unit of work off the event loop; what it publishes (`core.events`) is
delivered after the commit like an update's events. Add a job to `jobs()`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.forward_summaries import SWEEP_SECONDS
from core.events import Event
from core.scheduling import PeriodicJob
from core.uow import Database, UnitOfWork, unit_of_work
from core.usecases import customer_pool, handover, housekeeping

if TYPE_CHECKING:
    from bot.bootstrap import ChatCRM

UseCase = Callable[[UnitOfWork, datetime], int]
COVER_SECONDS = 300.0  # a cover ends (and both members are told) within 5 minutes after its last day
JANITOR_SECONDS = 3600.0  # hourly: the ages of the rows and files decide what goes
POOL_SECONDS = 600.0  # the customer pool: warnings and returns are due on whole days, so every 10 minutes is plenty


def use_case_job(app: ChatCRM, name: str, seconds: float, use_case: UseCase) -> PeriodicJob:
    """A periodic job that runs `use_case(uow, now)` in one transaction and delivers its events after it."""
    async def run(now: datetime) -> int:
        def work() -> tuple[int, list[Event]]:
            with unit_of_work(app.engine) as uow:
                done = use_case(uow, now)
                events = list(uow.events)
            return done, events

        done, events = await asyncio.to_thread(work)
        app.deliver(events)
        return done
    return PeriodicJob(name, seconds, run)


def janitor_job(app: ChatCRM) -> PeriodicJob:
    """The janitor (`core.usecases.housekeeping`): batches of its own transactions, and spool files on disk."""
    async def run(now: datetime) -> int:
        retention = housekeeping.Retention.of(app.settings)
        return (await asyncio.to_thread(housekeeping.run, Database(app.engine), now, retention)).total
    return PeriodicJob("janitor", JANITOR_SECONDS, run)


def jobs(app: ChatCRM) -> list[PeriodicJob]:
    """Every periodic job of this deployment (each decides from the rows what is due, so any process may run it)."""
    return [janitor_job(app), use_case_job(app, "cover endings", COVER_SECONDS, handover.end_due_covers),
            use_case_job(app, "customer pool", POOL_SECONDS, customer_pool.run),
            PeriodicJob("forward-sweep", SWEEP_SECONDS, app.forward_summaries.sweep)]  # bursts whose timer died
