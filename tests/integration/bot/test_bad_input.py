"""Bad input gets a short polite answer, nothing half-written, and the bot keeps serving."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import func, select

from core.db import session_scope
from core.models import Customer, Interaction


def rows(engine, model) -> int:
    with session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
async def test_empty_messages_are_answered(owner, engine, text):
    replies = await owner.say(text)
    assert "empty" in replies[0].text
    assert rows(engine, Interaction) == 0


async def test_over_long_message_is_refused_whole(owner, engine):
    replies = await owner.say("Acme " * 1000)
    assert "over 4096 characters" in replies[0].text
    assert rows(engine, Interaction) == 0


@pytest.mark.parametrize("text", ["😀😀😀", "asdkjh qwe", "\x00\x01\x02\ufffd\ufffd", "!!!???"])
async def test_nonsense_is_not_logged_and_the_bot_asks(owner, engine, text):
    replies = await owner.say(text)
    assert "What should I log" in replies[0].text
    assert rows(engine, Interaction) == 0


async def test_unknown_command_unknown_customer_and_stale_button(owner):
    assert "/help" in (await owner.say("/frobnicate"))[0].text
    assert "don't know a customer" in (await owner.say("/c Nobody Inc"))[0].text
    from core.chat import ButtonIn

    replies = await owner.send(ButtonIn(owner.envelope(), "zz:what:1", callback_id="c1"))
    assert "expired" in replies[0].text
    replies = await owner.send(ButtonIn(owner.envelope(), "n:ud:99999", callback_id="c2"))
    assert "can't find" in replies[0].text


async def test_database_failure_is_answered_and_nothing_is_half_written(owner, engine, monkeypatch):
    from core.services import interactions

    def broken(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(interactions, "log_interaction", broken)
    replies = await owner.say("Visited Acme, wants a quote, follow up Friday")
    assert "nothing was saved" in replies[0].text
    assert rows(engine, Interaction) == 0 and rows(engine, Customer) == 0  # the new customer rolled back
    monkeypatch.undo()
    replies = await owner.say("Visited Acme, wants a quote, follow up Friday")
    assert "Logged" in replies[0].text


async def test_an_unexpected_error_is_answered_and_the_bot_keeps_serving(owner, monkeypatch):
    from bot.handlers import customers

    monkeypatch.setattr(customers, "search_notes", lambda *a, **k: 1 / 0)
    assert "Sorry" in (await owner.say("/find quote"))[0].text
    assert "Nothing to follow up" in (await owner.say("/todo"))[0].text
