"""Several dispatcher processes on one PostgreSQL database: every nudge exactly once."""

from __future__ import annotations

import asyncio
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from core.db import make_engine, session_scope
from core.models import FollowUp
from core.services import customers, teams
from core.services.actor import Actor
from tests.conftest import drop_postgres, fresh_postgres, postgres_url

NUDGES = 3000


class FileSender:
    def __init__(self, path: Path) -> None:
        self.handle = path.open("a")

    async def destination(self, claimed):
        return ("test", "chat")

    async def send_nudge(self, claimed):
        self.handle.write(f"{claimed.follow_up_id}\n")
        self.handle.flush()
        return "test:chat", str(claimed.follow_up_id)


def worker(url: str, out: str, name: str) -> None:
    from core.ports import SystemClock
    from core.scheduling import Dispatcher
    from core.scheduling.limits import Pacer

    engine = make_engine(url)
    dispatcher = Dispatcher(engine, FileSender(Path(out)), SystemClock(), worker=name, batch=50, pacer=Pacer({}))

    async def drain() -> None:
        idle = 0
        while idle < 3:
            idle = 0 if await dispatcher.run_once() else idle + 1

    asyncio.run(drain())
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("processes", [2, 4])
def test_processes_share_the_work_without_duplicates_or_misses(postgres_template, tmp_path, processes):
    engine, name = fresh_postgres(postgres_template)
    try:
        with session_scope(engine) as session:
            actor = Actor.of(teams.found_team(session, teams.Newcomer("test", "1", "dm1", "Amy")))
            customer = customers.create_customer(session, actor, "Acme")
            due = datetime.now(UTC) - timedelta(minutes=1)
            session.execute(insert(FollowUp), [
                {"team_id": actor.team_id, "member_id": actor.member_id, "customer_id": customer.id, "due_at": due,
                 "action": f"nudge {i}", "status": "pending", "explicit_time": True, "attempts": 0,
                 "sent_late": False, "created_at": due, "updated_at": due} for i in range(NUDGES)])
        context = multiprocessing.get_context("spawn")
        outputs = [tmp_path / f"worker-{i}.txt" for i in range(processes)]
        workers = [context.Process(target=worker, args=(postgres_url(name), str(out), f"w{i}"))
                   for i, out in enumerate(outputs)]
        for process in workers:
            process.start()
        for process in workers:
            process.join(timeout=240)
            assert process.exitcode == 0
        sent = [int(line) for out in outputs if out.exists() for line in out.read_text().split()]
        assert len(sent) == NUDGES, f"{len(sent)} sends for {NUDGES} nudges"
        assert len(set(sent)) == NUDGES
        assert sum(1 for out in outputs if out.exists() and out.read_text()) >= 2  # the work was shared
    finally:
        engine.dispose()
        drop_postgres(name)
