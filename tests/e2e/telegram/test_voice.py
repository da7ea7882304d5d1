"""A Telegram voice note through the fake Bot API: downloaded, transcribed by the real model, confirmed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from adapters.telegram import TelegramAdapter
from bot.bootstrap import build
from core.db import session_scope
from core.models import AudioClip, Interaction
from tests.e2e.telegram.conftest import telegram_settings
from tests.fakes.telegram_api import message

pytestmark = pytest.mark.slow
AUDIO = "tests/fixtures/audio/jfk.ogg"


@pytest.fixture
async def voice_bot(fake, tmp_path, whisper_cache):
    settings = telegram_settings(fake, tmp_path, whisper_cache_dir=whisper_cache)
    app = build(settings)
    adapter = TelegramAdapter(settings, app.handle)
    app.attach(adapter)
    await app.start(with_scheduler=False)
    await adapter.start()
    yield app
    await adapter.stop()
    await app.stop()
    app.engine.dispose()


def voice(file_id: str, size: int, duration: int = 11) -> dict:
    return message(None, voice={"file_id": file_id, "file_unique_id": f"{file_id}-u", "duration": duration,
                                "mime_type": "audio/ogg", "file_size": size})


async def test_voice_note_is_transcribed_and_logged_with_typing_shown(fake, voice_bot):
    fake.inject(message("/start"))
    await fake.wait_for("sendMessage")
    audio = Path(AUDIO).read_bytes()
    fake.add_file("v1", audio)
    fake.inject(voice("v1", len(audio)))
    reply = (await fake.wait_for("sendMessage", 2, timeout=60))[-1].body
    assert "ask not what your country can do for you" in reply["text"]
    assert fake.sent("sendChatAction")[0].body["action"] == "typing"
    with session_scope(voice_bot.engine) as session:
        record = session.exec(select(Interaction)).one()
        assert record.kind == "voice" and "fellow Americans" in record.transcript
        assert record.details["audio"]["language"] == "en" and record.details["audio"]["duration"] == 11.0
        assert session.exec(select(AudioClip)).one().data == audio


async def test_bad_voice_notes_get_a_clear_reply_and_the_bot_keeps_serving(fake, voice_bot):
    fake.inject(message("/start"))
    await fake.wait_for("sendMessage")
    fake.add_file("bad", b"this is not audio at all" * 10)
    fake.inject(voice("bad", 240))
    fake.inject(voice("long", 10, duration=400))
    replies = await fake.wait_for("sendMessage", 3, timeout=60)
    texts = [r.body["text"] for r in replies[1:]]
    assert any("isn't audio" in t for t in texts) and any("longer than 5 minutes" in t for t in texts)
    fake.inject(message("/todo"))
    assert "Nothing to follow up" in (await fake.wait_for("sendMessage", 4))[-1].body["text"]
    with session_scope(voice_bot.engine) as session:
        assert session.exec(select(Interaction)).all() == []
