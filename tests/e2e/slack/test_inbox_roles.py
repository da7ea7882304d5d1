"""Two Slack receivers and two workers as real `chatcrm run --role` processes on one PostgreSQL database: events
spread round-robin over the receivers (as a load balancer does), each retried once at the other receiver; every
note stored once and in order, answered, and every inbox row finished."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from core.models import InboxItem, Interaction
from core.services import teams
from tests.conftest import drop_postgres, fresh_postgres
from tests.e2e.kill_runs import BotProcess
from tests.e2e.slack.test_sigkill import SlackSender, bot_env, free_port
from tests.fakes.slack_api import TEAM, FakeSlack, dm
from tests.waiting import until

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
NOTES = 60


async def test_two_receivers_and_two_workers_store_every_note_once_in_order(postgres_template, tmp_path):
    engine, name = fresh_postgres(postgres_template)
    url = engine.url.render_as_string(hide_password=False)
    with Session(engine) as session:
        teams.found_team(session, teams.Newcomer("slack", "U1", "DU1", "Amy", workspace_id=TEAM, language="en"))
        session.commit()
    fake = await FakeSlack().start()
    ports = [free_port(), free_port()]
    processes = [BotProcess(bot_env(fake, url, port), tmp_path, "--role", "receiver") for port in ports]
    processes += [BotProcess(bot_env(fake, url, free_port()), tmp_path, "--role", "worker") for _ in range(2)]
    receivers = [SlackSender(f"http://127.0.0.1:{port}/slack/events") for port in ports]
    try:
        async with aiohttp.ClientSession() as session:
            for i in range(NOTES):
                note = dm(f"Visited Acme, order {i}: wants {i + 1} units", ts=f"1763440000.{i:06d}")
                await receivers[i % 2].event(session, note, f"EvRoles{i}")
                if i % 3 == 0:  # Slack missed our 200 and retried; the load balancer chose the other receiver
                    await receivers[(i + 1) % 2].event(session, note, f"EvRoles{i}")
                await asyncio.sleep(0.01)

        def settled() -> bool:
            with Session(engine) as session:
                left = session.exec(select(func.count()).select_from(InboxItem).where(InboxItem.status != "done")).one()
                stored = session.exec(select(func.count()).select_from(Interaction)).one()
            return stored >= NOTES and not left and len(fake.sent("chat.postMessage")) >= NOTES

        await until(settled, 90)
        assert [process.stop() for process in processes] == [0, 0, 0, 0]  # SIGTERM: each stops cleanly
    finally:
        for process in processes:
            process.close()
        await fake.stop()
    with Session(engine) as session:
        rows = session.exec(select(Interaction).order_by(Interaction.id)).all()
        inbox_rows = session.exec(select(InboxItem)).all()
    engine.dispose()
    drop_postgres(name)
    numbers = [int(m.group(1)) for r in rows if (m := re.search(r"order (\d+)\b", r.text))]
    assert numbers == list(range(NOTES))  # each once, in the order sent (one member)
    assert len(inbox_rows) == NOTES and {r.claimed_by for r in inbox_rows} == {None}
    cards = [int(n) for c in fake.sent("chat.postMessage") for n in re.findall(r"(\d+) units", str(c.body.get("text")))]
    assert sorted(cards) == list(range(1, NOTES + 1))  # every note answered once
