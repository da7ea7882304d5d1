"""The summary a member gets when customers are handed over to them (`core.usecases.handover.HandedOver`):
the customers, their next follow-ups with local due times, the deals in progress with stage and amount; and the
line a nudge carries when it reaches a colleague covering for the member (`covering_note`, given to
`core.scheduling.senders.NudgeDelivery` as `covering`).

Wired in the composition root: `ChatCRM.deliver` hands every `HandedOver` to `HandoverMessages.deliver` (after
the commit). A send that fails is logged; the handover is stored either way (the card and /todo show it)."""

from __future__ import annotations

from dataclasses import replace

from bot.context import Ctx
from bot.i18n import t
from bot.member_messages import OwnMessages
from bot.render import amount_text, esc, when
from core.chat import Reply
from core.usecases.handover import HandedOver
from core.usecases.member_chats import MemberChat

SHOWN = 10  # follow-ups and deals listed; the rest are counted


class HandoverMessages(OwnMessages[HandedOver]):
    def render(self, ctx: Ctx, event: HandedOver, to: MemberChat) -> str:
        return summary_text(ctx, event, to.timezone)


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


def covering_note(reply: Reply, language: str, member: str) -> Reply:
    """A nudge of `member`'s follow-up sent to the colleague covering them: "🤝 Covering for 陳小姐" first."""
    return replace(reply, text=f"{t(language, 'handover.covering_for', member=esc(member))}\n{reply.text}")
