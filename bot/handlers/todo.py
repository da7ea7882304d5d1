"""/todo (open follow-ups with Done / Snooze / the full card per item) and /done N (rendering only).

The list's ✅ and 🌅 buttons end in `:t` (LIST_MARK): a press redraws this list in place
(bot.handlers.nudges) instead of turning it into a one-line answer.
"""

from __future__ import annotations

from bot.context import Ctx
from bot.render import esc, when
from bot.router import command
from core.chat import Button, CommandIn, Reply
from core.usecases import followups

LIST_MARK = "t"


@command("todo")
def todo(ctx: Ctx) -> list[Reply]:
    return [todo_list(ctx)]


def todo_list(ctx: Ctx) -> Reply:
    """The open follow-ups as they are now, numbered, with their buttons."""
    items = followups.todo(ctx.uow, ctx.actor)
    if not items:
        return Reply(ctx.t("todo.empty"))
    lines = [ctx.t("todo.header", n=len(items))]
    rows: list[tuple[Button, ...]] = []
    for number, follow_up in enumerate(items, start=1):
        due = when(follow_up.due_at, tz=ctx.tz, language=ctx.language, now=ctx.now)
        late = " ⚠️" if follow_up.due_at <= ctx.now else ""
        name = esc(follow_up.customer.name) if follow_up.customer else ctx.t("todo.no_customer")
        lines.append(f"{number}. <b>{name}</b> · {esc(follow_up.action or '—')} · {due}{late}")
        rows.append((Button(f"✅ {number}", f"fu:done:{follow_up.id}:{LIST_MARK}"),
                     Button(f"🌅 {number}", f"fu:snz:{follow_up.id}:tm:{follow_up.stamp}:{LIST_MARK}"),
                     Button(f"⋯ {number}", f"fu:card:{follow_up.id}")))
    lines.append(ctx.t("todo.hint"))
    return Reply("\n".join(lines), buttons=tuple(rows))


@command("done")
def done(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    result = followups.done_by_number(ctx.uow, ctx.actor, ctx.now, ctx.incoming.args)
    if result.outcome == "usage" or result.follow_up is None:
        return [Reply(ctx.t("todo.done_usage", n=result.shown))]
    if result.outcome == "already_done":
        return [Reply(ctx.t("nudges.already_done"))]
    follow_up = result.follow_up
    return [Reply(ctx.t("todo.done", action=esc(follow_up.action or "—"),
                        customer=esc(follow_up.customer.name if follow_up.customer else "")))]
