"""Wiring of the platform adapters to the app: command menus, the Slack App Home."""

from __future__ import annotations

from typing import Any

from bot.bootstrap import ChatCRM
from bot.commands import MENU
from bot.i18n import LANGUAGES, catalogue, t
from bot.render import esc, when
from core.chat import Button, Reply, Sender
from core.uow import unit_of_work
from core.usecases.followups import home_screen


def command_menu() -> dict[str, list[tuple[str, str]]]:
    """The command menu in each language, from the `menu` catalogue."""
    return {language: [(name, catalogue(language)[f"menu.{name}"]) for name in MENU] for language in LANGUAGES}


def home_view(app: ChatCRM, platform: str) -> Any:
    """A provider of the member's home screen: open follow-ups and recent customers."""

    async def home(sender: Sender) -> Reply:
        with unit_of_work(app.engine) as uow:
            screen = home_screen(uow, platform, sender.platform_user_id)
        if screen is None:
            return Reply(t(app.settings.default_language, "core.not_member"))
        actor, now = screen.actor, app.clock.now()
        lines = [f"<b>{t(actor.language, 'home.follow_ups')}</b>"]
        rows: list[tuple[Button, ...]] = []
        for follow_up in screen.follow_ups:
            due = when(follow_up.due_at, tz=actor.timezone, language=actor.language, now=now)
            customer = follow_up.customer
            lines.append(f"• {due} <b>{esc(customer.name if customer else '—')}</b> {esc(follow_up.action)}")
            rows.append((Button(f"✅ {customer.name[:20] if customer else follow_up.id}", f"fu:done:{follow_up.id}"),))
        if len(lines) == 1:
            lines.append(t(actor.language, "todo.empty"))
        lines.append(f"\n<b>{t(actor.language, 'home.customers')}</b>")
        lines += [f"• {esc(customer.name)}" for customer in screen.customers]
        return Reply("\n".join(lines), buttons=tuple(rows[:5]))

    return home


def telegram_adapter(app: ChatCRM) -> Any:
    from adapters.telegram import TelegramAdapter

    return TelegramAdapter(app.settings, app.handle, commands=command_menu())


def slack_adapter(app: ChatCRM) -> Any:
    from adapters.slack import SlackAdapter

    return SlackAdapter(app.settings, app.handle, home=home_view(app, "slack"))
