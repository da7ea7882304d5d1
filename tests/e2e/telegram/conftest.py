"""The real python-telegram-bot Application against the fake Bot API, wired to a real bot on SQLite."""

from __future__ import annotations

import pytest

from adapters.telegram import TelegramAdapter
from bot.bootstrap import build
from bot.platforms import command_menu
from core.settings import load_settings
from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
async def fake():
    server = await FakeTelegram().start()
    yield server
    await server.stop()


def telegram_settings(fake: FakeTelegram, tmp_path, **extra):
    return load_settings(tmp_path / "none.toml", database_url=f"sqlite:///{tmp_path}/crm.db",
                         telegram_bot_token=fake.token, telegram_api_base_url=fake.base_url,
                         telegram_file_base_url=fake.file_url, telegram_poll_timeout=0.5,
                         default_language="en", forward_batch_seconds=0.3, **extra)


@pytest.fixture
async def running(fake, tmp_path, clock):
    """(app, adapter) running with long polling."""
    settings = telegram_settings(fake, tmp_path)
    app = build(settings)
    adapter = TelegramAdapter(settings, app.handle, commands=command_menu(), inbox=app.open_inbox("test"),
                              parked_text=app.parked_text)
    app.attach(adapter)
    await app.start(with_scheduler=False)
    await adapter.start()
    yield app, adapter
    await adapter.stop()
    await app.stop()
    app.engine.dispose()
