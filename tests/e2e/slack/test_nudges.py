"""Nudges delivered through the real slack-bolt / slack-sdk to the fake Web API, with a controllable clock.

Asserts the exact chat.postMessage requests: once, with Block Kit buttons; a 429 waits Retry-After,
a 5xx is retried with backoff, a timeout is never resent, a gone channel pauses the member. Done
pressed on the delivered nudge (block_actions) closes it, once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlmodel import func, select

from bot.bootstrap import build
from bot.i18n import t
from bot.notifier import create_scheduler, nudge_buttons
from bot.platforms import slack_adapter
from core.db import session_scope
from core.models import AuditEvent, FollowUp, Member
from core.services import customers, followups
from core.services.actor import Actor
from tests.e2e.slack.conftest import slack_settings
from tests.fakes.slack_api import block_action, dm, event, interactive

THU_15 = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)  # Thursday 15:00 in Taipei


@pytest.fixture
async def bot(fake, tmp_path, clock):
    """(app, scheduler, adapter, events URL) with the fake clock; the scheduler is run by hand."""
    app = build(slack_settings(fake, tmp_path), clock=clock)
    adapter = slack_adapter(app)
    app.attach(adapter)
    await app.start(with_scheduler=False)
    await adapter.start()
    url = f"http://127.0.0.1:{adapter.port}/slack/events"
    scheduler = create_scheduler(app.engine, app.settings, app.messengers, clock)
    assert (await event(url, dm("start")))[0] == 200
    await fake.wait_for("chat.postMessage")
    yield app, scheduler, adapter, url
    await scheduler.stop()
    await adapter.stop()
    await app.stop()
    app.engine.dispose()


def promise(app, due: datetime, action: str = "send the price list") -> int:
    with session_scope(app.engine) as session:
        actor = Actor.of(session.exec(select(Member)).one())
        customer = customers.create_customer(session, actor, "Globex")
        return followups.schedule(session, actor, due_at=due, action=action, customer_id=customer.id,
                                  explicit_time=True).id


def follow_up(app, follow_up_id: int) -> FollowUp:
    with session_scope(app.engine) as session:
        return session.get(FollowUp, follow_up_id)


def posts(fake, action: str) -> list:
    return [c for c in fake.sent("chat.postMessage") if action in c.body.get("text", "")]


def buttons(call) -> list[list[tuple[str, str]]]:
    return [[(e["text"]["text"], e["value"]) for e in block["elements"]]
            for block in call.body["blocks"] if block["type"] == "actions"]


async def test_a_nudge_arrives_once_with_block_kit_buttons_and_done_closes_it_once(fake, bot, clock):
    app, scheduler, _, url = bot
    await event(url, dm("Visited Acme, Mr. Lee wants a quote for 100 units, follow up tomorrow 3pm"))
    await fake.wait_for("chat.postMessage", 2)
    with session_scope(app.engine) as session:
        fid, due = session.exec(select(FollowUp.id, FollowUp.due_at)).one()
    assert due == THU_15
    before = len(fake.calls)
    clock.current = THU_15 - timedelta(seconds=1)
    assert await scheduler.dispatch() == 0
    clock.current = THU_15
    assert await scheduler.dispatch() == 1
    clock.advance(hours=2)
    assert await scheduler.dispatch() == 0
    [nudge] = [c for c in fake.calls[before:] if c.method == "chat.postMessage"]
    assert nudge.body["channel"] == "DU1"
    assert "Acme" in nudge.body["text"] and "quote" in nudge.body["text"] and "<b>" not in nudge.body["text"]
    section = nudge.body["blocks"][0]
    assert section["type"] == "section" and "*Acme*" in section["text"]["text"]
    row = follow_up(app, fid)
    assert buttons(nudge) == [[(b.label, b.payload) for b in line] for line in nudge_buttons("en", row)]
    assert [label for line in buttons(nudge) for label, _ in line] == [
        t("en", f"nudges.{key}") for key in ("btn_done", "btn_1h", "btn_tomorrow", "btn_next_week", "btn_reschedule",
                                             "btn_open")]
    assert row.status == "sent" and row.message_ref == "slack:DU1" and row.message_id

    done = buttons(nudge)[0][0][1]
    press = block_action(done, channel="DU1", message_ts=row.message_id)
    assert (await interactive(url, press))[0] == 200
    [update] = await fake.wait_for("chat.update")
    assert update.body["ts"] == row.message_id and update.body["channel"] == "DU1" and "Done" in update.body["text"]
    closed = follow_up(app, fid)
    assert closed.status == "done"
    assert (await interactive(url, block_action(done, channel="DU1", message_ts=row.message_id)))[0] == 200
    await fake.wait_for("chat.update", 2)
    assert follow_up(app, fid).done_at == closed.done_at
    with session_scope(app.engine) as session:
        assert session.exec(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity_id == fid, AuditEvent.action == "done")).one() == 1
    assert len([c for c in fake.calls[before:] if c.method == "chat.postMessage"]) == 1


async def test_a_429_waits_retry_after_then_the_nudge_is_posted_once(fake, bot, clock):
    app, scheduler, _, _ = bot
    fid = promise(app, clock.current)
    fake.fail("chat.postMessage", retry_after=1)
    assert await scheduler.dispatch() == 1
    refused, accepted = posts(fake, "price list")
    assert (refused.status, accepted.status) == (429, 200)
    assert accepted.at - refused.at >= 1.0
    assert follow_up(app, fid).status == "sent"
    clock.advance(hours=1)
    await scheduler.dispatch()
    assert len([c for c in posts(fake, "price list") if c.status == 200]) == 1


async def test_a_5xx_is_retried_with_backoff_and_posted_once(fake, bot, clock):
    app, scheduler, _, _ = bot
    fid = promise(app, clock.current)
    fake.fail("chat.postMessage", status=503)
    assert await scheduler.dispatch() == 0
    row = follow_up(app, fid)
    assert row.status == "pending" and row.attempts == 1 and row.next_attempt_at == clock.current + timedelta(seconds=30)
    clock.advance(seconds=30)
    assert await scheduler.dispatch() == 1
    assert [c.status for c in posts(fake, "price list")] == [503, 200]


async def test_a_timeout_is_not_resent_and_is_reported_as_maybe_not_arrived(fake, bot, clock):
    app, scheduler, adapter, _ = bot
    adapter.client.timeout = 1  # the Web API client gives up after 1 s; the fake answers (and posts) after 2 s
    fid = promise(app, clock.current)
    fake.slow("chat.postMessage", 2.0)
    assert await scheduler.dispatch() == 0
    clock.advance(hours=8)
    assert await scheduler.dispatch() == 0
    assert len(posts(fake, "price list")) == 1
    row = follow_up(app, fid)
    assert row.status == "sent" and row.message_id is None and "may not have arrived" in row.last_error


@pytest.mark.parametrize("error", ["channel_not_found", "account_inactive"])
async def test_a_gone_channel_marks_the_member_unreachable_until_they_write_again(fake, bot, clock, error):
    app, scheduler, _, url = bot
    fid = promise(app, clock.current)
    fake.fail("chat.postMessage", error=error)
    await scheduler.dispatch()
    with session_scope(app.engine) as session:
        assert session.exec(select(Member.unreachable_since)).one() == clock.current
    assert follow_up(app, fid).status == "pending"
    tried = len(fake.sent("chat.postMessage"))
    clock.advance(days=1)
    assert await scheduler.dispatch() == 0 and len(fake.sent("chat.postMessage")) == tried
    await event(url, dm("hello again"))
    await fake.wait_for("chat.postMessage", tried + 1)
    assert await scheduler.dispatch() == 1
    assert len(posts(fake, "price list")) == 2  # the refused one, then the one delivered after they came back
    assert follow_up(app, fid).status == "sent" and follow_up(app, fid).message_id


async def test_several_nudges_for_one_channel_keep_slacks_limit(fake, bot, clock):
    app, scheduler, _, _ = bot
    fake.enforce_limits = True  # 1 message per second per channel, 429 beyond
    ids = [promise(app, clock.current - timedelta(minutes=m), action=f"call {m}") for m in (3, 2, 1)]
    assert await scheduler.dispatch() == 3
    sent = [c for c in fake.sent("chat.postMessage") if "call " in c.body.get("text", "")]
    assert fake.rate_limited == 0 and [c.status for c in sent] == [200, 200, 200]
    assert [c.body["text"].split("call ")[1][0] for c in sent] == ["3", "2", "1"]
    assert all(later.at - earlier.at >= 1.0 for earlier, later in pairwise(sent))
    assert all(follow_up(app, i).status == "sent" for i in ids)
