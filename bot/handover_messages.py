"""The summary a member gets when customers are handed over to them (`core.usecases.handover.HandedOver`):
the customers, their next follow-ups with local due times, the deals in progress with stage and amount.

Wired in the composition root: `ChatCRM.deliver` hands every `HandedOver` to `HandoverMessages.deliver` (after
the commit). A send that fails is logged; the handover is stored either way (the card and /todo show it)."""

from __future__ import annotations

import asyncio
import logging

from bot.context import Ctx, Deps
from bot.render import amount_text, esc, when
from core.chat import ChatRef, Envelope, Reply, Sender, TextIn
from core.uow import Database
from core.usecases.handover import HandedOver, summary_target

log = logging.getLogger(__name__)
SHOWN = 10  # follow-ups and deals listed; the rest are counted


class HandoverMessages:
    def __init__(self, deps: Deps, database: Database) -> None:
        self.deps, self.database = deps, database
        self._tasks: set[asyncio.Task[int]] = set()

    def deliver(self, event: HandedOver) -> None:
        task = asyncio.get_running_loop().create_task(self.send(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def send(self, event: HandedOver) -> int:
        """Send the summary now; 1 when it went out, else 0."""
        rendered = await asyncio.to_thread(self._render, event)
        if rendered is None:
            return 0
        chat, reply = rendered
        messenger = self.deps.messenger(chat.platform)
        if messenger is None:
            return 0
        try:
            await messenger.send(chat, reply)
        except Exception:
            log.exception("could not send the handover summary to member %s", event.member_id)
            return 0
        return 1

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _render(self, event: HandedOver) -> tuple[ChatRef, Reply] | None:
        with self.database.unit_of_work() as uow:
            target = summary_target(uow, event.member_id, list(self.deps.messengers))
            if target is None:
                return None
            now = self.deps.clock.now()
            ctx = Ctx(self.deps, uow, TextIn(Envelope(target.chat, Sender("", ""), "", now), ""), now, None,
                      target.language)
            return target.chat, Reply(summary_text(ctx, event, target.timezone))


def summary_text(ctx: Ctx, event: HandedOver, tz: str) -> str:
    glue = "、" if ctx.language.startswith("zh") else ", "
    lines = [ctx.t("handover.received", by=esc(event.by), giver=esc(event.giver))]
    if event.customers:
        names = glue.join(esc(n) for n in event.customers[:30])
        if len(event.customers) > 30:
            names += " " + ctx.t("handover.received_more", n=len(event.customers) - 30)
        lines.append(ctx.t("handover.received_customers", names=names))
    if event.follow_ups:
        lines.append(ctx.t("handover.received_follow_ups"))
        for line in event.follow_ups[:SHOWN]:
            due = when(line.due_at, tz=tz, language=ctx.language, now=ctx.now)
            what = " · ".join(esc(p) for p in (line.customer, line.action) if p)
            lines.append(f"• {due} — {what}" if what else f"• {due}")
        if len(event.follow_ups) > SHOWN:
            lines.append(ctx.t("handover.received_more", n=len(event.follow_ups) - SHOWN))
    if event.deals:
        lines.append(ctx.t("handover.received_deals"))
        for deal in event.deals[:SHOWN]:
            amount = (" · " + amount_text({"value": float(deal.amount), "currency": deal.currency}, language=ctx.language)
                      if deal.amount is not None and deal.currency else "")
            lines.append(f"• {esc(deal.customer)} · {esc(deal.title)} · {esc(deal.stage)}{amount}")
        if len(event.deals) > SHOWN:
            lines.append(ctx.t("handover.received_more", n=len(event.deals) - SHOWN))
    return "\n".join(lines)
