"""TELEGRAM_MAX_MESSAGES_PER_SECOND decides the dispatcher's overall Telegram rate; the per-chat gap stays."""

from __future__ import annotations

import pytest

from bot.notifier import create_scheduler
from core.ports import SystemClock
from core.scheduling.limits import PLATFORM_LIMITS, UNLIMITED_RATE, platform_limits
from core.settings import load_settings


@pytest.mark.parametrize(("configured", "expected"), [
    (30.0, PLATFORM_LIMITS["telegram"][0]),  # the default keeps its margin below 30/s
    (60.0, PLATFORM_LIMITS["telegram"][0]),  # never above Telegram's documented 30/s
    (15.0, PLATFORM_LIMITS["telegram"][0] / 2),  # two processes sharing one token
    (0.0, UNLIMITED_RATE),  # a local Bot API server
])
def test_telegram_rate_follows_the_setting(configured, expected):
    rate, gap = platform_limits(configured)["telegram"]
    assert rate == pytest.approx(expected) and gap == PLATFORM_LIMITS["telegram"][1]
    assert platform_limits(configured)["slack"] == PLATFORM_LIMITS["slack"]


def test_the_scheduler_paces_with_the_configured_rate(tmp_path):
    from core.db import make_engine

    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", telegram_max_messages_per_second=10)
    engine = make_engine(settings.database_url)
    scheduler = create_scheduler(engine, settings, {}, SystemClock())
    assert scheduler.dispatcher.pacer.rate("telegram") == pytest.approx(10 * PLATFORM_LIMITS["telegram"][0] / 30)
    engine.dispose()
