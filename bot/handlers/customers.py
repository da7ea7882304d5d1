"""/c (the customer card), /find (search notes), /customers, /important, and the card's buttons.

The views come from `core.usecases.customers`; this module only renders them.
"""

from __future__ import annotations

from bot.context import Ctx
from bot.handlers import deals
from bot.handlers.customer_admin import manage_row
from bot.handlers.pool import pool_card_line, pool_card_row
from bot.note_cards import distinct_labels
from bot.render import esc, when
from bot.router import button, command
from core.chat import Button, CommandIn, Reply
from core.usecases import customers
from core.usecases.customers import (
    ContactView,
    CustomerCardView,
    CustomerMatch,
    ImportantRequest,
    search_notes,
)
from core.usecases.views import CustomerRef

SNIPPET = 80


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…"


def _choices(found: tuple[CustomerRef, ...]) -> tuple[tuple[Button, ...], ...]:
    shown = list(found[:8])
    return tuple((Button(label, f"c:open:{c.id}"),) for c, label in zip(shown, distinct_labels(shown), strict=True))


def _pick(ctx: Ctx) -> list[Reply]:
    recent = customers.recent_customers(ctx.uow, ctx.actor)
    if not recent:
        return [Reply(ctx.t("customers.none_yet"))]
    return [Reply(ctx.t("customers.pick"), buttons=_choices(recent))]


def _unclear(ctx: Ctx, name: str, match: CustomerMatch) -> list[Reply]:
    if match.colleagues is not None:  # a colleague's customer: say whose, offer to ask for access
        text = ctx.t("customer_admin.colleagues_customer", customer=esc(match.colleagues.name),
                     owner=esc(match.owner or ""))
        ask = Button(ctx.t("customer_admin.btn_ask_access"), f"ac:req:{match.colleagues.id}")
        return [Reply(text, buttons=((ask,),))]
    if len(match.candidates) == 1:  # one close name: ask about it, not "which of several"
        text = ctx.t("customers.did_you_mean", name=esc(name), customer=esc(match.candidates[0].name))
        return [Reply(text, buttons=_choices(match.candidates))]
    if match.candidates:
        return [Reply(ctx.t("customers.which", name=esc(name)), buttons=_choices(match.candidates))]
    return [Reply(ctx.t("customers.unknown", name=esc(name)))]


