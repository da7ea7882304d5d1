"""Wiring of the platform adapters to the app: command menus, the Slack App Home."""

from __future__ import annotations

import os
import socket
from typing import Any

from bot.app_home import home_view
from bot.bootstrap import ChatCRM
from bot.commands import MENU
from bot.i18n import LANGUAGES, catalogue
from core.scheduling.shared_limits import SharedPacer
from core.uow import Database


def command_menu() -> dict[str, list[tuple[str, str]]]:
    """The command menu in each language, from the `menu` catalogue."""
    return {language: [(name, catalogue(language)[f"menu.{name}"]) for name in MENU] for language in LANGUAGES}


def send_pacer(app: ChatCRM) -> SharedPacer | None:
    """The process's shared send limiter (the scheduler's, bot.notifier), on PostgreSQL: replies, nudges and notices
    of every process then keep the platforms' limits together. None on SQLite (one process: the adapters keep their
    own limiter, python-telegram-bot's AIORateLimiter)."""
    pacer = getattr(getattr(app, "scheduler", None), "dispatcher", None)
    pacer = getattr(pacer, "pacer", None)
    return pacer if isinstance(pacer, SharedPacer) else None


def telegram_adapter(app: ChatCRM, role: str = "all") -> Any:
    from adapters.telegram import TelegramAdapter
    from adapters.telegram.rate_limit import PacedRateLimiter
    from adapters.telegram.receiver import worker_name

    pacer = send_pacer(app)
    return TelegramAdapter(app.settings, app.handle, commands=command_menu(), undelivered=app.undelivered,
                           inbox=app.open_inbox(worker_name()), parked_text=app.parked_text, role=role,
                           rate_limiter=PacedRateLimiter(pacer) if pacer is not None else None)


def slack_adapter(app: ChatCRM, role: str = "all") -> Any:
    from adapters.slack import SlackAdapter

    home = home_view(Database(app.engine), app.clock, "slack", app.settings.default_language)
    return SlackAdapter(app.settings, app.handle, home=home, undelivered=app.undelivered,
                        inbox=app.open_inbox(f"{socket.gethostname()}:{os.getpid()}"), parked_text=app.parked_text,
                        role=role, pacer=send_pacer(app))
