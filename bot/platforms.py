"""Wiring of the platform adapters to the app: command menus, the Slack App Home."""

from __future__ import annotations

import os
import socket
from typing import Any

from bot.app_home import home_view
from bot.bootstrap import ChatCRM
from bot.commands import MENU
from bot.i18n import LANGUAGES, catalogue
from core.uow import Database


def command_menu() -> dict[str, list[tuple[str, str]]]:
    """The command menu in each language, from the `menu` catalogue."""
    return {language: [(name, catalogue(language)[f"menu.{name}"]) for name in MENU] for language in LANGUAGES}


def telegram_adapter(app: ChatCRM, role: str = "all") -> Any:
    from adapters.telegram import TelegramAdapter
    from adapters.telegram.receiver import worker_name

    return TelegramAdapter(app.settings, app.handle, commands=command_menu(), undelivered=app.undelivered,
                           inbox=app.open_inbox(worker_name()), parked_text=app.parked_text, role=role)


def slack_adapter(app: ChatCRM, role: str = "all") -> Any:
    from adapters.slack import SlackAdapter

    home = home_view(Database(app.engine), app.clock, "slack", app.settings.default_language)
    return SlackAdapter(app.settings, app.handle, home=home, undelivered=app.undelivered,
                        inbox=app.open_inbox(f"{socket.gethostname()}:{os.getpid()}"), parked_text=app.parked_text,
                        role=role)
