"""/pool (公海, 客戶池, 客户池): the team's customer pool, paged, with Claim (and, for owners and managers, Assign)
per customer; `/pool on 60`, `/pool off`, `/pool limit 5`, `/pool warn 3` for owners and managers.

Buttons (`pl:`): `claim:<customer>[:<note>]` (a held note is filed on the customer once claimed),
`asg:<customer>` (choose a member), `to:<customer>:<member>`, `page:<n>`. Every press is checked again by
`core.usecases.customer_pool` (the actor's team and role): a forged payload finds nothing.
"""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date

from bot.context import Ctx
from bot.i18n import babel_locale
from bot.note_cards import card_for
from bot.render import esc, local, when
from bot.router import button, command
from core.chat import Button, CommandIn, Reply
from core.usecases import customer_pool, note_filing
from core.usecases.customer_pool import (
    ClaimResult,
    ClaimStatus,
    PoolHistory,
    PoolPage,
    PoolSettings,
    SettingChange,
)


def _day(ctx: Ctx, at: datetime) -> str:
    return format_date(local(at, ctx.tz).date(), format="medium", locale=babel_locale(ctx.language))


def _digit(text: str) -> bool:
    return text.isascii() and text.isdigit()


@command("pool")
def pool(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    args = ctx.incoming.args.strip()
    if not args:
        return [_page(ctx, customer_pool.pool_page(ctx.uow, ctx.actor))]
    result = customer_pool.change_settings(ctx.uow, ctx.actor, args)
    keys = {SettingChange.ON: "pool.now_on", SettingChange.OFF: "pool.now_off", SettingChange.LIMIT: "pool.limit_set",
            SettingChange.WARN: "pool.warn_set"}
    if result.change is SettingChange.SHOWN:
        return [Reply(_settings_line(ctx, result.settings))]
    return [Reply(ctx.t(keys[result.change]) + "\n" + _settings_line(ctx, result.settings))]


def _settings_line(ctx: Ctx, settings: PoolSettings) -> str:
    if not settings.enabled:
        return ctx.t("pool.settings_off")
    return ctx.t("pool.settings_on", period=ctx.t("pool.span", days=settings.days),
                 warning=ctx.t("pool.span", days=settings.warn_days), limit=settings.claim_limit)


def _page(ctx: Ctx, page: PoolPage, *, edit: bool = False) -> Reply:
    lines = [ctx.t("pool.title"), _settings_line(ctx, page.settings)]
    if not page.entries:
        lines.append(ctx.t("pool.empty"))
    else:
        lines.append(ctx.t("pool.count", n=page.settings.size))
    rows: list[tuple[Button, ...]] = []
    for number, entry in enumerate(page.entries, start=page.page * customer_pool.PAGE + 1):
        parts = [f"{number}. <b>{esc(entry.customer.name)}</b>"]
        if entry.region:
            parts.append(esc(entry.region))
        parts.append(ctx.t("pool.days_in_pool", days=max(0, (ctx.now - entry.pooled_at).days)))
        if entry.last_interaction_at is not None:
            parts.append(ctx.t("pool.last_note", date=_day(ctx, entry.last_interaction_at)))
        if entry.previous_owner:
            parts.append(ctx.t("pool.was_owner", owner=esc(entry.previous_owner)))
        lines.append(" · ".join(parts))
        row = [Button(ctx.t("pool.btn_claim", customer=entry.customer.name[:30]), f"pl:claim:{entry.customer.id}")]
        if page.may_assign:
            row.append(Button(ctx.t("pool.btn_assign"), f"pl:asg:{entry.customer.id}"))
        rows.append(tuple(row))
    paging = []
    if page.page > 0:
        paging.append(Button(ctx.t("pool.btn_previous"), f"pl:page:{page.page - 1}"))
    if page.page + 1 < page.pages:
        paging.append(Button(ctx.t("pool.btn_next"), f"pl:page:{page.page + 1}"))
    if paging:
        lines.append(ctx.t("pool.page", page=page.page + 1, pages=page.pages))
        rows.append(tuple(paging))
    if page.may_assign:
        lines.append(ctx.t("pool.manager_help"))
    return Reply("\n".join(lines), buttons=tuple(rows), edit=edit)


@button("pl")
def pool_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    verb, numbers = (parts[0], parts[1:]) if parts else ("", [])
    if not numbers or not all(_digit(n) for n in numbers):
        return [Reply(ctx.t("core.stale_button"))]
    ids = [int(n) for n in numbers]
    if verb == "page" and len(ids) == 1:
        return [_page(ctx, customer_pool.pool_page(ctx.uow, ctx.actor, ids[0]), edit=True)]
    if verb == "claim" and len(ids) in (1, 2):
        result = customer_pool.claim(ctx.uow, ctx.actor, ctx.now, ids[0])
        if len(ids) == 2 and result.status in (ClaimStatus.CLAIMED, ClaimStatus.YOURS):
            return _claimed_with_note(ctx, result, ids[1])
        return _claimed(ctx, result)
    if verb == "asg" and len(ids) == 1:
        customer, members = customer_pool.assign_choices(ctx.uow, ctx.actor, ids[0])
        rows = tuple((Button(m.name[:40], f"pl:to:{customer.id}:{m.id}"),) for m in members)
        return [Reply(ctx.t("pool.assign_to_whom", customer=esc(customer.name)), buttons=rows)]
    if verb == "to" and len(ids) == 2:
        return _claimed(ctx, customer_pool.assign(ctx.uow, ctx.actor, ctx.now, ids[0], ids[1]))
    return [Reply(ctx.t("core.stale_button"))]


def _claimed(ctx: Ctx, result: ClaimResult) -> list[Reply]:
    values = {"customer": esc(result.customer.name), "owner": esc(result.owner or "?")}
    if result.status is ClaimStatus.CLAIMED:
        opened = Button(ctx.t("pool.btn_open_card"), f"c:open:{result.customer.id}")
        return [Reply(ctx.t("pool.claimed", **values), buttons=((opened,),))]
    if result.status is ClaimStatus.ASSIGNED:
        return [Reply(ctx.t("pool.assigned", **values))]
    if result.status is ClaimStatus.YOURS:
        text = ctx.t("pool.yours_already", **values)
        return [Reply(text, notice=text)]
    if result.status is ClaimStatus.LIMIT:
        if result.next_at is None:
            return [Reply(ctx.t("pool.claims_by_managers"))]
        text = ctx.t("pool.limit_reached", limit=result.limit, date=when(result.next_at, tz=ctx.tz,
                                                                         language=ctx.language, now=ctx.now))
        return [Reply(text, notice=text)]
    text = ctx.t("pool.taken", **values) if result.owner else ctx.t("pool.gone", **values)
    return [Reply(text, notice=text)]


def _claimed_with_note(ctx: Ctx, result: ClaimResult, interaction_id: int) -> list[Reply]:
    """Claimed from a held note's card: the note is filed on the customer now (its card replaces the question)."""
    filed = note_filing.file_note(ctx.uow, ctx.actor, interaction_id, result.customer.id)
    replies = _claimed(ctx, result) if result.status is ClaimStatus.CLAIMED else []
    if filed.note is not None:
        replies.insert(0, card_for(ctx, filed.note, edit=True))
    return replies


# -- the customer card's pool line and buttons (bot.handlers.customers.render_card) --------------------------

def pool_card_line(ctx: Ctx, history: PoolHistory) -> str:
    values = {"date": _day(ctx, history.returned_at), "owner": esc(history.returned_from or "?")}
    if history.in_pool:
        return ctx.t("pool.card_in_pool", **values)
    if history.assigned_at is None:
        return ctx.t("pool.card_returned", **values)
    key = "pool.card_claimed" if history.claimed else "pool.card_assigned"
    return ctx.t(key, **values, member=esc(history.assigned_to or "?"), since=_day(ctx, history.assigned_at))


def pool_card_row(ctx: Ctx, customer_id: int, *, may_assign: bool) -> tuple[Button, ...]:
    row = (Button(ctx.t("pool.btn_claim_it"), f"pl:claim:{customer_id}"),)
    return row + ((Button(ctx.t("pool.btn_assign"), f"pl:asg:{customer_id}"),) if may_assign else ())
