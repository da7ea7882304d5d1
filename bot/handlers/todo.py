"""/todo (open follow-ups with Done / Snooze / the full card per item) and /done N.

The list's ✅ and 🌅 buttons end in `:t` (LIST_MARK): a press redraws this list in place
(bot.handlers.nudges) instead of turning it into a one-line answer.
"""

from __future__ import annotations

from bot.context import Ctx
from bot.notifier import stamp
from bot.render import esc, when
from bot.router import command
from core.chat import Button, CommandIn, Reply
from core.services import followups

SHOWN = 10
LIST_MARK = "t"


@command("todo")
def todo(ctx: Ctx) -> list[Reply]:
    return [todo_list(ctx)]


def todo_list(ctx: Ctx) -> Reply:
    """The open follow-ups as they are now, numbered, with their buttons."""
    items = followups.open_for(ctx.uow.session, ctx.actor, limit=SHOWN)
    if not items:
        return Reply(ctx.t("todo.empty"))
    lines = [ctx.t("todo.header", n=len(items))]
    rows: list[tuple[Button, ...]] = []
    for number, (follow_up, customer) in enumerate(items, start=1):
        due = when(follow_up.due_at, tz=ctx.tz, language=ctx.language, now=ctx.now)
        late = " ⚠️" if follow_up.due_at <= ctx.now else ""
        name = esc(customer.name) if customer else ctx.t("todo.no_customer")
        lines.append(f"{number}. <b>{name}</b> · {esc(follow_up.action or '—')} · {due}{late}")
        rows.append((Button(f"✅ {number}", f"fu:done:{follow_up.id}:{LIST_MARK}"),
                     Button(f"🌅 {number}", f"fu:snz:{follow_up.id}:tm:{stamp(follow_up)}:{LIST_MARK}"),
                     Button(f"⋯ {number}", f"fu:card:{follow_up.id}")))
    lines.append(ctx.t("todo.hint"))
    return Reply("\n".join(lines), buttons=tuple(rows))


@command("done")
def done(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    arg = ctx.incoming.args.strip()
    items = followups.open_for(ctx.uow.session, ctx.actor, limit=SHOWN)
    if not arg.isdigit() or not 1 <= int(arg) <= len(items):
        return [Reply(ctx.t("todo.done_usage", n=len(items)))]
    follow_up, customer = items[int(arg) - 1]
    _, changed = followups.complete(ctx.uow.session, ctx.actor, follow_up.id or 0)
    if not changed:
        return [Reply(ctx.t("nudges.already_done"))]
    return [Reply(ctx.t("todo.done", action=esc(follow_up.action or "—"),
                        customer=esc(customer.name if customer else "")))]
