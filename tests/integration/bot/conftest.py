"""A bot app on a real database with a fake clock and a recording messenger; every test runs under the audit guard
(tests/audit_guard.py: a committed transaction of the app that wrote domain rows without an audit event fails it)."""

from __future__ import annotations

import pytest

from bot.bootstrap import build
from core.settings import load_settings
from tests.audit_guard import audit_guard, audit_guard_everywhere  # noqa: F401
from tests.conversation import Chat, RecordingMessenger, joined


@pytest.fixture
def settings(tmp_path):
    return load_settings(tmp_path / "none.toml", default_timezone="Asia/Taipei", default_language="en",
                         forward_batch_seconds=0.05, import_spool_dir=str(tmp_path / "spool"))


@pytest.fixture
def app(engine, clock, settings):
    application = build(settings, clock=clock, engine=engine)
    application.attach(RecordingMessenger("test"))
    return application


@pytest.fixture
async def owner(app) -> Chat:
    chat = Chat(app, "owner", "Amy Lin", "en")
    await chat.say("/start")
    return chat


@pytest.fixture
async def sales(app, owner) -> Chat:
    return await joined(owner, "sales1", "陳小姐", "zh-TW")


@pytest.fixture
async def bob(app, owner) -> Chat:
    """A second salesperson, in English."""
    return await joined(owner, "sales2", "Bob Wu", "en")

