"""Slack audio clips and uploaded files: downloaded with the bot token, transcribed or imported; login pages refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlmodel import select

from adapters.slack import SlackAdapter
from adapters.slack.blocks import plain
from bot.i18n import t
from core.chat import Reply
from core.db import session_scope
from core.models import AudioClip, Customer, FollowUp, Interaction
from core.settings import load_settings
from core.voice import TranscriptionService
from core.voice.faster import decode
from tests.e2e.slack.conftest import slack_settings, start_bot
from tests.fakes.slack_api import BOT_TOKEN, dm, event
from tests.integration.voice.conftest import encode, pink_noise

AUDIO = Path("tests/fixtures/audio")


@pytest.fixture(scope="module")
def service(whisper_cache):
    """One loaded model for the module's bots."""
    created = TranscriptionService.from_settings(load_settings("/nonexistent.toml", whisper_cache_dir=whisper_cache))
    yield created
    created.close()


@pytest.fixture
async def voice_bot(fake, tmp_path, service, request):
    language = getattr(request, "param", "en")
    app, adapter = await start_bot(slack_settings(fake, tmp_path, default_language=language))
    app.deps.transcription.replace(service)
    yield app, f"http://127.0.0.1:{adapter.port}/slack/events"
    await adapter.stop()
    await app.stop()
    app.engine.dispose()


def clip_message(file: dict, text: str = "") -> dict:
    return dm(text, subtype="file_share", files=[file])


def m4a_clip(fake, file_id: str, data: bytes) -> dict:
    return fake.add_file(file_id, data, name="audio_message.m4a", mimetype="audio/mp4", subtype="slack_audio")


def rows(app, table) -> list:
    with session_scope(app.engine) as session:
        return list(session.exec(select(table)))


@pytest.mark.slow
async def test_an_audio_clip_shows_a_status_that_becomes_the_confirmation(fake, voice_bot):
    app, url = voice_bot
    await event(url, dm("start"))
    await fake.wait_for("chat.postMessage")
    audio = encode(decode((AUDIO / "jfk.ogg").read_bytes()), "mp4", "aac")
    status, _ = await event(url, clip_message(m4a_clip(fake, "F1", audio)))
    assert status == 200
    posted = (await fake.wait_for("chat.postMessage", 2, timeout=30))[-1]
    assert posted.body["text"] == "🎙 Transcribing…" and posted.body["channel"] == "DU1"
    [update] = await fake.wait_for("chat.update", 1, timeout=90)
    assert update.body["ts"] == fake.posted_ts[-1]  # the status message itself, edited in place
    assert "ask not what your country can do for you" in update.body["text"]
    assert len(fake.sent("chat.postMessage")) == 2  # the answer replaced the status; nothing else was posted
    assert fake.sent("download")[0].headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    [record] = rows(app, Interaction)
    assert record.kind == "voice" and "fellow Americans" in record.transcript
    assert record.details["audio"]["engine"] == "faster-whisper"
    assert rows(app, AudioClip)[0].mime_type == "audio/mp4"


BAD = [  # (what, bytes, reply key)
    ("empty", b"", "empty"),
    ("truncated", (AUDIO / "jfk.ogg").read_bytes()[:300], "truncated"),
    ("not audio", b"%PDF-1.7 a price list, not a voice note" * 30, "not_audio"),
    ("silence", encode(np.zeros(16000 * 6, dtype=np.float32), "webm", "libopus", 48000), "silence"),
    ("noise", encode(pink_noise(8), "mp4", "aac"), "silence"),
    ("too long", encode(np.full(16000 * 302, 0.01, dtype=np.float32), "webm", "libopus", 48000), "too_long"),
]


@pytest.mark.slow
@pytest.mark.parametrize("voice_bot", ["zh-Hans"], indirect=True)
async def test_bad_audio_clips_get_a_clear_reply_in_place_of_the_status(fake, voice_bot):
    app, url = voice_bot
    await event(url, dm("start"))
    await fake.wait_for("chat.postMessage")
    for index, (what, data, key) in enumerate(BAD, start=1):
        await event(url, clip_message(m4a_clip(fake, f"B{index}", data)))
        update = (await fake.wait_for("chat.update", index, timeout=60))[-1].body
        assert update["text"] == plain(t("zh-Hans", f"voice.{key}", minutes=5)), what
        assert fake.sent("chat.postMessage")[-1].body["text"] == "🎙 正在转写语音…"
        assert update["ts"] == fake.posted_ts[-1]
    assert rows(app, Interaction) == [] and rows(app, FollowUp) == [] and rows(app, AudioClip) == []
    await event(url, dm("todo"))
    todo = (await fake.wait_for("chat.postMessage", len(BAD) + 2))[-1].body["text"]
    assert todo == plain(t("zh-Hans", "todo.empty"))


