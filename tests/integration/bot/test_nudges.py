"""Nudges rendered by the bot, sent through a Messenger, and answered with Done/Snooze/Reschedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.notifier import create_scheduler
from core.db import session_scope
from core.models import Customer, Deal, FollowUp, Notice


def scheduler_for(app, settings):
    return create_scheduler(app.engine, settings, app.messengers, app.clock, pacer=None)


async def test_nudge_arrives_once_with_buttons_and_done_twice_does_nothing(app, owner, clock, settings, engine):
    await owner.say("Visited Acme, Mr. Lee wants a quote for 100 units, follow up tomorrow 3pm")
    scheduler = scheduler_for(app, settings)
    messenger = app.messengers["test"]
    assert await scheduler.dispatch() == 0
    clock.current = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)  # Thu 15:00 Taipei
    assert await scheduler.dispatch() == 1
    assert await scheduler.dispatch() == 0
    chat, nudge = messenger.sent[-1]
    assert chat.chat_id == "dm-owner"
    assert "Acme" in nudge.text and "quote" in nudge.text and "Visited Acme" in nudge.text
    labels = [b.label for row in nudge.buttons for b in row]
    assert labels == ["✅ Done", "⏰ 1 hour", "🌅 Tomorrow", "📅 Next week", "✏️ Reschedule", "🏢 Open customer"]
    first = await owner.press("Done", nudge)
    second = await owner.press("Done", nudge)
    assert "Done" in first[0].text and first[0].edit
    assert "already closed" in second[0].text
    with session_scope(engine) as session:
        assert session.exec(select(FollowUp.status)).one() == "done"


async def test_snooze_and_typed_reschedule_from_the_nudge(app, owner, clock, settings, engine):
    await owner.say("Called Globex, send price list today")
    scheduler = scheduler_for(app, settings)
    await scheduler.dispatch()
    nudge = app.messengers["test"].sent[-1][1]
    replies = await owner.press("1 hour", nudge)
    assert "remind you again" in replies[0].text
    again = await owner.press("1 hour", nudge)
    assert "remind you again" in again[0].text
    await owner.press("Reschedule", nudge)
    replies = await owner.say("next friday 4pm")
    assert "Moved to" in replies[0].text and "16:00" in replies[0].text
    with session_scope(engine) as session:
        row = session.exec(select(FollowUp)).one()
        assert row.due_at == datetime(2026, 11, 27, 8, 0, tzinfo=UTC) and row.status == "snoozed"


async def test_status_lists_pending_overdue_and_undeliverable(app, owner, clock, engine):
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    clock.advance(days=2)
    with session_scope(engine) as session:
        row = session.exec(select(FollowUp)).one()
        row.last_error = "Forbidden: bot was blocked by the user"
        session.add(row)
    replies = await owner.say("/status")
    assert "Pending: 1" in replies[0].text and "Overdue: 1" in replies[0].text
    assert "Could not be delivered: 1" in replies[0].text and "blocked" in replies[0].text
    assert "Acme" in replies[1].text  # the overdue nudge itself, with its buttons
    assert replies[1].buttons


async def test_morning_digest_once_and_skipped_when_empty(app, owner, clock, settings, engine):
    scheduler = scheduler_for(app, settings)
    messenger = app.messengers["test"]
    clock.current = datetime(2026, 11, 18, 0, 35, tzinfo=UTC)  # Wed 08:35 Taipei
    assert await scheduler.send_notices() == 0  # nothing due: no digest
    await owner.say("Visited Acme, wants a quote, follow up today 5pm")
    clock.current = datetime(2026, 11, 19, 0, 31, tzinfo=UTC)  # Thu 08:31, the 17:00 one is overdue
    assert await scheduler.send_notices() == 1
    assert await scheduler.send_notices() == 0
    digest = messenger.sent[-1][1].text
    assert "Good morning" in digest and "Acme" in digest
    with session_scope(engine) as session:
        notices = {n.key: n.status for n in session.exec(select(Notice))}
        assert notices == {"digest:2026-11-18": "skipped", "digest:2026-11-19": "sent"}
    assert sum("Good morning" in reply.text for _, reply in messenger.sent) == 1


async def test_silent_important_customer_alerts_its_owner_once(app, owner, clock, settings, engine):
    await owner.say("/new Acme")
    with session_scope(engine) as session:
        acme = session.exec(select(Customer)).one()
        acme.important = True
        acme.last_interaction_at = clock.now() - timedelta(days=31)
        session.add(acme)
        session.add(Deal(team_id=acme.team_id, customer_id=acme.id, title="renewal"))
    scheduler = scheduler_for(app, settings)
    await scheduler.send_notices()
    await scheduler.send_notices()
    alerts = [reply for _, reply in app.messengers["test"].sent if "quiet" in reply.text]
    assert len(alerts) == 1 and "31 days" in alerts[0].text