@command("c")
def customer_card(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    name = ctx.incoming.args.strip()
    if not name:
        return _pick(ctx)
    match = customers.find_customer(ctx.uow, ctx.actor, name)
    if match.customer is None:
        return _unclear(ctx, name, match)
    return [render_card(ctx, customers.customer_card(ctx.uow, ctx.actor, match.customer.id))]


@button("c")
def customer_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    if len(parts) == 2 and parts[0] == "open" and parts[1].isdigit():
        return [render_card(ctx, customers.customer_card(ctx.uow, ctx.actor, int(parts[1])))]
    if len(parts) == 3 and parts[0] == "imp" and parts[1].isdigit() and parts[2] in ("0", "1"):
        customers.set_important(ctx.uow, ctx.actor, int(parts[1]), parts[2] == "1")
        return [render_card(ctx, customers.customer_card(ctx.uow, ctx.actor, int(parts[1])), edit=True)]
    return [Reply(ctx.t("core.stale_button"))]


@command("important")
def important(ctx: Ctx) -> list[Reply]:
    """`/important Acme [14|off]`: alert the owner once when Acme has been quiet that many days."""
    assert isinstance(ctx.incoming, CommandIn)
    request = ImportantRequest.parse(ctx.incoming.args)
    if not request.name or not request.days_in_range:
        return [Reply(ctx.t("settings.important_usage"))]
    result = customers.mark_important(ctx.uow, ctx.actor, request.name, request.important, request.quiet_days)
    customer = result.match.customer
    if customer is None:
        return _unclear(ctx, request.name, result.match)
    if not result.important:
        return [Reply(ctx.t("settings.important_off", customer=esc(customer.name)))]
    return [Reply(ctx.t("settings.important_set", customer=esc(customer.name), days=result.quiet_days))]


def render_card(ctx: Ctx, card: CustomerCardView, *, edit: bool = False) -> Reply:
    customer = card.customer
    lines = [f"🏢 <b>{esc(customer.name)}</b>"]
    if card.owner:
        lines.append(ctx.t("customer_admin.card_owner", owner=esc(card.owner)))
    if card.pool is not None:  # its time in the team's pool (bot.handlers.pool)
        lines.append(pool_card_line(ctx, card.pool))
    if card.aliases:
        lines.append(ctx.t("customers.aliases", aliases=esc(", ".join(card.aliases[:5]))))
    if card.phones:
        lines.append("📞 " + esc(", ".join(card.phones)))
    if card.emails:
        lines.append("✉️ " + esc(", ".join(card.emails)))
    if card.notes:
        lines.append("📝 " + esc(card.notes if len(card.notes) <= 200 else card.notes[:199] + "…"))
    for contact in card.contacts[:8]:
        lines.append(ctx.t("customers.contacts", contacts=_person(contact)))
    lines.append(ctx.t("customers.count", n=card.interaction_count))
    if card.visits:
        dates = ", ".join(when(at, tz=ctx.tz, language=ctx.language, now=ctx.now) for at in card.visits)
        lines.append(ctx.t("customer_admin.card_visits", dates=dates))
    if card.file_count:
        names = ", ".join(card.files) + (", …" if card.file_count > len(card.files) else "")
        lines.append(ctx.t("attachments.card_line", n=card.file_count, names=esc(names)))
    for interaction in card.recent:
        at = when(interaction.occurred_at, tz=ctx.tz, language=ctx.language, now=ctx.now)
        lines.append(f"• {at} {ctx.t(f'kinds.{interaction.kind}')}: {esc(_snippet(interaction.text))}")
    if card.follow_ups:
        lines.append(ctx.t("customers.open_follow_ups"))
        for follow_up in card.follow_ups:
            due = when(follow_up.due_at, tz=ctx.tz, language=ctx.language, now=ctx.now)
            lines.append(f"⏰ {due} {esc(follow_up.action)}")
    deal_lines, deal_row = deals.card_lines_and_row(ctx, customer.id, card.deals)  # issue 15 (bot.handlers.deals)
    lines += deal_lines
    if card.important:
        lines.append(ctx.t("settings.card_important", days=card.quiet_days))
    toggle = (Button(ctx.t("settings.btn_not_important"), f"c:imp:{customer.id}:0") if card.important
              else Button(ctx.t("settings.btn_important"), f"c:imp:{customer.id}:1"))
    rows = [(toggle,), deal_row]
    if card.pool is not None and card.pool.in_pool:  # read only until claimed
        rows = [pool_card_row(ctx, customer.id, may_assign=card.may_manage)]
    if card.may_manage:
        rows.append(manage_row(ctx, customer.id))
    return Reply("\n".join(lines), buttons=tuple(rows), edit=edit)


def _person(contact: ContactView) -> str:
    """`李副理 (副理) · +886912345678 · lee@acme.tw`"""
    name = contact.name + (f" ({contact.title})" if contact.title and contact.title not in contact.name else "")
    return " · ".join(esc(part) for part in (name, *contact.phones, contact.email) if part)


@command("find")
def find(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    words = ctx.incoming.args.strip()
    if not words:
        return [Reply(ctx.t("customers.find_usage"))]
    hits = search_notes(ctx.uow, ctx.actor, words, limit=10)
    if not hits:
        return [Reply(ctx.t("customers.find_none", words=esc(words)))]
    lines = [ctx.t("customers.find_header", words=esc(words), n=len(hits))]
    for hit in hits:
        at = when(hit.occurred_at, tz=ctx.tz, language=ctx.language, now=ctx.now)
        name = hit.customer.name if hit.customer else "?"
        lines.append(f"• <b>{esc(name)}</b> {at}: {esc(_snippet(hit.text))}")
    return [Reply("\n".join(lines))]


@command("customers")
def list_customers(ctx: Ctx) -> list[Reply]:
    return _pick(ctx)