@pytest.mark.slow
async def test_a_login_page_instead_of_the_audio_is_detected_not_transcribed(fake, voice_bot):
    app, url = voice_bot
    await event(url, dm("start"))
    await fake.wait_for("chat.postMessage")
    clip = fake.add_file("F2", (AUDIO / "jfk.ogg").read_bytes(), name="audio_message.ogg", mimetype="audio/ogg",
                         subtype="slack_audio")
    fake.login_page_for.add("F2")
    await event(url, clip_message(clip))
    reply = (await fake.wait_for("chat.update", 1, timeout=30))[-1].body
    assert "couldn't download that recording" in reply["text"]
    await event(url, dm("todo"))
    assert "Nothing to follow up" in (await fake.wait_for("chat.postMessage", 3))[-1].body["text"]
    assert rows(app, Interaction) == []


async def test_a_status_with_no_answer_to_replace_it_is_deleted(fake, tmp_path):
    """When handling ends without a reply (a forwarded burst answers later), the status does not linger."""
    async def handle(incoming):
        await adapter.send(incoming.env.chat, Reply("🎙 Transcribing…", extra={"status": True}))
        return []

    adapter = SlackAdapter(slack_settings(fake, tmp_path), handle)
    await adapter.start()
    try:
        await event(f"http://127.0.0.1:{adapter.port}/slack/events", dm("hello"))
        [deleted] = await fake.wait_for("chat.delete")
    finally:
        await adapter.stop()
    assert (deleted.body["channel"], deleted.body["ts"]) == ("DU1", fake.posted_ts[0])
    assert fake.sent("chat.update") == []


async def test_an_uploaded_customer_list_is_imported_and_other_files_declined(fake, running):
    app, url = running
    await event(url, dm("start"))
    await fake.wait_for("chat.postMessage")
    sheet = fake.add_file("F3", "客戶名稱,電話\n永豐電子,02-1234-5678\n".encode(), name="customers.csv",
                          mimetype="text/csv")
    await event(url, clip_message(sheet))
    assert "1 new" in (await fake.wait_for("chat.postMessage", 2))[-1].body["text"]
    pdf = fake.add_file("F4", b"%PDF-1.4 binary", name="brochure.pdf", mimetype="application/pdf")
    await event(url, clip_message(pdf))
    assert "can't read brochure.pdf" in (await fake.wait_for("chat.postMessage", 3))[-1].body["text"]
    downloads = fake.sent("download")
    assert [d.body["file"] for d in downloads] == ["F3", "F4"]
    assert all(d.headers["Authorization"] == f"Bearer {BOT_TOKEN}" for d in downloads)
    with session_scope(app.engine) as session:
        assert [c.name for c in session.exec(select(Customer))] == ["永豐電子"]


async def test_an_uploaded_chat_export_is_imported_with_a_summary(fake, running):
    app, url = running
    await event(url, dm("start"))
    await fake.wait_for("chat.postMessage")
    export = Path("tests/fixtures/exports/telegram_result.json").read_bytes()
    file = fake.add_file("F5", export, name="result.json", mimetype="application/json")
    await event(url, clip_message(file))
    replies = await fake.wait_for("chat.postMessage", 3)
    assert "Imported 5 messages" in replies[1].body["text"] and "Which customer" in replies[2].body["text"]
    with session_scope(app.engine) as session:
        assert session.exec(select(Interaction)).one().kind == "message"


@pytest.mark.slow
async def test_a_rate_limited_update_of_the_status_waits_and_still_shows_the_answer(fake, voice_bot):
    _, url = voice_bot
    await event(url, dm("start"))
    await fake.wait_for("chat.postMessage")
    fake.fail("chat.update", status=429, error="ratelimited", retry_after=1)
    audio = encode(decode((AUDIO / "jfk.ogg").read_bytes()), "mp4", "aac")
    await event(url, clip_message(m4a_clip(fake, "F9", audio)))
    updates = await fake.wait_for("chat.update", 2, timeout=90)
    assert [u.status for u in updates] == [429, 200]
    assert updates[1].body["ts"] == fake.posted_ts[-1] and "ask not what your country" in updates[1].body["text"]
    assert len(fake.sent("chat.postMessage")) == 2  # the status and the welcome; the answer replaced the status
