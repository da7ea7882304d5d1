"""Socket Mode: the real slack-bolt handler connects through `apps.connections.open` and acks envelopes."""

from __future__ import annotations

import asyncio
import time

from sqlmodel import select

from core.db import session_scope
from core.models import Interaction
from tests.e2e.slack.conftest import slack_settings, start_bot
from tests.fakes.slack_api import TEAM, dm


def envelope(event: dict, event_id: str) -> dict:
    return {"token": "x", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback", "event_id": event_id,
            "event_time": int(time.time()), "event": event}


async def test_socket_mode_receives_events_acks_them_and_replies(fake, tmp_path):
    settings = slack_settings(fake, tmp_path, slack_app_token="xapp-1-A1-fake-app-token", slack_signing_secret=None)
    app, adapter = await start_bot(settings)
    try:
        await fake.push("events_api", envelope(dm("start"), "EvS1"), "env-1")
        await fake.wait_for("chat.postMessage")
        await fake.push("events_api", envelope(dm("Visited Acme, wants a quote, follow up Friday"), "EvS2"), "env-2")
        card = (await fake.wait_for("chat.postMessage", 2))[-1].body
        assert "Acme" in card["text"] and card["channel"] == "DU1"
        await fake.push("events_api", envelope(dm("Visited Acme, wants a quote, follow up Friday"), "EvS2"), "env-3")
        await fake.wait_for("apps.connections.open")
        assert fake.sent("apps.connections.open")[0].headers["Authorization"] == "Bearer xapp-1-A1-fake-app-token"
        deadline = time.monotonic() + 5
        while len(fake.socket_acks) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert fake.socket_acks[:3] == ["env-1", "env-2", "env-3"]
        assert adapter.port is None  # no HTTP listener in Socket Mode
        await fake.push("events_api", envelope(dm("help"), "EvS4"), "env-4")  # a sentinel after the redelivery
        assert "todo" in (await fake.wait_for("chat.postMessage", 3))[-1].body["text"]  # the help answer
        assert len(fake.sent("chat.postMessage")) == 3
        with session_scope(app.engine) as session:
            assert len(session.exec(select(Interaction)).all()) == 1  # the redelivered envelope added nothing
    finally:
        await adapter.stop()
        await app.stop()
        app.engine.dispose()
