"""Telegram webhooks through the durable inbox: a delivery is answered 200 only once its row is stored; a
redelivered update is no second row; receiver and worker roles split the endpoint from the processing."""

from __future__ import annotations

import asyncio
import json
import socket

import aiohttp
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from adapters.telegram import TelegramAdapter
from bot.bootstrap import build
from bot.platforms import command_menu
from core.db import make_engine, upgrade
from core.models import InboxItem, Interaction
from core.services import teams
from tests.conftest import drop_postgres, fresh_postgres
from tests.e2e.telegram.conftest import telegram_settings
from tests.fakes.telegram_api import message
from tests.waiting import until

SECRET = "s3cret-token-for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """The URL of an empty migrated database with Amy's team (the bot and the test share it)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/crm.db"
        engine = make_engine(url)
        upgrade(engine)
        name = None
    else:
        engine, name = fresh_postgres(request.getfixturevalue("postgres_template"))
        url = engine.url.render_as_string(hide_password=False)
    with Session(engine) as session:
        teams.found_team(session, teams.Newcomer("telegram", "42", "42", "Amy"))
        session.commit()
    engine.dispose()
    yield url
    if name is not None:
        drop_postgres(name)


class Bots:
    """Telegram adapters on one database, each with its role, started and stopped together."""

    def __init__(self, fake, tmp_path, url: str) -> None:
        self.port = free_port()
        self.hook = f"http://127.0.0.1:{self.port}/tg-hook"
        self.settings = telegram_settings(fake, tmp_path, telegram_webhook_url=self.hook,
                                          telegram_webhook_secret=SECRET, telegram_webhook_listen="127.0.0.1",
                                          telegram_webhook_port=self.port).model_copy(update={"database_url": url})
        self.running: list[tuple] = []

    async def start(self, role: str, inbox_wrapper=None) -> TelegramAdapter:
        app = build(self.settings)
        inbox = app.open_inbox(f"test-{role}-{len(self.running)}")
        adapter = TelegramAdapter(self.settings, app.handle, commands=command_menu(),
                                  inbox=inbox_wrapper(inbox) if inbox_wrapper else inbox,
                                  parked_text=app.parked_text, role=role)
        app.attach(adapter)
        await app.start(with_scheduler=False)
        await adapter.start()
        self.running.append((app, adapter))
        return adapter

    async def stop(self) -> None:
        for app, adapter in reversed(self.running):
            await adapter.stop()
            await app.stop()
            app.engine.dispose()

    def count(self, model, *where) -> int:
        engine = make_engine(self.settings.database_url)
        try:
            with Session(engine) as session:
                return session.exec(select(func.count()).select_from(model).where(*where)).one()
        finally:
            engine.dispose()


@pytest.fixture
async def bots(fake, tmp_path, database_url):
    running = Bots(fake, tmp_path, database_url)
    yield running
    await running.stop()


async def post(url: str, update: dict, secret: str | None = SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with aiohttp.ClientSession() as session, session.post(url, data=json.dumps(update), headers=headers) as r:
        return r.status


async def test_webhook_update_is_stored_then_answered_and_a_redelivery_is_stored_once(fake, bots):
    await bots.start("all")
    registered = (await fake.wait_for("setWebhook"))[-1].body
    assert registered["url"] == bots.hook and registered["secret_token"] == SECRET
    note = {"update_id": 9001, **message("Visited Acme, wants 5 units")}
    assert await post(bots.hook, note) == 200
    assert bots.count(InboxItem) == 1  # stored before the 200
    card = (await fake.wait_for("sendMessage"))[-1].body
    assert "Acme" in card["text"]
    assert await post(bots.hook, note) == 200  # Telegram delivered it again (it missed our answer)
    assert await post(bots.hook, {"update_id": 9002, **message("/help")}) == 200  # a sentinel after it
    await fake.wait_for("sendMessage", 2)
    await until(lambda: bots.count(InboxItem, InboxItem.status != "done") == 0)
    assert bots.count(InboxItem) == 2 and bots.count(Interaction) == 1
    assert len(fake.sent("sendMessage")) == 2  # no answer to the redelivery
    assert await post(bots.hook, {"update_id": 9003, **message("/todo")}, "wrong") == 403
    assert await post(bots.hook, {"update_id": 9004, **message("/todo")}, None) == 403
    assert bots.count(InboxItem) == 2 and not fake.sent("getUpdates") and not fake.sent("deleteWebhook")


async def test_a_delivery_the_database_did_not_take_is_refused_so_telegram_sends_it_again(fake, bots):
    failing = {"left": 1}

    class Flaky:
        def __init__(self, inbox) -> None:
            self.inner = inbox

        def __getattr__(self, name):
            return getattr(self.inner, name)

        async def store(self, platform, items):
            if failing["left"]:
                failing["left"] -= 1
                raise ConnectionError("database unavailable")
            return await self.inner.store(platform, items)

    await bots.start("all", inbox_wrapper=Flaky)
    note = {"update_id": 9101, **message("Called Globex about the renewal")}
    assert await post(bots.hook, note) != 200  # not acknowledged: Telegram keeps it
    assert bots.count(InboxItem) == 0 and not fake.sent("sendMessage")
    assert await post(bots.hook, note) == 200  # its next delivery
    await fake.wait_for("sendMessage")
    await until(lambda: bots.count(Interaction) == 1)
    assert bots.count(InboxItem) == 1


async def test_receiver_only_serves_the_endpoint_and_a_worker_processes_what_it_stored(fake, bots):
    await bots.start("receiver")
    await fake.wait_for("setWebhook")
    for i in range(5):
        assert await post(bots.hook, {"update_id": 9200 + i, **message(f"Visited Acme, order {i}: wants {i + 1} units")}) == 200
    await asyncio.sleep(0.6)  # longer than a worker's idle look: nobody here processes
    assert bots.count(InboxItem, InboxItem.status == "pending") == 5 and not fake.sent("sendMessage")
    webhooks = len(fake.sent("setWebhook"))
    await bots.start("worker")
    await fake.wait_for("sendMessage", 5)
    await until(lambda: bots.count(InboxItem, InboxItem.status != "done") == 0)
    assert bots.count(Interaction) == 5
    texts = [c.body["text"] for c in fake.sent("sendMessage")]
    assert [t.count("units") > 0 for t in texts] == [True] * 5
    # the worker neither registers nor removes the webhook, and never polls
    assert len(fake.sent("setWebhook")) == webhooks and not fake.sent("deleteWebhook") and not fake.sent("getUpdates")
