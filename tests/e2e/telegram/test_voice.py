"""Telegram voice notes through the fake Bot API: downloaded, transcribed by the real model, confirmed."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import select

from adapters.telegram import TelegramAdapter
from bot.bootstrap import build
from bot.i18n import t
from core.db import session_scope
from core.models import AudioClip, ConversationMessage, FollowUp, Interaction
from core.settings import load_settings
from core.voice import TranscriptionService
from core.voice.faster import decode
from tests.e2e.telegram.conftest import telegram_settings
from tests.fakes.telegram_api import message, user
from tests.integration.voice.conftest import encode, pink_noise, wav

pytestmark = pytest.mark.slow
AUDIO = Path("tests/fixtures/audio")


@pytest.fixture(scope="module")
def service(whisper_cache):
    """One loaded model for the module's bots."""
    created = TranscriptionService.from_settings(load_settings("/nonexistent.toml", whisper_cache_dir=whisper_cache))
    yield created
    created.close()


@pytest.fixture
async def voice_bot(fake, tmp_path, service):
    settings = telegram_settings(fake, tmp_path)
    app = build(settings, transcriber=service)
    adapter = TelegramAdapter(settings, app.handle)
    app.attach(adapter)
    await app.start(with_scheduler=False)
    await adapter.start()
    yield app
    await adapter.stop()
    await app.stop()
    app.engine.dispose()


def voice(file_id: str, size: int, duration: int = 11, chat_id: int = 42, **extra) -> dict:
    return message(None, chat_id=chat_id, voice={"file_id": file_id, "file_unique_id": f"{file_id}-u",
                                                 "duration": duration, "mime_type": "audio/ogg", "file_size": size},
                   **extra)


def rows(app, table) -> list:
    with session_scope(app.engine) as session:
        return list(session.exec(select(table)))


async def test_voice_note_is_transcribed_and_logged_with_typing_shown(fake, voice_bot):
    fake.inject(message("/start"))
    await fake.wait_for("sendMessage")
    audio = (AUDIO / "jfk.ogg").read_bytes()
    fake.add_file("v1", audio)
    fake.inject(voice("v1", len(audio)))
    reply = (await fake.wait_for("sendMessage", 2, timeout=60))[-1]
    assert "ask not what your country can do for you" in reply.body["text"]
    typing = fake.sent("sendChatAction")[0]
    assert (typing.body["action"], str(typing.body["chat_id"])) == ("typing", "42") and typing.at < reply.at
    [record] = rows(voice_bot, Interaction)
    assert record.kind == "voice" and "fellow Americans" in record.transcript
    facts = record.details["audio"]
    assert (facts["language"], facts["engine"], facts["bytes"]) == ("en", "faster-whisper", len(audio))
    assert abs(facts["duration"] - 11.0) < 0.2
    assert rows(voice_bot, AudioClip)[0].data == audio


BAD = [  # (what, bytes, declared seconds, reply key)
    ("empty", b"", 3, "empty"),
    ("truncated", (AUDIO / "jfk.ogg").read_bytes()[:300], 11, "truncated"),
    ("not audio", b"%PDF-1.7 a price list, not a voice note" * 30, 4, "not_audio"),
    ("silence", encode(np.zeros(16000 * 6, dtype=np.float32), "ogg", "libopus", 48000), 6, "silence"),
    ("noise", encode(pink_noise(8), "ogg", "libopus", 48000), 8, "silence"),
    ("declared too long", (AUDIO / "jfk.ogg").read_bytes(), 400, "too_long"),
    ("decoded too long", encode(np.full(16000 * 302, 0.01, dtype=np.float32), "ogg", "libopus", 48000), 20,
     "too_long"),
]


async def test_bad_voice_notes_get_a_clear_reply_and_the_bot_keeps_serving(fake, voice_bot):
    member = user(42, "小姐", "陳", language="zh-hant")
    fake.inject(message("/start", sender=member))
    await fake.wait_for("sendMessage")
    for index, (what, data, declared, key) in enumerate(BAD, start=2):
        fake.add_file(f"bad{index}", data)
        fake.inject(voice(f"bad{index}", len(data), duration=declared, **{"from": member}))
        reply = (await fake.wait_for("sendMessage", index, timeout=60))[-1].body["text"]
        assert reply == t("zh-Hant", f"voice.{key}", minutes=5), what
    assert rows(voice_bot, Interaction) == [] and rows(voice_bot, FollowUp) == []
    assert rows(voice_bot, AudioClip) == []
    fake.inject(message("/todo", sender=member))
    assert (await fake.wait_for("sendMessage", len(BAD) + 2))[-1].body["text"] == t("zh-Hant", "todo.empty")


