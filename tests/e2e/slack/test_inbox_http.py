"""Slack through the durable inbox (real slack-bolt, fake Web API): a signed request is answered 200 only once its
row is stored; a retried event is no second row; receiver and worker roles split acknowledging from processing,
with slash-command ephemerals, App Home and button presses still answered; a request that keeps failing is parked
and its member told; Socket Mode acks an envelope only after the insert."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from bot.bootstrap import build
from bot.platforms import slack_adapter
from core.db import make_engine, upgrade
from core.models import InboxItem, Interaction
from core.services import teams
from tests.conftest import drop_postgres, fresh_postgres
from tests.e2e.slack.conftest import slack_settings
from tests.fakes.slack_api import TEAM, channel_message, dm, event, slash
from tests.waiting import until


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """An empty migrated database whose team Amy (U1, DM DU1) owns."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/crm.db"
        engine = make_engine(url)
        upgrade(engine)
        name = None
    else:
        engine, name = fresh_postgres(request.getfixturevalue("postgres_template"))
        url = engine.url.render_as_string(hide_password=False)
    with Session(engine) as session:
        teams.found_team(session, teams.Newcomer("slack", "U1", "DU1", "Amy", workspace_id=TEAM, language="en"))
        session.commit()
    engine.dispose()
    yield url
    if name is not None:
        drop_postgres(name)


class Bots:
    """Slack adapters on one database, each with its role."""

    def __init__(self, fake, tmp_path, url: str, **extra) -> None:
        self.settings = slack_settings(fake, tmp_path, **extra).model_copy(update={"database_url": url})
        self.running: list[tuple] = []

    async def start(self, role: str = "all"):
        app = build(self.settings)
        adapter = slack_adapter(app, role)
        app.attach(adapter)
        await app.start(with_scheduler=False)
        await adapter.start()
        self.running.append((app, adapter))
        return adapter

    def url(self, adapter) -> str:
        return f"http://127.0.0.1:{adapter.port}/slack/events"

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


async def test_an_event_is_stored_before_its_200_and_a_retried_one_is_no_second_row(fake, bots):
    adapter = await bots.start()
    url = bots.url(adapter)
    note = dm("Called Acme about the invoice", ts="1763430001.000100")
    assert (await event(url, note, event_id="EvInbox1"))[0] == 200
    assert bots.count(InboxItem) == 1  # in the inbox before Slack got its 200
    await fake.wait_for("chat.postMessage")
    for retry in (1, 2, 3):  # Slack did not see our 200 in time and retried, with the same event id
        assert (await event(url, note, event_id="EvInbox1", retry=retry))[0] == 200
    assert (await event(url, channel_message("chatter in a channel"), event_id="EvChannel"))[0] == 200
    assert (await event(url, dm("help"), event_id="EvInbox2"))[0] == 200  # a sentinel after them
    assert "todo" in (await fake.wait_for("chat.postMessage", 2))[-1].body["text"]
    await until(lambda: bots.count(InboxItem, InboxItem.status != "done") == 0)
    assert bots.count(InboxItem) == 2  # the note and the sentinel: no row for a retry nor a channel message
    assert bots.count(Interaction) == 1 and len(fake.sent("chat.postMessage")) == 2


async def test_a_request_the_database_did_not_take_is_answered_503_and_taken_when_sent_again(fake, bots):
    adapter = await bots.start()
    url = bots.url(adapter)
    real = adapter.inbox.store
    failures = {"left": 1}

    async def flaky(platform, items):
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("database unavailable")
        return await real(platform, items)

    adapter.inbox.store = flaky
    note = dm("Visited Globex, they want 20 units", ts="1763430002.000100")
    assert (await event(url, note, event_id="EvFlaky"))[0] == 503  # not acknowledged: Slack sends it again
    assert bots.count(InboxItem) == 0 and not fake.sent("chat.postMessage")
    assert (await event(url, note, event_id="EvFlaky", retry=1))[0] == 200
    assert "Globex" in (await fake.wait_for("chat.postMessage"))[-1].body["text"]
    await until(lambda: bots.count(Interaction) == 1)


async def test_a_receiver_only_acknowledges_and_a_worker_answers_slash_commands_home_and_notes(fake, bots):
    receiver = await bots.start("receiver")
    url = bots.url(receiver)
    assert (await event(url, dm("Visited Acme, Mr. Lee wants a quote, follow up Friday")))[0] == 200
    assert (await slash(url, "todo", channel="C5"))[0] == 200  # typed in a channel: answered in the DM, a pointer there
    assert (await event(url, {"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "home"}))[0] == 200
    await asyncio.sleep(0.6)  # longer than a worker's idle look: nothing is processed by a receiver
    assert bots.count(InboxItem, InboxItem.status == "pending") == 3
    assert not fake.messages() and not fake.sent("views.publish")
    worker = await bots.start("worker")
    assert worker.port is None  # a worker serves no endpoint
    card = (await fake.wait_for("chat.postMessage"))[-1].body
    assert card["channel"] == "DU1" and "Acme" in card["text"]
    todo = (await fake.wait_for("chat.postMessage", 2))[-1].body
    assert todo["channel"] == "DU1" and "Acme" in todo["text"]
    pointer = (await fake.wait_for("chat.postEphemeral"))[-1].body
    assert pointer["channel"] == "C5" and pointer["user"] == "U1" and "direct messages" in pointer["text"]
    home = (await fake.wait_for("views.publish"))[-1].body
    assert home["user_id"] == "U1" and "Acme" in str(home["view"])
    await until(lambda: bots.count(InboxItem, InboxItem.status != "done") == 0)
    # in the order they came: the note before the /crm todo that lists it, before the App Home that shows it
    order = [c.method for c in fake.calls if c.method in ("chat.postMessage", "chat.postEphemeral", "views.publish")]
    assert order == ["chat.postMessage", "chat.postMessage", "chat.postEphemeral", "views.publish"]


async def test_a_request_that_keeps_failing_is_parked_and_its_member_told(fake, bots):
    adapter = await bots.start()
    url = bots.url(adapter)
    real = adapter.app.async_dispatch

    async def broken(request):
        if "boom" in str(request.body):
            raise RuntimeError("a bug in the listener")
        return await real(request)

    adapter.app.async_dispatch = broken
    assert (await event(url, dm("boom at Acme"), event_id="EvBoom"))[0] == 200
    told = (await fake.wait_for("chat.postMessage", timeout=30))[-1].body
    assert told["channel"] == "DU1" and "could not" in told["text"].lower()
    await until(lambda: bots.count(InboxItem, InboxItem.status == "parked") == 1)
    row_error = None
    engine = make_engine(bots.settings.database_url)
    with Session(engine) as session:
        row_error = session.exec(select(InboxItem.last_error)).one()
    engine.dispose()
    assert "a bug in the listener" in (row_error or "")
    assert (await event(url, dm("help"), event_id="EvAfterBoom"))[0] == 200  # the member's next message is served
    assert "todo" in (await fake.wait_for("chat.postMessage", 2))[-1].body["text"]
    assert len(fake.sent("chat.postMessage")) == 2  # told once, not at every attempt
