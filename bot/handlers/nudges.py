"""Done / Snooze / Reschedule on a nudge or /todo, the per-item card, and /status (rendering only).

Buttons carry the due minute of the card they were drawn on (`notifier.stamp`): a press on a card
whose follow-up was moved or closed since changes nothing and says where it is now. A press on the
/todo list (payload ending in `todo.LIST_MARK`) redraws the list in place, the outcome as a toast.
/status names delivery problems in the member's language from their failure kind (core.delivery).
"""

from __future__ import annotations

import html
import re

from bot.context import Ctx
from bot.handlers.todo import LIST_MARK, todo_list
from bot.notifier import render_nudge
from bot.render import esc, when
from bot.router import button, command, state
from core.chat import Reply, TextIn
from core.delivery import FailureKind
from core.services.errors import NotFound
from core.usecases import followups
from core.usecases.followup_cards import Problem
from core.usecases.views import FollowUpView

# the catalogue key naming why a nudge is listed on /status; any other kind is the platform's refusal
REASONS = {FailureKind.rate_limited: "nudges.reason_rate_limited", FailureKind.unreachable: "nudges.reason_unreachable",
           FailureKind.no_chat: "nudges.reason_no_chat", FailureKind.uncertain: "nudges.reason_uncertain"}


def _id(raw: str) -> int:
    if not raw.isdigit():
        raise NotFound("bad id")
    return int(raw)


def _due(ctx: Ctx, follow_up: FollowUpView) -> str:
    return when(follow_up.due_at, tz=ctx.tz, language=ctx.language, now=ctx.now)


def _plain(text: str) -> str:
    """A toast shows plain text: no tags, no entities."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _answer(text: str, *, edit: bool = True) -> list[Reply]:
    return [Reply(text, edit=edit, notice=_plain(text))]


@button("fu")
def follow_up_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    if len(parts) > 2 and parts[-1] == LIST_MARK:  # pressed on the /todo list: redraw it as it is now
        replies = _follow_up_action(ctx, parts[:-1])
        if replies and replies[0].edit:
            outcome = replies[0].text
            fresh = todo_list(ctx)
            return [Reply(f"{outcome}\n\n{fresh.text}", buttons=fresh.buttons, edit=True, notice=_plain(outcome))]
        return replies
    return _follow_up_action(ctx, parts)


def _follow_up_action(ctx: Ctx, parts: list[str]) -> list[Reply]:
    if len(parts) < 2:
        return [Reply(ctx.t("core.stale_button"))]
    verb, follow_up_id = parts[0], _id(parts[1])
    if verb == "done":
        done = followups.complete(ctx.uow, ctx.actor, ctx.now, follow_up_id)
        key = "nudges.done" if done.changed else "nudges.already_done"
        return _answer(ctx.t(key, action=esc(done.follow_up.action or "—")))
    drawn_for = parts[3] if verb == "snz" and len(parts) == 4 else parts[2] if verb == "rs" and len(parts) == 3 else None
    if verb == "snz" and len(parts) >= 3:
        return _moved(ctx, followups.snooze(ctx.uow, ctx.actor, ctx.now, follow_up_id, parts[2], drawn_for),
                      "nudges.snoozed")
    opened = followups.open_follow_up(ctx.uow, ctx.actor, follow_up_id, drawn_for)
    if opened.state == "closed":
        return _answer(ctx.t("nudges.already_done"))
    if verb == "card":
        return [render_nudge(followups.card(ctx.uow, ctx.actor, follow_up_id), ctx.now)]
    if opened.state == "stale":
        return _answer(ctx.t("nudges.already_moved", due=_due(ctx, opened.follow_up)))
    if verb == "rs":
        ctx.await_answer("fu_time", {"follow_up": follow_up_id, "stamp": opened.follow_up.stamp})
        return [Reply(ctx.t("nudges.type_time", action=esc(opened.follow_up.action or "—")))]
    return [Reply(ctx.t("core.stale_button"))]


def _moved(ctx: Ctx, result: followups.MoveResult, key: str, *, edit: bool = True) -> list[Reply]:
    follow_up = result.follow_up
    if result.outcome == "closed":
        return _answer(ctx.t("nudges.already_done"), edit=edit)
    if result.outcome in ("stale", "unchanged"):
        return _answer(ctx.t("nudges.already_moved", due=_due(ctx, follow_up)), edit=edit)
    if result.outcome == "unknown":
        return [Reply(ctx.t("core.stale_button"))]
    return _answer(ctx.t(key, due=_due(ctx, follow_up)), edit=edit)


@state("fu_time")
def typed_time(ctx: Ctx, payload: dict) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    drawn_for = payload.get("stamp")
    result = followups.reschedule(ctx.uow, ctx.actor, ctx.now, _id(str(payload.get("follow_up"))),
                                  ctx.incoming.text, drawn_for if isinstance(drawn_for, str) else None)
    if result.outcome in ("bad", "past"):
        ctx.await_answer("fu_time", payload)
        return [Reply(ctx.t("nudges.past_time" if result.outcome == "past" else "nudges.bad_time"))]
    return [Reply(_moved(ctx, result, "nudges.rescheduled", edit=False)[0].text)]


@command("status")
def status(ctx: Ctx) -> list[Reply]:
    """Pending, overdue and undeliverable nudges, then the overdue ones as cards with their buttons."""
    summary = followups.status(ctx.uow, ctx.actor, ctx.now)
    lines = [ctx.t("nudges.status_title"), ctx.t("nudges.status_pending", n=summary.pending),
             ctx.t("nudges.status_overdue", n=summary.overdue), ctx.t("nudges.status_failed", n=summary.failed),
             ctx.t("nudges.status_uncertain", n=summary.uncertain)]
    if (upcoming := summary.next_due) is not None:
        lines.append(ctx.t("nudges.status_next", due=_due(ctx, upcoming), action=esc(upcoming.action or "—")))
    for problem in summary.problems:
        follow_up = problem.follow_up
        name = follow_up.customer.name if follow_up.customer else "—"
        lines.append(f"• {_due(ctx, follow_up)} <b>{esc(name)}</b> {esc(follow_up.action)} — {ctx.t(_reason(problem))}")
    if summary.paused:
        lines.append(ctx.t("nudges.status_unreachable"))
    return [Reply("\n".join(lines))] + [render_nudge(card, ctx.now) for card in summary.overdue_cards]


def _reason(problem: Problem) -> str:
    """The catalogue key for why this nudge is listed on /status."""
    if problem.uncertain:
        return "nudges.reason_uncertain"
    return REASONS.get(problem.kind, "nudges.reason_platform_error") if problem.kind else "nudges.reason_platform_error"
