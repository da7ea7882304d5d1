"""Nudges delivered through the real python-telegram-bot to the fake Bot API, with a controllable clock.

Each test runs the real bot app, creates a follow-up, moves the clock and runs the dispatcher, then
asserts the exact sendMessage requests the fake received: once, with the buttons, and what happens on
429, 5xx, a timeout and a blocked bot. Done pressed from the delivered nudge closes it, once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlmodel import func, select

from adapters.telegram import TelegramAdapter
from bot.bootstrap import build
from bot.i18n import t
from bot.notifier import create_scheduler, nudge_buttons
from bot.platforms import command_menu
from core.db import session_scope
from core.models import AuditEvent, FollowUp, Member
from core.services import customers, followups
from core.services.actor import Actor
from tests.e2e.telegram.conftest import telegram_settings
from tests.fakes.telegram_api import Fault, callback, message

THU_15 = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)  # Thursday 15:00 in Taipei


@pytest.fixture
async def bot(fake, tmp_path, clock):
    """(app, scheduler): the bot on long polling with the fake clock; the scheduler is run by hand."""
    settings = telegram_settings(fake, tmp_path)
    app = build(settings, clock=clock)
    adapter = TelegramAdapter(settings, app.handle, commands=command_menu())
    app.attach(adapter)
    await app.start(with_scheduler=False)
    await adapter.start()
    scheduler = create_scheduler(app.engine, settings, app.messengers, clock)
    fake.inject(message("/start"))
    await fake.wait_for("sendMessage")
    yield app, scheduler
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


def nudges(fake, action: str) -> list:
    """sendMessage requests carrying this nudge, whatever the fake answered."""
    return [c for c in fake.sent("sendMessage") if action in c.body.get("text", "")]


def delivered(fake, action: str) -> list:
    return [c for c in nudges(fake, action) if c.status == 200]


async def test_a_nudge_arrives_once_with_its_buttons_and_done_closes_it_once(fake, bot, clock):
    app, scheduler = bot
    fake.inject(message("Visited Acme, Mr. Lee wants a quote for 100 units, follow up tomorrow 3pm"))
    await fake.wait_for("sendMessage", 2)
    with session_scope(app.engine) as session:
        fid, due = session.exec(select(FollowUp.id, FollowUp.due_at)).one()
    assert due == THU_15
    before = len(fake.calls)
    assert await scheduler.dispatch() == 0
    clock.current = THU_15 - timedelta(seconds=1)
    assert await scheduler.dispatch() == 0
    clock.current = THU_15
    assert await scheduler.dispatch() == 1
    clock.advance(hours=1)
    assert await scheduler.dispatch() == 0
    [nudge] = [c for c in fake.calls[before:] if c.method == "sendMessage"]
    body = nudge.body
    assert body["chat_id"] == "42" and body["parse_mode"] == "HTML"
    assert "<b>Acme</b>" in body["text"] and "quote" in body["text"]
    assert "Visited Acme" in body["text"]  # the last interaction, in one line
    row = follow_up(app, fid)
    expected = [[(b.label, b.payload) for b in line] for line in nudge_buttons("en", row)]
    keyboard = [[(b["text"], b["callback_data"]) for b in line] for line in body["reply_markup"]["inline_keyboard"]]
    assert keyboard == expected
    labels = [label for line in keyboard for label, _ in line]
    assert labels == [t("en", f"nudges.{key}") for key in ("btn_done", "btn_1h", "btn_tomorrow", "btn_next_week",
                                                           "btn_reschedule", "btn_open")]
    assert all(len(data.encode()) <= 64 for line in keyboard for _, data in line)
    message_id = int(nudge.body.get("message_id") or 0) or int(row.message_id)
    assert row.status == "sent" and row.message_ref == "telegram:42" and not row.sent_late

    done = keyboard[0][0][1]
    assert done.startswith(f"fu:done:{fid}")
    fake.inject(callback(done, message_id=message_id))
    [edit] = await fake.wait_for("editMessageText")
    assert edit.body["message_id"] == str(message_id) and edit.body["chat_id"] == "42"
    assert "Done" in edit.body["text"]
    closed = follow_up(app, fid)
    assert closed.status == "done" and closed.done_at is not None
    fake.inject(callback(done, message_id=message_id))
    await fake.wait_for("answerCallbackQuery", 2)
    await fake.wait_for("editMessageText", 2)
    assert follow_up(app, fid).done_at == closed.done_at
    with session_scope(app.engine) as session:
        assert session.exec(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity_id == fid, AuditEvent.action == "done")).one() == 1
    assert len([c for c in fake.calls[before:] if c.method == "sendMessage"]) == 1


async def test_a_429_puts_the_nudge_back_for_retry_after_then_it_is_delivered_once(fake, bot, clock):
    """One policy: the client does not retry by itself (AIORateLimiter max_retries=0); the dispatcher holds the
    nudge for the platform's retry_after, without counting an attempt, and sends it once afterwards."""
    app, scheduler = bot
    fid = promise(app, clock.current)
    fake.fail("sendMessage", Fault(429, "Too Many Requests: retry after 1", retry_after=1))
    assert await scheduler.dispatch() == 0
    row = follow_up(app, fid)
    assert row.status == "pending" and row.attempts == 0 and row.next_attempt_at == clock.current + timedelta(seconds=1)
    clock.advance(seconds=1)
    assert await scheduler.dispatch() == 1
    assert [c.status for c in nudges(fake, "price list")] == [429, 200]
    assert follow_up(app, fid).status == "sent" and follow_up(app, fid).message_id
    clock.advance(hours=1)
    await scheduler.dispatch()
    assert len(delivered(fake, "price list")) == 1


