"""A reply refused with a 5xx, rate limited or timed out is tried again as core.delivery's `replies` policy says;
one that still cannot be delivered is handed to the undelivered handler with the update it answered (the note
itself is stored). Faults are injected in the fake Web API; the real slack-bolt app serves the events."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from sqlmodel import func, select

from core.chat import TextIn
from core.db import session_scope
from core.delivery import POLICY, classify
from core.models import Interaction
from core.ports import DeliveryError, DeliveryUncertain
from tests.e2e.slack.conftest import slack_settings, start_bot
from tests.fakes.slack_api import dm, event


def tries_for(error: Exception) -> int:
    """How many times the reply policy sends a reply that keeps failing with `error`."""
    tried = 1
    while POLICY.replies.wait_before(classify(error), tried) is not None:
        tried += 1
    return tried


SERVER_ERROR = DeliveryError("HTTP 500")
RETRIES_5XX = tries_for(SERVER_ERROR) > 1


class Lost:
    """Records what the adapter could not deliver, then passes it on to the app's handler."""

    def __init__(self, app) -> None:
        self.app, self.calls = app, []
        self.done = asyncio.Event()

    async def __call__(self, incoming, replies) -> None:
        self.calls.append((incoming, list(replies)))
        await self.app.undelivered(incoming, replies)
        self.done.set()


@pytest.fixture
async def bot(fake, tmp_path):
    """(app, events URL, adapter, Lost) of a Slack bot whose owner has started."""
    app, adapter = await start_bot(slack_settings(fake, tmp_path))
    lost = Lost(app)
    adapter.undelivered = lost
    url = f"http://127.0.0.1:{adapter.port}/slack/events"
    await event(url, dm("start"))
    await fake.wait_for("chat.postMessage")
    yield app, url, adapter, lost
    await adapter.stop()
    await app.stop()
    app.engine.dispose()


def notes(app) -> int:
    with session_scope(app.engine) as session:
        return session.exec(select(func.count()).select_from(Interaction)).one()


@pytest.mark.xfail(not RETRIES_5XX, strict=True, reason="core.delivery's replies policy does not retry a 5xx yet")
async def test_a_reply_refused_with_a_5xx_is_sent_again(fake, bot):
    app, url, _, lost = bot
    fake.fail("chat.postMessage", status=503)
    await event(url, dm("Visited Globex, they want 20 units, follow up Monday"))
    retried = asyncio.ensure_future(fake.wait_for("chat.postMessage", 3, timeout=60))
    given_up = asyncio.ensure_future(lost.done.wait())
    await asyncio.wait({retried, given_up}, return_when=asyncio.FIRST_COMPLETED)
    retried.cancel(), given_up.cancel()
    calls = fake.sent("chat.postMessage")
    assert [call.status for call in calls[1:]] == [503, 200]
    assert calls[1].body == calls[2].body and "Globex" in calls[2].body["text"]
    assert lost.calls == [] and notes(app) == 1


async def test_a_reply_that_keeps_failing_is_handed_over_as_undelivered(fake, bot):
    app, url, _, lost = bot
    for _ in range(tries_for(SERVER_ERROR)):
        fake.fail("chat.postMessage", status=500)
    await event(url, dm("拜訪大同五金王總,要A100一百件報價,下週三前回覆"))
    await asyncio.wait_for(lost.done.wait(), 60)
    [(incoming, replies)] = lost.calls
    assert isinstance(incoming, TextIn) and incoming.text.startswith("拜訪大同五金")
    assert len(replies) == 1 and "大同五金" in replies[0].text
    assert [call.status for call in fake.sent("chat.postMessage")[1:]] == [500] * tries_for(SERVER_ERROR)
    assert notes(app) == 1  # the note is stored; only its confirmation was lost


async def test_a_reply_that_times_out_is_not_lost_silently(fake, bot):
    app, url, adapter, lost = bot
    adapter.client.timeout = 1
    for _ in range(tries_for(DeliveryUncertain("timeout"))):
        fake.slow("chat.postMessage", 3)
    await event(url, dm("Called Initech about the renewal"))
    await asyncio.wait_for(lost.done.wait(), 60)
    [(incoming, replies)] = lost.calls
    assert incoming.text == "Called Initech about the renewal" and "Initech" in replies[0].text
    assert len(fake.sent("chat.postMessage")) == 1 + tries_for(DeliveryUncertain("timeout"))
    assert notes(app) == 1


async def test_rate_limits_beyond_the_sdks_own_retries_wait_out_retry_after_and_deliver(fake, bot):
    app, url, _, lost = bot
    for _ in range(3):  # the SDK retries a 429 twice itself; the third is the reply policy's to wait out
        fake.fail("chat.postMessage", retry_after=1)
    await event(url, dm("Visited Hooli, demo went well"))
    calls = (await fake.wait_for("chat.postMessage", 5, timeout=30))[1:]
    assert [call.status for call in calls] == [429, 429, 429, 200] and "Hooli" in calls[-1].body["text"]
    assert all(later.at - earlier.at >= 0.99 for earlier, later in itertools.pairwise(calls))
    await event(url, dm("help"))  # a sentinel
    await fake.wait_for("chat.postMessage", 6)
    assert lost.calls == [] and notes(app) == 1
