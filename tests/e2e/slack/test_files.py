"""Slack audio clips and uploaded files: downloaded with the bot token, transcribed or imported; login pages refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from core.db import session_scope
from core.models import Customer, Interaction
from tests.e2e.slack.conftest import slack_settings, start_bot
from tests.fakes.slack_api import BOT_TOKEN, dm, event

AUDIO = "tests/fixtures/audio/jfk.ogg"


@pytest.fixture
async def voice_bot(fake, tmp_path, whisper_cache):
    app, adapter = await start_bot(slack_settings(fake, tmp_path, whisper_cache_dir=whisper_cache))
    yield app, f"http://127.0.0.1:{adapter.port}/slack/events"
    await adapter.stop()
    await app.stop()
    app.engine.dispose()


def clip_message(file: dict, text: str = "") -> dict:
    return dm(text, subtype="file_share", files=[file])


@pytest.mark.slow
async def test_an_audio_clip_is_downloaded_with_the_token_transcribed_and_logged(fake, voice_bot):
    app, url = voice_bot
    await event(url, dm("start"))
    await fake.wait_for("chat.postMessage")
    audio = Path(AUDIO).read_bytes()
    clip = fake.add_file("F1", audio, name="audio_message.ogg", mimetype="audio/ogg", subtype="slack_audio")
    status, _ = await event(url, clip_message(clip))
    assert status == 200
    reply = (await fake.wait_for("chat.postMessage", 2, timeout=90))[-1].body
    assert "ask not what your country can do for you" in reply["text"]
    with session_scope(app.engine) as session:
        record = session.exec(select(Interaction)).one()
    assert record.kind == "voice" and "fellow Americans" in record.transcript


@pytest.mark.slow
async def test_a_login_page_instead_of_the_audio_is_detected_not_transcribed(fake, voice_bot):
    app, url = voice_bot
    await event(url, dm("start"))
    await fake.wait_for("chat.postMessage")
    clip = fake.add_file("F2", Path(AUDIO).read_bytes(), name="audio_message.ogg", mimetype="audio/ogg",
                         subtype="slack_audio")
    fake.login_page_for.add("F2")
    await event(url, clip_message(clip))
    reply = (await fake.wait_for("chat.postMessage", 2, timeout=30))[-1].body
    assert "couldn't download that recording" in reply["text"]
    await event(url, dm("todo"))
    assert "Nothing to follow up" in (await fake.wait_for("chat.postMessage", 3))[-1].body["text"]
    with session_scope(app.engine) as session:
        assert session.exec(select(Interaction)).all() == []


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
