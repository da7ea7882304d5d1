"""Access to a colleague's customer: "ask for access" on a note card, Approve / Decline on the request.

The request and the answer reach the other member through `bot.access_requests` (after the commit)."""

from __future__ import annotations

from bot.context import Ctx
from bot.render import esc
from bot.router import button
from core.chat import Button, Reply
from core.usecases.access import AccessRequestView, AccessResult, AccessStatus, decide_access, request_access


def request_buttons(ctx: Ctx, request: AccessRequestView) -> tuple[tuple[Button, ...], ...]:
    """Approve / Decline under a request."""
    return ((Button(ctx.t("customer_admin.btn_approve"), f"ac:ok:{request.id}"),
             Button(ctx.t("customer_admin.btn_decline"), f"ac:no:{request.id}")),)


@button("ac")
def access_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    if len(parts) != 2 or not (parts[1].isascii() and parts[1].isdigit()):
        return [Reply(ctx.t("core.stale_button"))]
    verb, number = parts[0], int(parts[1])
    if verb == "req":
        return _asked(ctx, request_access(ctx.uow, ctx.actor, ctx.now, number))
    if verb in ("ok", "no"):
        return _decided(ctx, decide_access(ctx.uow, ctx.actor, ctx.now, number, grant=verb == "ok"))
    return [Reply(ctx.t("core.stale_button"))]


def _asked(ctx: Ctx, result: AccessResult) -> list[Reply]:
    request = result.request
    if result.status is AccessStatus.SEES or request is None:
        name = esc(result.customer.name) if result.customer else ""
        return [Reply(ctx.t("customer_admin.sees_already", customer=name))]
    values = {"customer": esc(request.customer.name), "owner": esc(request.owner)}
    key = "customer_admin.ask_sent" if result.status is AccessStatus.REQUESTED else "customer_admin.ask_pending"
    return [Reply(ctx.t(key, **values), notice=ctx.t(key, **values))]


def _decided(ctx: Ctx, result: AccessResult) -> list[Reply]:
    request = result.request
    assert request is not None
    values = {"customer": esc(request.customer.name), "requester": esc(request.requester)}
    if result.status is AccessStatus.NOT_ALLOWED:
        return [Reply(ctx.t("customer_admin.not_your_call", **values))]
    if result.status is AccessStatus.DECIDED:
        key = "customer_admin.already_granted" if request.status == "granted" else "customer_admin.already_declined"
        return [Reply(ctx.t(key, **values), notice=ctx.t(key, **values))]
    key = "customer_admin.approved" if result.status is AccessStatus.GRANTED else "customer_admin.declined"
    return [Reply(ctx.t(key, **values), edit=True)]