async def test_repeated_429s_stop_and_retry_later_without_a_storm(fake, bot, clock):
    app, scheduler = bot
    fid = promise(app, clock.current)
    fake.fail("sendMessage", Fault(429, "Too Many Requests: retry after 1", retry_after=1, times=3))
    for tried in range(1, 4):
        assert await scheduler.dispatch() == 0
        assert [c.status for c in nudges(fake, "price list")] == [429] * tried  # one request per due time
        row = follow_up(app, fid)
        assert row.status == "pending" and row.attempts == 0
        assert row.next_attempt_at == clock.current + timedelta(seconds=1)
        assert await scheduler.dispatch() == 0 and len(nudges(fake, "price list")) == tried  # not due yet
        clock.advance(seconds=1)
    assert await scheduler.dispatch() == 1
    assert [c.status for c in nudges(fake, "price list")] == [429, 429, 429, 200]


async def test_a_5xx_is_retried_with_backoff_and_delivered_once(fake, bot, clock):
    app, scheduler = bot
    fid = promise(app, clock.current)
    fake.fail("sendMessage", Fault(500, "Internal Server Error"))
    assert await scheduler.dispatch() == 0
    row = follow_up(app, fid)
    assert row.status == "pending" and row.attempts == 1 and "Internal Server Error" in row.last_error
    assert row.next_attempt_at == clock.current + timedelta(seconds=30)
    clock.advance(seconds=29)
    assert await scheduler.dispatch() == 0
    clock.advance(seconds=1)
    assert await scheduler.dispatch() == 1
    assert [c.status for c in nudges(fake, "price list")] == [500, 200]
    assert follow_up(app, fid).status == "sent" and follow_up(app, fid).message_id


async def test_a_timeout_is_not_resent_and_is_reported_as_maybe_not_arrived(fake, bot, clock):
    """The fake accepts the message but answers after the client's 5 s read timeout: it did arrive."""
    app, scheduler = bot
    fid = promise(app, clock.current)
    fake.fail("sendMessage", Fault(200, "", delay=6.0))
    assert await scheduler.dispatch() == 0
    clock.advance(hours=8)
    assert await scheduler.dispatch() == 0
    assert len(nudges(fake, "price list")) == 1  # one request: never a duplicate
    row = follow_up(app, fid)
    assert row.status == "sent" and row.message_id is None and "may not have arrived" in row.last_error


@pytest.mark.parametrize("fault", [Fault(403, "Forbidden: bot was blocked by the user"),
                                   Fault(400, "Bad Request: chat not found")])
async def test_blocked_or_gone_marks_the_member_unreachable_until_they_write_again(fake, bot, clock, fault):
    app, scheduler = bot
    first = promise(app, clock.current)
    second = promise(app, clock.current, action="call back about the invoice")
    fake.fail("sendMessage", fault)
    await scheduler.dispatch()
    with session_scope(app.engine) as session:
        assert session.exec(select(Member.unreachable_since)).one() == clock.current
    assert follow_up(app, first).status == follow_up(app, second).status == "pending"
    tried = len(fake.sent("sendMessage"))
    clock.advance(days=1)
    assert await scheduler.dispatch() == 0
    assert len(fake.sent("sendMessage")) == tried  # no more attempts
    fake.inject(message("hello again"))
    await fake.wait_for("sendMessage", tried + 1)
    assert await scheduler.dispatch() == 2
    assert len(delivered(fake, "price list")) == len(delivered(fake, "invoice")) == 1


async def test_several_nudges_for_one_chat_keep_telegrams_real_limits(fake, bot, clock):
    app, scheduler = bot
    fake.enforce_limits = True  # 30/s overall, 1/s per chat, 429 beyond
    ids = [promise(app, clock.current - timedelta(minutes=m), action=f"call {m}") for m in (3, 2, 1)]
    assert await scheduler.dispatch() == 3
    sent = [c for c in fake.sent("sendMessage") if "call " in c.body.get("text", "")]
    assert fake.rate_limited == 0 and [c.status for c in sent] == [200, 200, 200]
    assert [c.body["text"].split("call ")[1][0] for c in sent] == ["3", "2", "1"]  # oldest first
    assert all(later.at - earlier.at >= 1.0 for earlier, later in pairwise(sent))
    assert all(follow_up(app, i).sent_late is False and follow_up(app, i).message_id for i in ids)
