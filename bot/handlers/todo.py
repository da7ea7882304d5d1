"""/todo (open follow-ups with Done / Snooze / the full card per item) and /done N (rendering only).

The numbers are the list as the member was shown it (`followups.todo_shown` remembers it per chat):
`/done N` closes the N-th of that list; sent again it says "already done"; without a shown list it shows
the list first.

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
    items = followups.todo_shown(ctx.uow, ctx.actor, ctx.now, ctx.chat_key)
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
    result = followups.done_by_number(ctx.uow, ctx.actor, ctx.now, ctx.incoming.args, ctx.chat_key)
    if result.outcome == "no_list":
        shown = todo_list(ctx)
        if not shown.buttons:
            return [shown]
        return [Reply(f"{ctx.t('note_edits.list_first')}\n\n{shown.text}", buttons=shown.buttons)]
    if result.outcome == "usage" or result.follow_up is None:
        return [Reply(ctx.t("todo.done_usage", n=result.shown))]
    follow_up = result.follow_up
    key = "note_edits.done_already" if result.outcome == "already_done" else "todo.done"
    return [Reply(ctx.t(key, action=esc(follow_up.action or "—"),
                        customer=esc(follow_up.customer.name if follow_up.customer else "")))]
