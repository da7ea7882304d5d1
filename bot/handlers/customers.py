"""/c (the customer card), /find (search notes), /customers, /important, and the card's buttons."""

from __future__ import annotations

from bot.context import Ctx
from bot.render import amount_text, esc, when
from bot.router import button, command
from core.chat import Button, CommandIn, Reply
from core.models import Customer, Team
from core.services import customers as customer_service
from core.services.search import search_notes

SNIPPET = 80


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…"


@command("c")
def customer_card(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    name = ctx.incoming.args.strip()
    if not name:
        recent = customer_service.list_customers(ctx.uow.session, ctx.actor, limit=8)
        if not recent:
            return [Reply(ctx.t("customers.none_yet"))]
        return [Reply(ctx.t("customers.pick"), buttons=_choices(recent))]
    resolution = customer_service.resolve_customer(ctx.uow.session, ctx.actor, name)
    if resolution.customer is not None:
        return [render_card(ctx, resolution.customer.id or 0)]
    if resolution.candidates:
        return [Reply(ctx.t("customers.which", name=esc(name)), buttons=_choices(list(resolution.candidates)))]
    return [Reply(ctx.t("customers.unknown", name=esc(name)))]


def _choices(found: list[Customer]) -> tuple[tuple[Button, ...], ...]:
    return tuple((Button(c.name[:40], f"c:open:{c.id}"),) for c in found[:8])


@button("c")
def customer_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    if len(parts) == 2 and parts[0] == "open" and parts[1].isdigit():
        return [render_card(ctx, int(parts[1]))]
    if len(parts) == 3 and parts[0] == "imp" and parts[1].isdigit() and parts[2] in ("0", "1"):
        customer_service.set_important(ctx.uow.session, ctx.actor, int(parts[1]), parts[2] == "1")
        card = render_card(ctx, int(parts[1]))
        return [Reply(card.text, buttons=card.buttons, edit=True)]
    return [Reply(ctx.t("core.stale_button"))]


def _quiet_days(ctx: Ctx, customer: Customer) -> int:
    team = ctx.uow.session.get(Team, customer.team_id)
    return customer.silent_days or (team.silent_days if team else 30)


IMPORTANT_OFF = {"off", "no", "none", "不重要", "取消", "關", "关"}


@command("important")
def important(ctx: Ctx) -> list[Reply]:
    """`/important Acme [14|off]`: alert the owner once when Acme has been quiet that many days."""
    assert isinstance(ctx.incoming, CommandIn)
    words = ctx.incoming.args.split()
    flag, days = True, None
    if len(words) > 1 and words[-1].lower() in IMPORTANT_OFF:
        flag, words = False, words[:-1]
    elif len(words) > 1 and (number := words[-1].lower().removesuffix("天").removesuffix("days")).isdigit():
        days, words = int(number), words[:-1]
    name = " ".join(words)
    if not name:
        return [Reply(ctx.t("settings.important_usage"))]
    resolution = customer_service.resolve_customer(ctx.uow.session, ctx.actor, name)
    if resolution.customer is None:
        if resolution.candidates:
            return [Reply(ctx.t("customers.which", name=esc(name)), buttons=_choices(list(resolution.candidates)))]
        return [Reply(ctx.t("customers.unknown", name=esc(name)))]
    customer, _ = customer_service.set_important(ctx.uow.session, ctx.actor, resolution.customer.id or 0, flag, days)
    if not flag:
        return [Reply(ctx.t("settings.important_off", customer=esc(customer.name)))]
    return [Reply(ctx.t("settings.important_set", customer=esc(customer.name), days=_quiet_days(ctx, customer)))]


def render_card(ctx: Ctx, customer_id: int) -> Reply:
    card = customer_service.customer_card(ctx.uow.session, ctx.actor, customer_id)
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
    if customer.important:
        lines.append(ctx.t("settings.card_important", days=_quiet_days(ctx, customer)))
    toggle = (Button(ctx.t("settings.btn_not_important"), f"c:imp:{customer.id}:0") if customer.important
              else Button(ctx.t("settings.btn_important"), f"c:imp:{customer.id}:1"))
    return Reply("\n".join(lines), buttons=((toggle,),))


@command("find")
def find(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    words = ctx.incoming.args.strip()
    if not words:
        return [Reply(ctx.t("customers.find_usage"))]
    hits = search_notes(ctx.uow.session, ctx.actor, words, limit=10)
    if not hits:
        return [Reply(ctx.t("customers.find_none", words=esc(words)))]
    lines = [ctx.t("customers.find_header", words=esc(words), n=len(hits))]
    for interaction, customer in hits:
        at = when(interaction.occurred_at, tz=ctx.tz, language=ctx.language, now=ctx.now)
        lines.append(f"• <b>{esc(customer.name)}</b> {at}: {esc(_snippet(interaction.transcript or interaction.text))}")
    return [Reply("\n".join(lines))]


@command("customers")
def list_customers(ctx: Ctx) -> list[Reply]:
    recent = customer_service.list_customers(ctx.uow.session, ctx.actor, limit=8)
    if not recent:
        return [Reply(ctx.t("customers.none_yet"))]
    return [Reply(ctx.t("customers.pick"), buttons=_choices(recent))]
