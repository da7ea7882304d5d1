"""The Slack App Home: the member's open follow-ups and recent customers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.i18n import t
from bot.render import esc, when
from core.chat import Button, Reply, Sender
from core.ports import Clock
from core.uow import Database
from core.usecases.followups import home_screen

HomeProvider = Callable[[Sender], Awaitable[Reply]]


def home_view(database: Database, clock: Clock, platform: str, default_language: str) -> HomeProvider:
    """A provider of the member's home screen on `platform`."""

    async def home(sender: Sender) -> Reply:
        with database.unit_of_work() as uow:
            screen = home_screen(uow, platform, sender.platform_user_id)
        if screen is None:
            return Reply(t(default_language, "core.not_member"))
        actor, now = screen.actor, clock.now()
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
