"""Editing notes, stable references and prompts as a dialogue, on real SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import col, select

from core.chat import ButtonIn, ChatRef, EditedIn, ForwardOrigin, Reply
from core.db import session_scope
from core.models import Contact, Customer, CustomerAlias, FollowUp, Interaction
from tests.conversation import Chat
from tests.integration.bot.test_conversation import count, settled


def note(engine, text_part: str) -> Interaction:
    with session_scope(engine) as session:
        return session.exec(select(Interaction).where(col(Interaction.text).contains(text_part))).one()


async def press_payload(chat: Chat, payload: str) -> list[Reply]:
    return await chat.send(ButtonIn(chat.envelope(message_id="99"), payload, callback_id=payload))


def labels(reply: Reply) -> list[str]:
    return [b.label for row in reply.buttons for b in row]


async def test_the_edit_button_asks_for_the_new_text_and_the_answer_re_understands_the_note(app, engine, owner):
    await owner.say("Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday")
    iid = note(engine, "100 units").id
    asked = (await press_payload(owner, f"n:ed:{iid}"))[0]
    assert "new text" in asked.text and "100 units" in asked.text
    assert labels(asked) == ["✖️ Cancel", "🗑 Delete note"]
    updated = (await owner.say("Visited Acme, Mr. Lee wants a quote for 250 units, follow up Friday"))[0]
    assert "Note updated" in updated.text and "250" in updated.text and "Acme" in updated.text
    with session_scope(engine) as session:
        row = session.get(Interaction, iid)
        assert "250 units" in row.text and [a["value"] for a in row.amounts] == [250]
    assert count(engine, Interaction) == 1  # the answer edited the note, it logged no second one
    after = (await owner.say("Called Globex about the invoice"))[0]  # the question is over: a new note
    assert "Globex" in after.text and count(engine, Interaction) == 2


async def test_an_edited_message_edits_its_note_and_an_edit_of_anything_else_is_ignored(app, engine, owner):
    await owner.say("拜訪大同五金行王總,他要A100一百件的報價,週五前回覆", message_id="501")
    edited = await owner.send(EditedIn(owner.envelope(message_id="501"),
                                       "拜訪大同五金行王總,他要A100三百件的報價,週五前回覆"))
    assert len(edited) == 1 and "Note updated" in edited[0].text and "300" in edited[0].text
    with session_scope(engine) as session:
        row = session.exec(select(Interaction)).one()
        assert "三百件" in row.text and row.source_message_id == "501"
    assert await owner.send(EditedIn(owner.envelope(message_id="501"),
                                     "拜訪大同五金行王總,他要A100三百件的報價,週五前回覆")) == []  # same text again
    await owner.say("/todo", message_id="502")
    assert await owner.send(EditedIn(owner.envelope(message_id="502"), "/todo please")) == []
    assert await owner.send(EditedIn(owner.envelope(message_id="999"), "見了美的集团赵经理")) == []
    assert count(engine, Interaction) == 1


async def test_delete_withdraws_the_note_once(app, engine, owner):
    await owner.say("Called Acme, Ms. Chen wants samples, follow up Friday")
    iid = note(engine, "samples").id
    asked = (await press_payload(owner, f"n:ed:{iid}"))[0]
    deleted = (await owner.press("Delete", asked))[0]
    assert deleted.edit and "deleted" in deleted.text.lower()
    assert "already deleted" in (await owner.press("Delete", asked))[0].text
    assert count(engine, Interaction, col(Interaction.deleted_at).is_not(None)) == 1
    assert count(engine, FollowUp, col(FollowUp.status).in_(("pending", "sent", "snoozed"))) == 0
    nothing = (await owner.say("Called Globex about the invoice"))[0]  # not taken as the deleted note's text
    assert "Globex" in nothing.text and count(engine, Interaction) == 2


async def test_done_n_refers_to_the_list_shown_and_a_repeat_changes_nothing(app, engine, owner):
    await owner.say("Visited Acme, Mr. Lee wants a quote, follow up tomorrow")
    await owner.say("Called Globex, Ms. Chen wants samples, follow up Friday")
    await owner.say("拜訪大同五金行王總,要報價,下週一前回覆")
    first = (await owner.say("/done 2"))[0]  # nothing shown yet: the list first, nothing closed
    assert "Here is your list" in first.text and first.buttons
    assert count(engine, FollowUp, FollowUp.status == "done") == 0
    done = (await owner.say("/done 2"))[0]
    assert "Done" in done.text and "Globex" in done.text
    again = (await owner.say("/done 2"))[0]
    assert "Already done" in again.text and "Globex" in again.text
    with session_scope(engine) as session:
        assert [f.action for f in session.exec(select(FollowUp).where(FollowUp.status == "done"))] == ["samples"]
    todo = (await owner.say("/todo"))[0]  # a new list: new numbers
    assert "Globex" not in todo.text
    assert "大同五金行" in (await owner.say("/done 2"))[0].text


async def test_a_second_customer_pressed_on_an_answered_picker_changes_nothing(app, engine, owner):
    await owner.say("/new 大同五金")
    await owner.say("/new 大同電子")
    picker = (await owner.say("打給大同,確認交期"))[0]
    filed = (await owner.press("大同電子", picker))[0]
    assert "大同電子" in filed.text
    late = (await owner.press("大同五金", picker))[0]
    assert "Already filed under" in late.text and "大同電子" in late.text
    electronics_only = select(Customer.id).where(Customer.name == "大同電子")
    with session_scope(engine) as session:
        assert session.exec(select(Interaction)).one().customer_id == session.exec(electronics_only).one()
    change = (await owner.press("Change customer", filed))[0]  # asked again on purpose: the choice works
    moved = (await owner.press("大同五金", change))[0]
    assert "大同五金" in moved.text and "Already" not in moved.text
    stale = (await owner.press("大同電子", change))[0]  # a second press on that picker
    assert "Already filed under" in stale.text and "大同五金" in stale.text
    with session_scope(engine) as session:
        hardware = session.exec(select(Customer).where(Customer.name == "大同五金")).one()
        assert session.exec(select(Interaction)).one().customer_id == hardware.id


async def test_type_a_name_refuses_a_sentence_keeps_waiting_and_a_command_or_cancel_leaves(app, engine, owner, clock):
    await owner.say("/new 大同五金")
    await owner.say("/new 大同電子")
    picker = (await owner.say("打給大同,確認交期"))[0]
    asked = (await owner.press("Type a name", picker))[0]
    assert "Type the customer's name" in asked.text and labels(asked) == ["✖️ Cancel"]
    refused = (await owner.say("拜訪大同五金行王總,他要A100一百件的報價,下週三前回覆,順便問一下上次的樣品"))[0]
    assert "reads like a note" in refused.text and labels(refused) == ["✖️ Cancel"]
    assert count(engine, Customer) == 2 and count(engine, Interaction) == 1
    named = (await owner.say("大同電子"))[0]  # still waiting: the name files the note
    assert "大同電子" in named.text and "Logged" in named.text
    assert count(engine, Interaction, col(Interaction.customer_id).is_not(None)) == 1

    picker = (await owner.say("打電話問交期"))[0]
    await owner.press("Type a name", picker)
    await owner.press("大同五金", picker)  # answered with a button instead: the name is no longer awaited
    short = (await owner.say("Called Globex about the invoice"))[0]
    assert "Logged" in short.text and "Globex" in short.text and count(engine, Interaction) == 3

    picker = (await owner.say("打電話問樣品的事"))[0]  # names no customer: asked
    assert "Which customer" in picker.text
    await owner.press("Type a name", picker)
    await owner.say("/todo")  # a command leaves the question
    logged = (await owner.say("Visited Acme, Mr. Lee wants a quote"))[0]
    assert "Acme" in logged.text and count(engine, Customer, Customer.name == "Acme") == 1

    asked = (await owner.press("Type a name", picker))[0]
    cancelled = (await owner.press("Cancel", asked))[0]
    assert cancelled.edit and "Cancelled" in cancelled.text
    assert "already answered, cancelled or expired" in (await owner.press("Cancel", asked))[0].text

    await owner.press("Type a name", picker)
    clock.advance(minutes=16)  # the question expired: the next message is a note again
    assert "Globex" in (await owner.say("Called Globex about the invoice"))[0].text
    with session_scope(engine) as session:
        names = set(session.exec(select(Customer.name)).all())
    assert names == {"大同五金", "大同電子", "Acme", "Globex"}


async def test_a_forwarded_sender_becomes_the_contact_of_the_customer_the_burst_is_filed_on(app, engine, owner, clock):
    await owner.say("/new Blue Harbour Trading")
    await owner.say("/new Globex")
    origin = ForwardOrigin("user", "Anna Lopez", "8080", clock.now())
    await owner.forward("Could you quote 5,000 PCBs by Friday?", origin)
    await settled()
    messenger = app.messengers["test"]
    summary = messenger.sent[-1][1]
    assert "Which customer" in summary.text and not any("Anna" in label for label in labels(summary))
    filed = (await owner.press("Blue Harbour Trading", summary))[0]
    assert "Blue Harbour Trading" in filed.text and "Anna Lopez" in filed.text
    with session_scope(engine) as session:
        anna = session.exec(select(Contact)).one()
        harbour = session.exec(select(Customer).where(Customer.name == "Blue Harbour Trading")).one()
        assert (anna.name, anna.customer_id, anna.handles) == ("Anna Lopez", harbour.id, {"test": "8080"})
        aliases = session.exec(select(CustomerAlias.alias).where(CustomerAlias.customer_id == harbour.id)).all()
        assert "Anna Lopez" not in aliases
    await owner.forward("Any update on the PCB quote?", origin, sent_at=clock.advance(minutes=5))
    await settled()
    assert "Blue Harbour Trading" in messenger.sent[-1][1].text  # her next forward files itself
    assert messenger.sent[-1][0] == ChatRef("test", "dm-owner")
