"""/c (the customer card), /find (search notes), /customers, and the Open customer button."""

from __future__ import annotations

from bot.context import Ctx
from bot.render import amount_text, esc, when
from bot.router import button, command
from core.chat import Button, CommandIn, Reply
from core.models import Customer
from core.services import customers as customer_service
from core.services.search import search_notes

SNIPPET = 80


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…"


@command("c", "customer", "客戶", "客户")
def customer_card(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    name = ctx.incoming.args.strip()
    if not name:
        recent = customer_service.list_customers(ctx.session, ctx.actor, limit=8)
        if not recent:
            return [Reply(ctx.t("customers.none_yet"))]
        return [Reply(ctx.t("customers.pick"), buttons=_choices(recent))]
    resolution = customer_service.resolve_customer(ctx.session, ctx.actor, name)
    if resolution.customer is not None:
        return [render_card(ctx, resolution.customer.id or 0)]
    if resolution.candidates:
        return [Reply(ctx.t("customers.which", name=esc(name)), buttons=_choices(list(resolution.candidates)))]
    return [Reply(ctx.t("customers.unknown", name=esc(name)))]


def _choices(found: list[Customer]) -> tuple[tuple[Button, ...], ...]:
    return tuple((Button(c.name[:40], f"c:open:{c.id}"),) for c in found[:8])


@button("c")
def customer_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    if len(parts) != 2 or parts[0] != "open" or not parts[1].isdigit():
        return [Reply(ctx.t("core.stale_button"))]
    return [render_card(ctx, int(parts[1]))]


def render_card(ctx: Ctx, customer_id: int) -> Reply:
    card = customer_service.customer_card(ctx.session, ctx.actor, customer_id)
    customer = card.customer
    lines = [f"🏢 <b>{esc(customer.name)}</b>"]
    if customer.aliases:
        lines.append(ctx.t("customers.aliases", aliases=esc(", ".join(customer.aliases[:5]))))
    if customer.phones:
        lines.append("📞 " + esc(", ".join(customer.phones)))
    if card.contacts:
        people = ", ".join(esc(c.name + (f" ({c.title})" if c.title else "")) for c in card.contacts[:8])
        lines.append(ctx.t("customers.contacts", contacts=people))
    lines.append(ctx.t("customers.count", n=card.interaction_count))
    for interaction in card.interactions:
        at = when(interaction.occurred_at, tz=ctx.tz, language=ctx.language, now=ctx.now)
        lines.append(f"• {at} {ctx.t(f'kinds.{interaction.kind}')}: "
                     f"{esc(_snippet(interaction.transcript or interaction.text))}")
    if card.follow_ups:
        lines.append(ctx.t("customers.open_follow_ups"))
        for follow_up in card.follow_ups:
            due = when(follow_up.due_at, tz=ctx.tz, language=ctx.language, now=ctx.now)
            lines.append(f"⏰ {due} {esc(follow_up.action)}")
    for deal in card.deals:
        amount = amount_text({"value": deal.amount, "currency": deal.currency}) if deal.amount else ""
        lines.append(f"💼 {esc(deal.title)} · {esc(deal.stage)} {esc(amount)}".rstrip())
    return Reply("\n".join(lines))


@command("find", "search", "f", "搜尋", "搜索")
def find(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    words = ctx.incoming.args.strip()
    if not words:
        return [Reply(ctx.t("customers.find_usage"))]
    hits = search_notes(ctx.session, ctx.actor, words, limit=10)
    if not hits:
        return [Reply(ctx.t("customers.find_none", words=esc(words)))]
    lines = [ctx.t("customers.find_header", words=esc(words), n=len(hits))]
    for interaction, customer in hits:
        at = when(interaction.occurred_at, tz=ctx.tz, language=ctx.language, now=ctx.now)
        lines.append(f"• <b>{esc(customer.name)}</b> {at}: {esc(_snippet(interaction.transcript or interaction.text))}")
    return [Reply("\n".join(lines))]


@command("customers", "list")
def list_customers(ctx: Ctx) -> list[Reply]:
    recent = customer_service.list_customers(ctx.session, ctx.actor, limit=8)
    if not recent:
        return [Reply(ctx.t("customers.none_yet"))]
    return [Reply(ctx.t("customers.pick"), buttons=_choices(recent))]
