"""Fixing customers in chat: rename, merge into another (pick, then confirm), delete (confirm).

Reached from the customer card's "⋯ Manage" row (`ca:` buttons) and, once `bot.commands.TABLE` lists them,
the commands merge / rename / delete with a customer's name. The rules are `core.usecases.customer_admin`'s.
"""

from __future__ import annotations

from collections.abc import Callable

from bot import commands
from bot.context import Ctx
from bot.note_cards import distinct_labels
from bot.render import esc
from bot.router import Handler, button, command, state
from core.chat import Button, ButtonIn, CommandIn, Reply, TextIn
from core.usecases import customer_admin, customers
from core.usecases.customer_admin import AdminResult, AdminStatus, Holdings

MAX_WORDS = 8  # a typed name longer than this is a sentence, not a name


def _if_listed(name: str) -> Callable[[Handler], Handler]:
    """`@command(name)` once the routing table has the command; until then the buttons reach the same flows."""
    spec = commands.resolve(name)
    if spec is None or spec.name != name:
        return lambda handler: handler
    return command(name)


def manage_row(ctx: Ctx, customer_id: int) -> tuple[Button, ...]:
    """The customer card's row that opens the management choices."""
    return (Button(ctx.t("customer_admin.btn_manage"), f"ca:menu:{customer_id}"),)


def _edit(ctx: Ctx) -> bool:
    """Draw over the pressed card (a button), or answer anew (a command)."""
    return isinstance(ctx.incoming, ButtonIn)


def _cancel(ctx: Ctx) -> Button:
    return Button(ctx.t("customer_admin.btn_cancel"), "ca:x:0")


def _counts(held: Holdings) -> dict[str, int]:
    return {"notes": held.interactions, "contacts": held.contacts, "follow_ups": held.follow_ups,
            "deals": held.deals}


def _refused(ctx: Ctx, result: AdminResult) -> list[Reply] | None:
    """The answer when the customer is gone or not the actor's to change; None to go on."""
    name = esc(result.customer.name) if result.customer else ""
    if result.status is AdminStatus.GONE:
        if result.customer and result.other:
            return [Reply(ctx.t("customer_admin.gone_merged", customer=name, other=esc(result.other.name)))]
        return [Reply(ctx.t("customer_admin.gone"))]
    if result.status is AdminStatus.NOT_ALLOWED:
        return [Reply(ctx.t("customer_admin.not_allowed", customer=name))]
    return None


def _menu(ctx: Ctx, customer_id: int) -> list[Reply]:
    result = customer_admin.holdings(ctx.uow, ctx.actor, customer_id)
    if (refused := _refused(ctx, result)) is not None:
        return refused
    assert result.customer is not None
    cid = result.customer.id
    rows = ((Button(ctx.t("customer_admin.btn_rename"), f"ca:rn:{cid}"),
             Button(ctx.t("customer_admin.btn_merge"), f"ca:mg:{cid}")),
            (Button(ctx.t("customer_admin.btn_delete"), f"ca:dl:{cid}"), _cancel(ctx)))
    return [Reply(ctx.t("customer_admin.manage", customer=esc(result.customer.name)), buttons=rows)]


def _ask_name(ctx: Ctx, customer_id: int) -> list[Reply]:
    result = customer_admin.holdings(ctx.uow, ctx.actor, customer_id)
    if (refused := _refused(ctx, result)) is not None:
        return refused
    assert result.customer is not None
    ctx.await_answer("customer_rename", {"customer": customer_id})
    return [Reply(ctx.t("customer_admin.type_name", customer=esc(result.customer.name)),
                  buttons=((_cancel(ctx),),))]


def _pick_target(ctx: Ctx, customer_id: int) -> list[Reply]:
    result = customer_admin.holdings(ctx.uow, ctx.actor, customer_id)
    if (refused := _refused(ctx, result)) is not None:
        return refused
    assert result.customer is not None
    name = esc(result.customer.name)
    targets = customer_admin.merge_targets(ctx.uow, ctx.actor, customer_id)
    if not targets:
        return [Reply(ctx.t("customer_admin.no_merge_targets", customer=name))]
    rows = [(Button(label, f"ca:mq:{customer_id}:{t.id}"),) for t, label in zip(targets, distinct_labels(targets),
                                                                            strict=True)]
    return [Reply(ctx.t("customer_admin.pick_merge", customer=name), buttons=(*rows, (_cancel(ctx),)))]


def _confirm_merge(ctx: Ctx, drop_id: int, keep_id: int) -> list[Reply]:
    drop = customer_admin.holdings(ctx.uow, ctx.actor, drop_id)
    keep = customer_admin.holdings(ctx.uow, ctx.actor, keep_id)
    for result in (drop, keep):
        if (refused := _refused(ctx, result)) is not None:
            return refused
    assert drop.customer is not None and keep.customer is not None
    text = ctx.t("customer_admin.confirm_merge", drop=esc(drop.customer.name), keep=esc(keep.customer.name),
                 **_counts(drop.holdings))
    buttons = ((Button(ctx.t("customer_admin.btn_confirm_merge"), f"ca:my:{drop_id}:{keep_id}"), _cancel(ctx)),)
    return [Reply(text, buttons=buttons, edit=_edit(ctx))]


