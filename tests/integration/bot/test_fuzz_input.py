"""Generated hostile text through the whole bot on SQLite and PostgreSQL: every message gets a normal answer.

A seeded generator (reproducible: the seed is in the test id) mixes ordinary note words and customer names with
what breaks storage or parsing: NUL and other control characters, lone surrogates, RTL and zero-width marks,
emoji ZWJ sequences, combining marks, non-ASCII digits, and lengths up to past the message limit. Each text goes
in as a note, a command's arguments, an edit, a shared contact and a sender's name.
"""

from __future__ import annotations

import json
import os
import random

import pytest
from sqlmodel import select

from core.chat import CommandIn, ContactIn, EditedIn, TextIn
from core.db import session_scope
from core.models import ChatIdentity, Contact, Customer, Interaction, Member
from tests.conversation import Chat

SORRY = ("something went wrong", "出了點問題", "出了点问题")
WORDS = ["拜訪", "大同五金", "陳小姐", "報價", "A100", "下週五", "明天", "call", "Acme", "Ltd", "tomorrow", "visit",
         "3pm", "followed", "up", "王先生", "100件", "价格", "跟进", "送樣品"]
HOSTILE = ["\x00", "\x00\x00\x00", "\x01", "\x07", "\x1b[31m", "\x7f", "\ud800", "\udfff", "\ud83d", "\u200f",
           "\u200e", "\u202e", "\u2066", "\u200b", "\u200d", "\ufeff", "👩\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈",
           "\u0301\u0301\u0301", "٣", "३", "๓", "３", "五", "²", "\u00a0", "\u3000", "\r", "\t", "\n\n",
           "<b>", "&amp;", "'; DROP TABLE customer; --", "%s", "{n}", "\\N", "\ufffd"]
COMMANDS = ["c", "find", "done", "todo", "digest", "lang", "zone", "snooze", "help", "me"]
CASES = int(os.environ.get("CHATCRM_FUZZ_CASES", "120"))  # per seed and database; CHATCRM_FUZZ_CASES=2600 for a long run


def generated(rng: random.Random) -> str:
    parts: list[str] = []
    for _ in range(rng.randint(1, 14)):
        parts.append(rng.choice(WORDS) if rng.random() < 0.55 else rng.choice(HOSTILE))
        if rng.random() < 0.5:
            parts.append(" ")
    text = "".join(parts)
    roll = rng.random()
    if roll < 0.04:
        text = text * (5000 // max(1, len(text)) + 1)  # past the message limit
    elif roll < 0.08:
        text = (text + " ") * (3500 // max(1, len(text) + 1))  # long but within it
    return text


def answered_normally(replies, *, may_be_silent: bool = False) -> None:
    assert replies or may_be_silent, "no answer"
    for reply in replies:
        assert not any(word in reply.text for word in SORRY), reply.text


@pytest.mark.parametrize("seed", [17, 2026])
async def test_generated_messages_get_normal_answers_and_nothing_unstorable_is_kept(app, engine, owner, seed):
    rng = random.Random(seed)
    for i in range(CASES):
        text = generated(rng)
        kind = i % 5
        env = owner.envelope()
        if kind == 0:
            incoming: object = TextIn(env, text)
        elif kind == 1:
            incoming = CommandIn(env, rng.choice(COMMANDS), text)
        elif kind == 2:  # a note, then the member edits it into the generated text
            answered_normally(await owner.send(TextIn(env, "拜訪大同五金陳小姐")))
            incoming = EditedIn(env, text)
        elif kind == 3:
            incoming = ContactIn(env, text[:200] or "x", phone=rng.choice(["+886 912 345 678", "٠٩١٢٣٤٥٦٧٨", text[:30]]))
        else:
            stranger = Chat(app, f"fuzz{seed}-{i}", text[:120] or "x", rng.choice(["en", "zh-TW", "zh-CN", None]))
            answered_normally(await stranger.say(text))
            continue
        # an edit into an empty or over-long text leaves the note as it was, without a word (bot.handlers.note_edits)
        answered_normally(await owner.send(incoming), may_be_silent=isinstance(incoming, EditedIn))
    with session_scope(engine) as session:
        notes = session.exec(select(Interaction.text)).all()
        names = [*session.exec(select(Customer.name)).all(), *session.exec(select(Contact.name)).all(),
                 *session.exec(select(Member.name)).all(), *session.exec(select(ChatIdentity.display_name)).all()]
    assert notes, "no note was logged at all"
    for stored in [*notes, *names]:
        assert "\x00" not in stored and not any("\ud800" <= ch <= "\udfff" for ch in stored)


async def test_a_note_with_nul_and_surrogates_is_logged_without_them(owner, engine):
    replies = await owner.say("拜訪大同五金\x00陳小姐,談 A100 報價\ud800 明天回電")
    answered_normally(replies)
    with session_scope(engine) as session:
        stored = session.exec(select(Interaction.text)).all()
    assert stored == ["拜訪大同五金陳小姐,談 A100 報價\ufffd 明天回電"]


@pytest.mark.parametrize("seed", [5])
async def test_generated_exports_with_unstorable_text_are_imported_whole(app, engine, owner, seed):
    """Telegram JSON may carry `\\u0000` and lone surrogates (`\\ud800`) as escapes; WhatsApp text NULs past its
    first 8 KB: both imports store every message, without what the database refuses."""
    from core.models import ConversationMessage

    rng = random.Random(seed)
    texts = [generated(rng)[:500] or "x" for _ in range(300)]
    document = {"name": "陳\x00小姐", "type": "personal_chat", "messages": [
        {"id": i, "type": "message", "date": f"2026-11-1{i % 7}T1{i % 10}:05:00", "from": rng.choice(["陳小姐", "Amy\x00"]),
         "text": text} for i, text in enumerate(texts)]}
    data = json.dumps(document).encode()  # ensure_ascii: every NUL and surrogate written as a \u escape
    assert b"\\u0000" in data and b"\\ud8" in data.lower()
    messenger = app.messengers["test"]
    messenger.files["tg"] = data
    replies = await owner.file("result.json", "tg")
    answered_normally(replies)
    assert "Imported" in replies[0].text
    head = "".join(f"13/11/2026, 10:{i % 60:02d} - 王大明: 第 {i} 則 A100 報價收到了\n" for i in range(200))
    tail = "".join(f"14/11/2026, 11:{i % 60:02d} - 王大明: {text.replace(chr(10), ' ')}\n" for i, text in enumerate(texts))
    messenger.files["wa"] = (head + tail).encode("utf-8", "replace")  # valid UTF-8 (a surrogate cannot be)
    replies = await owner.file("WhatsApp Chat with 王大明.txt", "wa")
    answered_normally(replies)
    assert "Imported 500 messages" in replies[0].text
    with session_scope(engine) as session:
        stored = session.exec(select(ConversationMessage.text)).all()
        senders = session.exec(select(ConversationMessage.sender)).all()
    assert len(stored) >= 800
    for text in [*stored, *(s for s in senders if s)]:
        assert "\x00" not in text and not any("\ud800" <= ch <= "\udfff" for ch in text)
