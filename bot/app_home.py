"""The Slack App Home (the member's open follow-ups and recent customers), and the bot's words the Slack
adapter needs on its own (the pointer to the DM after a long `/crm` answer)."""

from __future__ import annotations

from bot.i18n import normalize_language, t
from bot.render import esc, when
from core.chat import Button, Reply, Sender
from core.ports import Clock
from core.uow import Database
from core.usecases.followups import home_screen


class SlackHome:
    """`await home(sender)`: the member's home screen on `platform`; `await home.pointer(sender, url)`: "the
    answer is in our DM" in the member's language (a stranger's: their Slack locale)."""

    def __init__(self, database: Database, clock: Clock, platform: str, default_language: str) -> None:
        self.database, self.clock, self.platform, self.default_language = database, clock, platform, default_language

    def _stranger_language(self, sender: Sender) -> str:
        return normalize_language(sender.language_code, self.default_language)

    async def __call__(self, sender: Sender) -> Reply:
        with self.database.unit_of_work() as uow:
            screen = home_screen(uow, self.platform, sender.platform_user_id)
        if screen is None:
            return Reply(t(self._stranger_language(sender), "core.not_member"))
        actor, now = screen.actor, self.clock.now()
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

    async def pointer(self, sender: Sender, dm_url: str) -> str:
        with self.database.unit_of_work() as uow:
            screen = home_screen(uow, self.platform, sender.platform_user_id, follow_ups=0, customers=0)
        language = screen.actor.language if screen is not None else self._stranger_language(sender)
        return t(language, "slack.answer_in_dm", url=esc(dm_url))


def home_view(database: Database, clock: Clock, platform: str, default_language: str) -> SlackHome:
    """The home provider for `platform` (what bot/platforms.py passes to the Slack adapter as `home=`)."""
    return SlackHome(database, clock, platform, default_language)