async def test_a_forwarded_voice_note_is_logged_as_the_customers_words(fake, voice_bot):
    fake.inject(message("/start"))
    await fake.wait_for("sendMessage")
    audio = (AUDIO / "jfk.ogg").read_bytes()
    fake.add_file("fw", audio)
    origin = {"type": "user", "date": 1763430000, "sender_user": {"id": 9001, "is_bot": False, "first_name": "Lee"}}
    fake.inject(voice("fw", len(audio), forward_origin=origin))
    summary = (await fake.wait_for("sendMessage", 2, timeout=60))[-1].body["text"]
    assert summary.startswith(t("en", "forwards.saved", n=1)) and "Lee: And so my fellow Americans" in summary
    [record] = rows(voice_bot, Interaction)
    assert record.kind == "forwarded" and "Lee: And so my fellow Americans" in record.text
    [said] = rows(voice_bot, ConversationMessage)
    assert (said.sender, said.from_member, said.kind) == ("Lee", False, "voice")
    assert "ask not what your country" in said.text
    [facts] = record.details["voice"]  # the audio's facts stay with the customer's message
    assert facts["sha256"] == hashlib.sha256(audio).hexdigest() and facts["language"] == "en"
    assert facts["engine"] == "faster-whisper" and facts["duration"] > 10
    [clip] = rows(voice_bot, AudioClip)
    assert clip.interaction_id == record.id and clip.data == audio


async def test_other_members_are_answered_while_a_long_note_is_transcribed(fake, voice_bot):
    """The model works in the worker pool: a typed note from someone else is answered before the long note."""
    fake.inject(message("/start"))
    await fake.wait_for("sendMessage")
    fake.inject(message("/invite"))
    code = (await fake.wait_for("sendMessage", 2))[-1].body["text"].split("<code>")[1].split("</code>")[0]
    fake.inject(message(f"/start {code}", chat_id=43))
    await fake.wait_for("sendMessage", 3)
    speech, gap = decode((AUDIO / "jfk.ogg").read_bytes()), np.zeros(16000, dtype=np.float32)
    long_note = wav(np.concatenate([speech, gap, speech, gap, speech, gap, speech]))  # 47 s, two windows
    fake.add_file("long", long_note)
    fake.inject(voice("long", len(long_note), duration=47))
    await fake.wait_for("sendChatAction", timeout=30)  # the long note is being worked on
    fake.inject(message("Called Acme, they want 20 units", chat_id=43))
    sent = await answered(fake, lambda r: str(r.body["chat_id"]) == "42" and "fellow Americans" in r.body["text"])
    typed = next(i for i, r in enumerate(sent) if str(r.body["chat_id"]) == "43" and "Acme" in r.body["text"])
    spoken = next(i for i, r in enumerate(sent) if "fellow Americans" in r.body["text"])
    assert typed < spoken, [r.body["text"][:60] for r in sent]
    voice_note = next(r for r in rows(voice_bot, Interaction) if r.kind == "voice")
    assert voice_note.transcript.lower().count("what you can do for your country") == 4, voice_note.transcript


async def answered(fake, wanted, timeout: float = 120.0) -> list:
    """Every sendMessage so far, once one matching `wanted` has been sent."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not any(wanted(call) for call in fake.sent("sendMessage")):
        assert asyncio.get_running_loop().time() < deadline, [c.body["text"][:60] for c in fake.sent("sendMessage")]
        await asyncio.sleep(0.05)
    return fake.sent("sendMessage")


@pytest.mark.parametrize(("file_name", "mime"), [("jfk.ogg", "application/octet-stream"), ("memo", "audio/ogg")])
async def test_audio_sent_as_a_document_is_transcribed_like_a_voice_note(fake, voice_bot, file_name, mime):
    fake.inject(message("/start"))
    await fake.wait_for("sendMessage")
    audio = (AUDIO / "jfk.ogg").read_bytes()
    fake.add_file("doc1", audio)
    fake.inject(message(None, document={"file_id": "doc1", "file_unique_id": "doc1-u", "file_name": file_name,
                                        "mime_type": mime, "file_size": len(audio)}))
    reply = (await fake.wait_for("sendMessage", 2, timeout=60))[-1]
    assert "ask not what your country can do for you" in reply.body["text"]
    assert "can't read" not in reply.body["text"]
    [record] = rows(voice_bot, Interaction)
    assert record.kind == "voice" and "fellow Americans" in record.transcript
    assert rows(voice_bot, AudioClip)[0].data == audio
