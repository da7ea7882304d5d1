"""Files in the chat are bounded: zip bombs, over-long exports, oversize files and recordings get a short reply in
the member's language (nothing stored, the bot keeps serving); a large import runs off the event loop, so another
member is answered while it is in progress."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from bot.notifier import create_scheduler
from core.chat import Attachment, FileIn, VoiceIn
from core.db import session_scope
from core.models import ConversationMessage, Interaction
from core.services import chat_import
from core.usecases.voice_notes import MAX_AUDIO_BYTES
from tests.conversation import Chat
from tests.zip_bombs import whatsapp_bomb, zeros_bomb

UNPACKED = {"en": "unpacks to more than I read (64 MB per file, 128 MB in all)",
            "zh-Hant": "解開後超過我能讀取的大小(每個檔案 64 MB,總共 128 MB)",
            "zh-Hans": "解压后超过我能读取的大小(每个文件 64 MB,总共 128 MB)"}
TOO_MANY = {"en": "more than 200,000 messages", "zh-Hant": "超過 200,000 則訊息", "zh-Hans": "超过 200,000 条消息"}
VOICE_TOO_BIG = {"en": "larger than 25 MB", "zh-Hant": "超過 25 MB", "zh-Hans": "超过 25 MB"}
LANGUAGES = {"en": "en", "zh-Hant": "zh-TW", "zh-Hans": "zh-CN"}


def rows(engine, model) -> int:
    with session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def messenger(app):
    return app.messengers["test"]


async def share(chat: Chat, name: str, data: bytes, size: int | None = None) -> list:
    file_id = f"f{len(messenger(chat.app).files)}"
    messenger(chat.app).files[file_id] = data
    return await chat.send(FileIn(chat.envelope(), Attachment(chat.platform, file_id, name, None, size=size)))


@pytest.fixture
async def member(app, request) -> Chat:
    language = getattr(request, "param", "en")
    chat = Chat(app, f"m-{language}", "Amy Lin", LANGUAGES[language])
    await chat.say("/start")
    await chat.say({"en": "/lang en", "zh-Hant": "/lang zh-Hant", "zh-Hans": "/lang zh-Hans"}[language])
    return chat


@pytest.mark.parametrize("member", ["en", "zh-Hant", "zh-Hans"], indirect=True)
async def test_zip_bombs_are_refused_in_the_members_language_and_the_bot_keeps_serving(app, engine, member):
    language = next(k for k, v in LANGUAGES.items() if v == member.language)
    for bomb, name in ((zeros_bomb(), "chat.zip"), (whatsapp_bomb(), "WhatsApp Chat with 陳小姐.zip")):
        replies = await share(member, name, bomb)
        assert len(replies) == 1 and UNPACKED[language] in replies[0].text
    assert rows(engine, Interaction) == 0 and rows(engine, ConversationMessage) == 0
    replies = await member.say("拜訪大同五金陳小姐,談 A100")
    assert rows(engine, Interaction) == 1 and replies


@pytest.mark.parametrize("member", ["en", "zh-Hant", "zh-Hans"], indirect=True)
async def test_an_export_past_the_message_ceiling_is_refused_with_the_limit(app, engine, member):
    language = next(k for k, v in LANGUAGES.items() if v == member.language)
    line = "13/07/2024, 15:05 - 陳小姐: ok\n"
    replies = await share(member, "WhatsApp Chat with 陳小姐.txt", (line * 200_001).encode())
    assert TOO_MANY[language] in replies[0].text
    assert rows(engine, Interaction) == 0


async def test_a_sixty_megabyte_file_is_refused_before_download(app, member):
    messenger(app).files["big"] = b""  # download would find nothing: it must not be asked
    asked: list[Attachment] = []
    original = messenger(app).download

    async def download(attachment):
        asked.append(attachment)
        return await original(attachment)

    messenger(app).download = download
    replies = await member.send(FileIn(member.envelope(), Attachment("test", "big", "chat.zip", size=60 * 2**20)))
    assert "too large" in replies[0].text.lower() or "50 MB" in replies[0].text
    assert asked == []


@pytest.mark.parametrize("member", ["en", "zh-Hant", "zh-Hans"], indirect=True)
async def test_an_oversize_recording_is_refused_before_and_after_download(app, engine, member):
    language = next(k for k, v in LANGUAGES.items() if v == member.language)
    attachment = Attachment("test", "v-big", "voice.ogg", "audio/ogg", size=MAX_AUDIO_BYTES + 1, duration=60)
    replies = await member.send(VoiceIn(member.envelope(), attachment))
    assert VOICE_TOO_BIG[language] in replies[0].text
    messenger(app).files["v-unsized"] = bytes(MAX_AUDIO_BYTES + 1)  # the platform did not say its size
    replies = await member.voice("v-unsized", duration=60)
    assert VOICE_TOO_BIG[language] in replies[0].text
    assert rows(engine, Interaction) == 0


async def test_an_over_long_recording_is_refused_politely(app, member):
    replies = await member.voice("v-long", duration=3600)
    assert "longer than 5 minutes" in replies[0].text


@pytest.mark.postgres
@pytest.mark.parametrize("engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
async def test_another_member_is_answered_while_a_large_import_is_in_progress(app, engine, member, monkeypatch,
                                                                              clock, settings):
    """The import stops after its first chunk of rows (a sentinel) until another member's note was answered and
    a due nudge was sent."""
    stored_a_chunk, go_on = threading.Event(), threading.Event()
    flush = chat_import._flush

    def held_flush(*args):
        flush(*args)
        stored_a_chunk.set()
        assert go_on.wait(60), "the test never let the import go on"

    invite = (await member.say("/invite"))[0].text.split("<code>")[1].split("</code>")[0]
    other = Chat(app, "other", "王大明", "zh-TW")
    await other.say(f"/start {invite}")
    await other.say("Visited Acme, Mr. Lee wants a quote for 100 units, follow up tomorrow 3pm")
    scheduler = create_scheduler(app.engine, settings, app.messengers, app.clock, pacer=None)
    assert await scheduler.dispatch() == 0
    monkeypatch.setattr(chat_import, "_flush", held_flush)
    lines = "".join(f"13/07/2024, 15:{i % 60:02d} - 陳小姐: 第 {i} 則 A100 報價\n" for i in range(3 * chat_import.CHUNK))
    importing = asyncio.create_task(share(member, "WhatsApp Chat with 陳小姐.txt", lines.encode()))
    assert await asyncio.to_thread(stored_a_chunk.wait, 60), "the import never stored a chunk"
    replies = await other.say("拜訪永豐五金王先生,談報價")
    assert "永豐五金" in replies[0].text and "出了點問題" not in replies[0].text
    clock.current = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)  # the follow-up is due: its nudge goes out
    assert await scheduler.dispatch() == 1
    assert "Acme" in messenger(app).sent[-1][1].text
    assert not importing.done()  # still in progress: its thread waits on the sentinel
    go_on.set()
    summary = (await importing)[0]
    assert "Imported 6,000 messages" in summary.text
    assert rows(engine, ConversationMessage) == 3 * chat_import.CHUNK
    assert rows(engine, Interaction) == 3  # the other member's two notes and the import
