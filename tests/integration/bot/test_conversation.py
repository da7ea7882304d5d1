"""The bot layer as a dialogue (Incoming in, Reply out) on real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlmodel import col, func, select

from core.db import session_scope
from core.models import ChatIdentity, Contact, Customer, CustomerAlias, FollowUp, Interaction, Member, Team
from tests.conversation import Chat


async def settled(timeout: float = 10.0) -> None:
    """Wait until every task the bot started in the background (a forward summary timer) has finished."""
    others = asyncio.all_tasks() - {asyncio.current_task()}
    if others:
        _, pending = await asyncio.wait(others, timeout=timeout)
        assert not pending, f"still running after {timeout} s: {pending}"


def count(engine, model, *where) -> int:
    with session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


async def test_first_user_founds_the_team_and_a_stranger_is_refused_with_nothing_stored(app, engine):
    amy = Chat(app, "1", "Amy", "en")
    replies = await amy.say("/start")
    assert "You created the team" in replies[0].text
    stranger = Chat(app, "2", "Zed", "en")
    replies = await stranger.say("/start")
    assert "invite code" in replies[0].text
    replies = await stranger.say("Visited Acme, wants a quote")
    assert "invite code" in replies[0].text
    assert count(engine, Member) == 1 and count(engine, ChatIdentity) == 1 and count(engine, Interaction) == 0


async def test_invite_code_joins_in_the_members_language(app, engine, owner, sales):
    assert "已加入" in sales.text
    bad = Chat(app, "9", "Bad", "en")
    assert "unknown, used or expired" in (await bad.say("/start WRONG123"))[0].text
    assert count(engine, Member) == 2 and count(engine, Team) == 1


async def test_a_note_is_logged_with_customer_contact_and_follow_up(app, engine, clock, sales):
    replies = await sales.say("拜訪大同五金行王總,他要A100一百件的報價,下週三前回覆")
    text = replies[0].text
    assert "大同五金行" in text and "王總" in text and "拜訪" in text
    assert "11月25日(週三) 09:00" in text
    with session_scope(engine) as session:
        interaction = session.exec(select(Interaction)).one()
        assert interaction.kind == "visit"
        assert {"value": 100, "unit": "件"} in interaction.amounts or interaction.amounts[0]["value"] == 100
        follow_up = session.exec(select(FollowUp)).one()
        assert follow_up.due_at == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 09:00 Taipei, stored UTC
        contact = session.exec(select(Contact)).one()
        assert contact.name == "王總"


async def test_buttons_change_date_remove_follow_up_and_undo_idempotently(app, engine, owner):
    await owner.say("Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday")
    card = owner.last[0]
    replies = await owner.press("Change date", card)
    replies = await owner.press("Tomorrow", replies[0])
    assert replies[0].edit and "Tomorrow 09:00" in replies[0].text
    replies = await owner.press("No follow-up", replies[0])
    assert "Next:" not in replies[0].text
    assert count(engine, FollowUp, FollowUp.status == "cancelled") == 1
    await owner.press("Undo", card)
    again = await owner.press("Undo", card)
    assert "already undone" in again[0].text
    assert count(engine, Interaction, col(Interaction.deleted_at).is_not(None)) == 1


async def test_ambiguous_customer_is_asked_and_the_choice_becomes_an_alias(app, engine, owner):
    await owner.say("/new 大同五金")
    await owner.say("/new 大同電子")
    replies = await owner.say("打給大同,確認交期")
    assert "Which customer" in replies[0].text
    assert count(engine, Interaction, col(Interaction.customer_id).is_(None)) == 1
    replies = await owner.press("大同電子", replies[0])
    assert "大同電子" in replies[0].text and "Logged" in replies[0].text
    with session_scope(engine) as session:
        customer = session.exec(select(Customer).where(Customer.name == "大同電子")).one()
        assert session.exec(select(Interaction)).one().customer_id == customer.id
        aliases = session.exec(select(CustomerAlias.alias).where(CustomerAlias.customer_id == customer.id)).all()
        assert "大同" in aliases


async def test_type_a_date_is_understood_and_garbage_is_asked_again(app, engine, owner):
    await owner.say("Visited Acme, Mr. Lee wants a quote, follow up Friday")
    replies = await owner.press("Change date", owner.last[0])
    replies = await owner.press("Type a date", replies[0])
    assert "When should I remind you" in replies[0].text
    assert "couldn't read" in (await owner.say("blah blah"))[0].text
    replies = await owner.say("tomorrow 3pm")
    assert "Tomorrow 15:00" in replies[0].text


async def test_customer_card_search_todo_and_done(app, engine, owner):
    await owner.say("Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday")
    card = (await owner.say("/c acme"))[0].text
    assert "Acme" in card and "Mr. Lee" in card and "1 interaction" in card and "1 interactions" not in card
    found = (await owner.say("/find quote"))[0].text
    assert "Acme" in found
    todo = (await owner.say("/todo"))[0]
    assert "Acme" in todo.text and todo.buttons
    assert "Done" in (await owner.say("/done 1"))[0].text
    assert "Nothing to follow up" in (await owner.say("/todo"))[0].text


async def test_language_switch_changes_replies(app, owner):
    replies = await owner.say("/lang")
    replies = await owner.press("简体中文", replies[0])
    assert "语言已设置" in replies[0].text
    assert "待办" in (await owner.say("/help"))[0].text or "笔记" in owner.text


async def test_redelivered_update_creates_nothing_twice(app, engine, owner):
    first = await owner.say("Called Acme about the invoice", update_id="777")
    second = await owner.say("Called Acme about the invoice", update_id="777")
    assert first and second == []
    assert count(engine, Interaction) == 1


async def test_forwarded_burst_becomes_one_conversation_on_the_contacts_customer(app, engine, owner, clock):
    from core.chat import ForwardOrigin

    await owner.say("Visited Acme, Mr. Lee wants a quote")
    origin = ForwardOrigin("user", "Mr. Lee", "5005", clock.now())
    await owner.forward("Can you send the price list?", origin)
    await owner.forward("And delivery by Dec 3", origin)
    await settled()  # the burst's summary timer has fired (restarted by the second message, never doubled)
    with session_scope(engine) as session:
        forwarded = session.exec(select(Interaction).where(Interaction.kind == "forwarded")).all()
        assert len(forwarded) == 1
        acme = session.exec(select(Customer).where(Customer.name == "Acme")).one()
        assert forwarded[0].customer_id == acme.id
        assert "price list" in forwarded[0].text and "Dec 3" in forwarded[0].text
    messenger = app.messengers["test"]
    assert len(messenger.sent) == 1 and "2 forwarded" in messenger.sent[0][1].text
