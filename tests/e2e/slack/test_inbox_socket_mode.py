"""Socket Mode through the durable inbox: an envelope is acked only once its row is stored; one not stored is
not acked (Slack delivers it again) and its redelivery is stored once."""

from __future__ import annotations

import time

from sqlalchemy import func
from sqlmodel import Session, select

from bot.bootstrap import build
from bot.platforms import slack_adapter
from core.db import make_engine
from core.models import InboxItem, Interaction
from tests.e2e.slack.conftest import slack_settings
from tests.fakes.slack_api import TEAM, dm
from tests.waiting import until


def envelope(event: dict, event_id: str) -> dict:
    return {"token": "x", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback", "event_id": event_id,
            "event_time": int(time.time()), "event": event}


def count(url: str, model, *where) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return session.exec(select(func.count()).select_from(model).where(*where)).one()
    finally:
        engine.dispose()


async def test_envelopes_are_acked_after_the_insert_and_an_unstored_one_is_not_acked(fake, tmp_path):
    settings = slack_settings(fake, tmp_path, slack_app_token="xapp-1-A1-fake-app-token", slack_signing_secret=None)
    url = settings.database_url
    app = build(settings)
    adapter = slack_adapter(app)
    app.attach(adapter)
    await app.start(with_scheduler=False)
    real = adapter.inbox.store
    acked_when_stored: list[tuple[str, int]] = []
    failures = {"left": 0}

    async def store(platform, items):
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("database unavailable")
        result = await real(platform, items)
        acked_when_stored.append((items[0][0], len(fake.socket_acks)))  # how many acks Slack had at the insert
        return result

    adapter.inbox.store = store
    await adapter.start()
    try:
        await fake.push("events_api", envelope(dm("start"), "EvSock1"), "env-1")
        await fake.wait_for("chat.postMessage")
        failures["left"] = 1
        note = envelope(dm("Visited Acme, wants a quote, follow up Friday", ts="1763430003.000100"), "EvSock2")
        await fake.push("events_api", note, "env-2")  # the database refuses it: no ack
        await until(lambda: failures["left"] == 0)  # the insert was tried and refused
        assert fake.socket_acks == ["env-1"] and count(url, InboxItem) == 1
        await fake.push("events_api", {**note, "retry_attempt": 1}, "env-3")  # Slack's redelivery
        await fake.push("events_api", {**note, "retry_attempt": 2}, "env-4")  # and one more, already stored
        card = (await fake.wait_for("chat.postMessage", 2))[-1].body
        assert "Acme" in card["text"] and card["channel"] == "DU1"
        await until(lambda: len(fake.socket_acks) >= 3)
        assert fake.socket_acks[0] == "env-1" and sorted(fake.socket_acks) == ["env-1", "env-3", "env-4"]  # 3, 4 in any order
        # each envelope was in the inbox before its ack went out
        assert acked_when_stored[:2] == [("e:EvSock1", 0), ("e:EvSock2", 1)]
        await until(lambda: count(url, InboxItem, InboxItem.status != "done") == 0)
        assert count(url, InboxItem) == 2 and count(url, Interaction) == 1
    finally:
        await adapter.stop()
        await app.stop()
        app.engine.dispose()