def _merge(ctx: Ctx, drop_id: int, keep_id: int) -> list[Reply]:
    result = customer_admin.merge(ctx.uow, ctx.actor, drop_id, keep_id)
    if result.status is AdminStatus.UNCHANGED and result.customer and result.other:
        text = ctx.t("customer_admin.merged_already", drop=esc(result.customer.name), keep=esc(result.other.name))
        return [Reply(text, edit=True, notice=text)]
    if (refused := _refused(ctx, result)) is not None:
        return refused
    assert result.customer is not None and result.other is not None
    return [Reply(ctx.t("customer_admin.merged", drop=esc(result.customer.name), keep=esc(result.other.name),
                        **_counts(result.holdings)), edit=True,
                  buttons=((Button(ctx.t("customers.btn_open"), f"c:open:{result.other.id}"),),))]


def _confirm_delete(ctx: Ctx, customer_id: int) -> list[Reply]:
    result = customer_admin.holdings(ctx.uow, ctx.actor, customer_id)
    if (refused := _refused(ctx, result)) is not None:
        return refused
    assert result.customer is not None
    if not ctx.actor.sees_whole_team:
        return [Reply(ctx.t("customer_admin.delete_not_allowed"))]
    text = ctx.t("customer_admin.confirm_delete", customer=esc(result.customer.name), **_counts(result.holdings))
    buttons = ((Button(ctx.t("customer_admin.btn_confirm_delete"), f"ca:dy:{customer_id}"), _cancel(ctx)),)
    return [Reply(text, buttons=buttons, edit=_edit(ctx))]


def _delete(ctx: Ctx, customer_id: int) -> list[Reply]:
    result = customer_admin.delete(ctx.uow, ctx.actor, ctx.now, customer_id)
    if result.status is AdminStatus.NOT_ALLOWED:
        return [Reply(ctx.t("customer_admin.delete_not_allowed"))]
    if (refused := _refused(ctx, result)) is not None:
        return [Reply(refused[0].text, edit=True, notice=refused[0].text)]
    assert result.customer is not None
    return [Reply(ctx.t("customer_admin.deleted", customer=esc(result.customer.name)), edit=True)]


@button("ca")
def admin_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    verb, numbers = (parts[0] if parts else ""), [int(p) for p in parts[1:] if p.isascii() and p.isdigit()]
    if verb == "x":
        ctx.stop_waiting()
        return [Reply(ctx.t("customer_admin.cancelled"), edit=True)]
    one = {"menu": _menu, "rn": _ask_name, "mg": _pick_target, "dl": _confirm_delete, "dy": _delete}
    two = {"mq": _confirm_merge, "my": _merge}
    if verb in one and len(numbers) == 1 == len(parts) - 1:
        return one[verb](ctx, numbers[0])
    if verb in two and len(numbers) == 2 == len(parts) - 1:
        return two[verb](ctx, numbers[0], numbers[1])
    return [Reply(ctx.t("core.stale_button"))]


@state("customer_rename")
def typed_name(ctx: Ctx, payload: dict) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    customer_id, typed = int(payload.get("customer") or 0), ctx.incoming.text.strip()
    before = customer_admin.holdings(ctx.uow, ctx.actor, customer_id)
    if len(typed.split()) > MAX_WORDS or "\n" in typed:
        result = AdminResult(AdminStatus.BAD_NAME)
    else:
        result = customer_admin.rename(ctx.uow, ctx.actor, ctx.now, customer_id, typed)
    if result.status is AdminStatus.BAD_NAME:
        ctx.await_answer("customer_rename", payload)
        return [Reply(ctx.t("customer_admin.bad_name"), buttons=((_cancel(ctx),),))]
    if (refused := _refused(ctx, result)) is not None:
        return refused
    assert result.customer is not None
    name = esc(result.customer.name)
    if result.status is AdminStatus.CONFLICT and result.other is not None:
        buttons = ((Button(ctx.t("customer_admin.btn_confirm_merge"), f"ca:mq:{customer_id}:{result.other.id}"),
                    _cancel(ctx)),)
        return [Reply(ctx.t("customer_admin.rename_conflict", customer=name, other=esc(result.other.name)),
                      buttons=buttons)]
    if result.status is AdminStatus.UNCHANGED:
        return [Reply(ctx.t("customer_admin.rename_same", customer=name))]
    old = esc(before.customer.name) if before.customer else ""
    return [Reply(ctx.t("customer_admin.renamed", customer=name, old=old),
                  buttons=((Button(ctx.t("customers.btn_open"), f"c:open:{result.customer.id}"),),))]


def _by_name(ctx: Ctx, usage: str, then: Callable[[Ctx, int], list[Reply]]) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    name = ctx.incoming.args.strip()
    if not name:
        return [Reply(ctx.t(usage))]
    match = customers.find_customer(ctx.uow, ctx.actor, name)
    if match.customer is None:
        if match.candidates:
            shown = list(match.candidates[:8])
            rows = tuple((Button(label, f"c:open:{c.id}"),) for c, label in zip(shown, distinct_labels(shown),
                                                                                   strict=True))
            return [Reply(ctx.t("customers.which", name=esc(name)), buttons=rows)]
        return [Reply(ctx.t("customers.unknown", name=esc(name)))]
    return then(ctx, match.customer.id)


@_if_listed("merge")
def merge_command(ctx: Ctx) -> list[Reply]:
    return _by_name(ctx, "customer_admin.usage_merge", _pick_target)


@_if_listed("rename")
def rename_command(ctx: Ctx) -> list[Reply]:
    return _by_name(ctx, "customer_admin.usage_rename", _ask_name)


@_if_listed("delete")
def delete_command(ctx: Ctx) -> list[Reply]:
    return _by_name(ctx, "customer_admin.usage_delete", _confirm_delete)
