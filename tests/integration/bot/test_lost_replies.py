"""A reply the platform never took is owned up to at the member's next message; strangers are answered in their language."""

from __future__ import annotations

from core.chat import TextIn
from tests.conversation import Chat


async def test_the_next_message_says_the_earlier_note_was_stored(app, owner):
    note = TextIn(owner.envelope(), "Visited Acme, Mr. Lee wants a quote, follow up Friday")
    replies = await owner.send(note)
    assert "Acme" in replies[0].text
    await app.undelivered(note, replies)  # the adapter's retries were spent
    await app.undelivered(note, replies)  # reported twice: remembered once

    answer = await owner.say("/todo")
    assert "1 earlier answer of mine did not reach you" in answer[0].text and "stored" in answer[0].text
    assert "Acme" in answer[1].text  # the /todo list itself follows
    again = await owner.say("/todo")
    assert all("did not reach you" not in reply.text for reply in again)


async def test_several_lost_answers_are_counted(app, owner):
    notes = [TextIn(owner.envelope(), text) for text in ("Called Globex about the invoice",
                                                         "Visited Initech, sample next week")]
    answered = [(note, await owner.send(note)) for note in notes]
    for note, replies in answered:  # both answers were lost
        await app.undelivered(note, replies)
    answer = await owner.say("/help")
    assert "2 earlier answers of mine did not reach you" in answer[0].text


async def test_a_stranger_is_answered_in_the_script_they_wrote(app):
    simplified = Chat(app, "stranger1", "王小明", language="en")
    replies = await simplified.say("你好,我想试用这个机器人")
    assert replies[0].text.startswith("这个机器人")
    traditional = Chat(app, "stranger2", "陳大文", language="en")
    replies = await traditional.say("您好,請問這個機器人怎麼用")
    assert replies[0].text.startswith("這個機器人")
    english = Chat(app, "stranger3", "Bob", language="zh-TW")
    replies = await english.say("hello, how do I join?")
    assert replies[0].text.startswith("This bot is private")
