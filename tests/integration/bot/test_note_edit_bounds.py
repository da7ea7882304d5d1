"""Editing a logged note's chat message into empty or over-long text: a polite answer saying what to do, and the
note, its follow-up and the audit trail stay exactly as they were. An edit of a message that logged nothing
stays ignored."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.bootstrap import build
from bot.i18n import t
from core.chat import EditedIn
from core.db import session_scope
from core.models import AuditEvent, FollowUp, Interaction
from core.settings import load_settings
from core.usecases.note_edits import MAX_NOTE_CHARS
from tests.conversation import Chat, RecordingMessenger


def state(engine) -> tuple:
    """Everything an edit could change: the note, its follow-up and the audit trail."""
    with session_scope(engine) as session:
        notes = [(n.id, n.text, n.search_text, n.amounts, n.kind, n.deleted_at) for n in session.exec(select(Interaction))]
        follow_ups = [(f.id, f.action, f.due_at, f.status) for f in session.exec(select(FollowUp))]
        audit = len(session.exec(select(AuditEvent)).all())
    return notes, follow_ups, audit


async def edit(chat: Chat, message_id: str, text: str):
    return await chat.send(EditedIn(chat.envelope(message_id=message_id), text))


@pytest.mark.parametrize("emptied", ["", "   \n "])
async def test_an_emptied_message_keeps_its_note_and_offers_delete(app, engine, owner, emptied):
    await owner.say("Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday", message_id="501")
    before = state(engine)
    [reply] = await edit(owner, "501", emptied)
    assert reply.text == t("en", "note_edits.edit_emptied")
    [[delete]] = reply.buttons
    assert delete.label == t("en", "note_edits.btn_delete") and delete.payload.startswith("n:dl:")
    assert state(engine) == before
    [deleted] = await owner.press("Delete", reply)
    assert "deleted" in deleted.text.lower()
    with session_scope(engine) as session:
        assert session.exec(select(Interaction)).one().deleted_at is not None
    assert await edit(owner, "501", "") == []  # a deleted note: nothing left to say


async def test_an_over_long_edit_keeps_the_note_and_says_the_limit(app, engine, owner):
    await owner.say("Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday", message_id="501")
    before = state(engine)
    [reply] = await edit(owner, "501", "Visited Acme " + "and talked " * 400)
    assert reply.text == t("en", "note_edits.edit_too_long", n=4096) and "4096 characters" in reply.text
    assert reply.buttons == ()
    assert state(engine) == before
    [updated] = await edit(owner, "501", "Visited Acme, Mr. Lee wants a quote for 300 units, follow up Friday")
    assert "Note updated" in updated.text  # a later, good edit still works


async def test_in_the_members_language(app, engine, sales):
    await sales.say("拜訪大同五金行王總,他要A100一百件的報價,週五前回覆", message_id="601")
    before = state(engine)
    assert [r.text for r in await edit(sales, "601", "")] == [t("zh-Hant", "note_edits.edit_emptied")]
    assert [r.text for r in await edit(sales, "601", "很長" * 3000)] == [
        t("zh-Hant", "note_edits.edit_too_long", n=4096)]
    assert "4096 個字" in t("zh-Hant", "note_edits.edit_too_long", n=4096)
    assert state(engine) == before


async def test_an_edit_of_a_message_that_logged_nothing_stays_ignored(app, engine, owner):
    await owner.say("/todo", message_id="502")
    assert await edit(owner, "502", "") == []
    assert await edit(owner, "999", "x" * 5000) == []


async def test_the_limit_is_the_notes_own_when_messages_may_be_longer(engine, clock, tmp_path):
    settings = load_settings(tmp_path / "none.toml", default_language="en", max_message_chars=50_000)
    app = build(settings, clock=clock, engine=engine)
    app.attach(RecordingMessenger("test"))
    amy = Chat(app, "owner", "Amy Lin", "en")
    await amy.say("/start")
    await amy.say("Called Acme about the samples", message_id="701")
    before = state(engine)
    [reply] = await edit(amy, "701", "Called Acme " + "x" * MAX_NOTE_CHARS)
    assert reply.text == t("en", "note_edits.edit_too_long", n=MAX_NOTE_CHARS)
    assert state(engine) == before
