"""Webhook mode: real HTTP POSTs to python-telegram-bot's webhook server, the secret checked on each."""

from __future__ import annotations

import json
import socket

import aiohttp
import pytest

from adapters.telegram import TelegramAdapter
from bot.bootstrap import build
from tests.e2e.telegram.conftest import telegram_settings
from tests.fakes.telegram_api import message


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def webhook(fake, tmp_path):
    port = free_port()
    settings = telegram_settings(fake, tmp_path, telegram_webhook_url=f"http://127.0.0.1:{port}/tg-hook",
                                 telegram_webhook_secret="s3cret-token-for-tests", telegram_webhook_listen="127.0.0.1",
                                 telegram_webhook_port=port)
    app = build(settings)
    adapter = TelegramAdapter(settings, app.handle)
    app.attach(adapter)
    await app.start(with_scheduler=False)
    await adapter.start()
    yield f"http://127.0.0.1:{port}/tg-hook"
    await adapter.stop()
    await app.stop()
    app.engine.dispose()


async def post(url: str, update: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with aiohttp.ClientSession() as session, session.post(url, data=json.dumps(update), headers=headers) as r:
        return r.status


async def test_webhook_registers_serves_updates_and_refuses_a_wrong_secret(fake, webhook):
    registered = (await fake.wait_for("setWebhook"))[-1].body
    assert registered["url"] == webhook and registered["secret_token"] == "s3cret-token-for-tests"
    assert await post(webhook, {"update_id": 1, **message("/start")}, "s3cret-token-for-tests") == 200
    welcome = (await fake.wait_for("sendMessage"))[-1].body
    assert "You created the team" in welcome["text"]
    assert await post(webhook, {"update_id": 2, **message("/todo")}, "wrong") == 403
    assert await post(webhook, {"update_id": 3, **message("/todo")}, None) == 403
    assert not fake.sent("getUpdates")
    assert len(fake.sent("sendMessage")) == 1
