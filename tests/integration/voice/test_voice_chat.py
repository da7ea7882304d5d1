"""Voice notes through the bot layer with the real model: the card, the doubt mark, the stored audio, bad audio."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from sqlmodel import select

from bot.bootstrap import build
from bot.i18n import t
from core.db import session_scope
from core.models import AudioClip, FollowUp, Interaction
from core.settings import load_settings
from core.voice.faster import decode
from tests.conversation import Chat, RecordingMessenger
from tests.integration.voice.conftest import AUDIO, encode, pink_noise, wav

pytestmark = pytest.mark.slow


@pytest.fixture
def voice_app(engine, clock, service, tmp_path):
    """(app, messenger) on the test database, sharing the session's loaded model."""
    def make(**settings):
        values = {"default_timezone": "Asia/Taipei", "default_language": "en", **settings}
        app = build(load_settings(tmp_path / "none.toml", **values), clock=clock, engine=engine, transcriber=service)
        messenger = RecordingMessenger("test")
        app.attach(messenger)
        return app, messenger
    return make


def with_silence_after(name: str, seconds: float) -> bytes:
    speech = decode((AUDIO / name).read_bytes())
    return wav(np.concatenate([speech, np.zeros(int(16000 * seconds), dtype=np.float32)]))


def rows(engine, table) -> list:
    with session_scope(engine) as session:
        return list(session.exec(select(table)))


async def test_a_clear_note_shows_its_transcript_and_stores_the_audio_facts(voice_app, engine):
    app, messenger = voice_app()
    chat = Chat(app, "u1", "Amy Lin", "en")
    await chat.say("/start")
    await chat.say("/new Kennedy Library")
    audio = (AUDIO / "jfk.ogg").read_bytes()
    messenger.files["v1"] = audio
    [question] = await chat.voice("v1", duration=11)
    assert "And so my fellow Americans" in question.text  # no customer named: asked, with the transcript
    [card] = await chat.press("Kennedy Library")
    assert "Kennedy Library" in card.text and "🎙 And so my fellow Americans" in card.text
    assert t("en", "notes.low_confidence") not in question.text + card.text
    record = rows(engine, Interaction)[0]
    assert record.kind == "voice" and "ask not what your country" in record.transcript
    facts = record.details["audio"]
    assert facts["sha256"] == hashlib.sha256(audio).hexdigest() and facts["bytes"] == len(audio)
    assert (facts["language"], facts["engine"]) == ("en", "faster-whisper")
    assert abs(facts["duration"] - 11.0) < 0.2
    assert record.details["low_confidence"] is False
    [clip] = rows(engine, AudioClip)
    assert (clip.interaction_id, clip.data, clip.mime_type) == (record.id, audio, "audio/ogg")


async def test_audio_over_the_size_limit_is_transcribed_but_not_kept(voice_app, engine):
    app, messenger = voice_app(voice_keep_audio_bytes=10_000)
    chat = Chat(app, "u1", "Amy Lin", "en")
    await chat.say("/start")
    messenger.files["v1"] = (AUDIO / "jfk.ogg").read_bytes()  # 34 kB
    await chat.voice("v1")
    [record] = rows(engine, Interaction)
    assert record.details["audio"]["sha256"] and rows(engine, AudioClip) == []


@pytest.mark.parametrize(("language", "clip", "words"), [
    ("en", "jfk.ogg", "And so my fellow Americans"),
    ("zh-Hant", "funasr_asr_example.ogg", "歡迎大家"),
    ("zh-Hans", "funasr_asr_example.ogg", "欢迎大家"),
])
async def test_a_doubtful_transcript_carries_the_low_confidence_mark(voice_app, engine, language, clip, words):
    """Speech that ends well before the recording does: shown, stored, and marked for checking."""
    app, messenger = voice_app()
    chat = Chat(app, "u1", "Amy Lin", language)
    await chat.say("/start")
    messenger.files["v1"] = with_silence_after(clip, 14)
    await chat.say("/new Kennedy Library")
    [question] = await chat.voice("v1")
    assert words in question.text and t(language, "notes.low_confidence") in question.text
    [card] = await chat.press("Kennedy Library")
    assert f"🎙 {words}" in card.text and t(language, "notes.low_confidence") in card.text
    [record] = rows(engine, Interaction)
    assert record.details["low_confidence"] is True
    assert "speech_ended_early" in record.details["low_confidence_reasons"]


BAD_AUDIO = {
    "empty": (b"", None, "empty"),
    "truncated": ((AUDIO / "jfk.ogg").read_bytes()[:300], None, "truncated"),
    "not audio": (b"%PDF-1.7 a price list, not a voice note" * 30, None, "not_audio"),
    "silence": (wav(np.zeros(16000 * 6, dtype=np.float32)), None, "silence"),
    "noise": (encode(pink_noise(8), "ogg", "libopus", 48000), None, "silence"),
    "declared too long": ((AUDIO / "jfk.ogg").read_bytes(), 301.0, "too_long"),
    "decoded too long": (encode(np.full(16000 * 302, 0.01, dtype=np.float32), "ogg", "libopus", 48000), 20.0,
                         "too_long"),
}


@pytest.mark.parametrize("language", ["en", "zh-Hant", "zh-Hans"])
async def test_bad_audio_gets_one_clear_reply_nothing_is_stored_and_the_bot_carries_on(voice_app, engine, language):
    app, messenger = voice_app()
    chat = Chat(app, "u1", "Amy Lin", language)
    await chat.say("/start")
    for case, (data, declared, code) in BAD_AUDIO.items():
        messenger.files[case] = data
        replies = await chat.voice(case, duration=declared)
        assert [r.text for r in replies] == [t(language, f"voice.{code}", minutes=5)], case
    assert rows(engine, Interaction) == [] and rows(engine, FollowUp) == [] and rows(engine, AudioClip) == []
    assert [r.text for r in await chat.say("/todo")] == [t(language, "todo.empty")]
    await chat.say("Called Acme, send them the quote tomorrow")
    assert [r.kind for r in rows(engine, Interaction)] != []
