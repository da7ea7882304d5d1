"""The real slack-bolt AsyncApp in HTTP mode against the fake Web API, wired to a real bot on SQLite."""

from __future__ import annotations

import pytest

from bot.bootstrap import build
from bot.platforms import slack_adapter
from core.settings import load_settings
from tests.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, FakeSlack


@pytest.fixture
async def fake():
    server = await FakeSlack().start()
    yield server
    await server.stop()


def slack_settings(fake: FakeSlack, tmp_path, **extra):
    values = {"database_url": f"sqlite:///{tmp_path}/crm.db", "slack_bot_token": BOT_TOKEN,
              "slack_signing_secret": SIGNING_SECRET, "slack_api_url": fake.api_url, "slack_http_host": "127.0.0.1",
              "slack_http_port": 0, "default_language": "en", **extra}
    return load_settings(tmp_path / "none.toml", **values)


async def start_bot(settings):
    app = build(settings)
    adapter = slack_adapter(app)
    app.attach(adapter)
    await app.start(with_scheduler=False)
    await adapter.start()
    return app, adapter


@pytest.fixture
async def running(fake, tmp_path):
    """(app, events URL) of a bot serving Slack over HTTP."""
    app, adapter = await start_bot(slack_settings(fake, tmp_path))
    yield app, f"http://127.0.0.1:{adapter.port}/slack/events"
    await adapter.stop()
    await app.stop()
    app.engine.dispose()
