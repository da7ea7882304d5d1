"""Chat exports through python-telegram-bot and the fake Bot API: "which participant is you?" on exports with
system lines, and a Telegram account export whose chats (a price-updates channel included) are offered."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from adapters.telegram import TelegramAdapter
from bot.bootstrap import build
from bot.platforms import command_menu
from core.db import session_scope
from core.models import ConversationMessage, Interaction
from tests.e2e.telegram.conftest import telegram_settings
from tests.fakes.telegram_api import callback, message

SAMPLES = Path(__file__).parents[2] / "fixtures" / "exports"


@pytest.fixture
async def bot(fake, tmp_path, clock):
    settings = telegram_settings(fake, tmp_path, import_spool_dir=str(tmp_path / "spool"),
                                 default_timezone="Asia/Taipei")
    app = build(settings)
    adapter = TelegramAdapter(settings, app.handle, commands=command_menu())
    app.attach(adapter)
    await app.start(with_scheduler=False)
    await adapter.start()
    yield app, settings
    await adapter.stop()
    await app.stop()
    app.engine.dispose()


def document(fake, file_id: str, name: str, data: bytes) -> dict:
    fake.add_file(file_id, data)
    return message(None, document={"file_id": file_id, "file_unique_id": f"{file_id}-u", "file_name": name,
                                   "mime_type": "application/octet-stream", "file_size": len(data)})


def button(body: dict, label: str) -> str:
    for row in body["reply_markup"]["inline_keyboard"]:
        for key in row:
            if label in key["text"]:
                return key["callback_data"]
    raise AssertionError(f"no button {label!r} in {body['reply_markup']}")


async def test_the_which_is_you_button_works_on_an_export_with_system_lines(fake, bot):
    app, _ = bot
    fake.inject(message("/start"))
    await fake.wait_for("sendMessage", 1)
    fake.inject(document(fake, "wa1", "WhatsApp Chat with 陳小姐.txt",
                         (SAMPLES / "whatsapp_android_zh_tw.txt").read_bytes()))
    summary = (await fake.wait_for("sendMessage", 2))[1].body
    assert "Which participant is you?" in summary["text"]
    fake.inject(callback(button(summary, "王大明"), message_id=500))
    edited = (await fake.wait_for("editMessageText", 1))[-1].body
    assert "Imported 7 messages" in edited["text"] and "Which participant" not in edited["text"]
    await fake.wait_for("answerCallbackQuery", 1)
    assert all("went wrong" not in c.body.get("text", "") for c in fake.sent("sendMessage"))
    with session_scope(app.engine) as session:
        rows = session.exec(select(ConversationMessage.sender, ConversationMessage.from_member)).all()
    assert (None, False) in rows and {s for s, mine in rows if mine} == {"王大明"}


async def test_a_telegram_account_export_offers_its_chats_and_imports_the_channel_and_then_all(fake, bot):
    app, settings = bot
    fake.inject(message("/start"))
    await fake.wait_for("sendMessage", 1)
    data = (SAMPLES / "telegram_account_multi.json").read_bytes()
    fake.inject(document(fake, "tg1", "result.json", data))
    ask = (await fake.wait_for("sendMessage", 2))[1].body
    assert "holds 4 chats" in ask["text"]
    fake.inject(callback(button(ask, "华通价格更新"), message_id=501))
    imported = (await fake.wait_for("sendMessage", 3))[2].body
    assert "Imported 3 messages" in imported["text"]
    fake.inject(document(fake, "tg2", "result.json", data))
    ask = (await fake.wait_for("sendMessage", 5))[-1].body  # the channel's customer question came first
    assert "holds 4 chats" in ask["text"]
    fake.inject(callback(button(ask, "All chats"), message_id=502))
    every = await fake.wait_for("sendMessage", 7)
    assert "Imported 4 chats, each as its own conversation" in every[5].body["text"]
    await fake.wait_for("answerCallbackQuery", 2)
    with session_scope(app.engine) as session:
        records = session.exec(select(Interaction).where(Interaction.kind == "message")).all()
        assert sorted(r.details["import"]["title"] or "" for r in records) == sorted(
            ["华通价格更新", "", "刘经理 (华通贸易)", "华通价格更新", "Acme Sourcing"])
    assert list(Path(settings.import_spool_dir).iterdir()) == []
