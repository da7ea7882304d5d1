"""Done / Snooze / Reschedule on a nudge or /todo, the per-item card, and /status.

Buttons carry the due minute of the card they were drawn on (`notifier.stamp`): a press on a card
whose follow-up was moved or closed since changes nothing and says where it is now. A press on the
/todo list (payload ending in `todo.LIST_MARK`) redraws the list in place, the outcome as a toast.
/status names delivery problems in the member's language, whatever text the dispatcher stored.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.context import Ctx
from bot.handlers.todo import LIST_MARK, todo_list
from bot.notifier import render_nudge, stamp
from bot.render import esc, when
from bot.router import button, command, state
from core.chat import Reply, TextIn
from core.events import FollowUpsChanged
from core.models import Customer, FollowUp, FollowUpStatus, Member
from core.scheduling.dispatch import UNCERTAIN
from core.scheduling.notices import OPEN, undeliverable
from core.scheduling.workhours import next_working_start, work_hours
from core.services import followups, teams
from core.services.errors import NotFound
from core.timeutil import in_hours, next_week_morning, tomorrow_morning
from core.understanding import parse_when
from core.understanding.when import find_moments


def _working_morning(day: datetime, member: Member) -> datetime:
    """The start of the member's working hours on `day`'s date, or of their next working day after it."""
    start, _ = work_hours(member)
    local = day.astimezone(ZoneInfo(member.timezone))
    return next_working_start(datetime.combine(local.date(), start, tzinfo=local.tzinfo), member).astimezone(UTC)


SNOOZES = {"1h": lambda now, member: in_hours(now, 1),
           "tm": lambda now, member: _working_morning(tomorrow_morning(now, member.timezone), member),
           "nw": lambda now, member: _working_morning(next_week_morning(now, member.timezone), member)}
SHOWN_PROBLEMS = 5
# How core.scheduling.dispatch starts the `last_error` it stores; anything else is the platform's own words.
REASONS = (("rate limited", "nudges.reason_rate_limited"), ("unreachable", "nudges.reason_unreachable"),
           ("no chat for this member", "nudges.reason_no_chat"), (UNCERTAIN, "nudges.reason_uncertain"))


def _follow_up(ctx: Ctx, raw: str) -> FollowUp:
    if not raw.isdigit():
        raise NotFound("bad id")
    return followups.get_own(ctx.uow.session, ctx.actor, int(raw))


def _due(ctx: Ctx, follow_up: FollowUp) -> str:
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
    verb, follow_up = parts[0], _follow_up(ctx, parts[1])
    if verb == "done":
        _, changed = followups.complete(ctx.uow.session, ctx.actor, follow_up.id or 0)
        key = "nudges.done" if changed else "nudges.already_done"
        return _answer(ctx.t(key, action=esc(follow_up.action or "—")))
    if follow_up.status not in OPEN:
        return _answer(ctx.t("nudges.already_done"))
    if verb == "card":
        assert ctx.member is not None
        return [render_nudge(ctx.uow.session, follow_up, teams.member_row(ctx.uow.session, ctx.actor.member_id), ctx.now)]
    drawn_for = parts[3] if verb == "snz" and len(parts) == 4 else parts[2] if verb == "rs" and len(parts) == 3 else None
    if drawn_for is not None and drawn_for != stamp(follow_up):
        return _answer(ctx.t("nudges.already_moved", due=_due(ctx, follow_up)))
    if verb == "snz" and len(parts) >= 3 and parts[2] in SNOOZES:
        assert ctx.member is not None
        until = SNOOZES[parts[2]](ctx.now, teams.member_row(ctx.uow.session, ctx.actor.member_id))
        return _moved(ctx, follow_up, until, explicit=parts[2] == "1h", key="nudges.snoozed")
    if verb == "rs":
        ctx.await_answer("fu_time", {"follow_up": follow_up.id, "stamp": stamp(follow_up)})
        return [Reply(ctx.t("nudges.type_time", action=esc(follow_up.action or "—")))]
    return [Reply(ctx.t("core.stale_button"))]


def _moved(ctx: Ctx, follow_up: FollowUp, due: datetime, *, explicit: bool, key: str,
           edit: bool = True) -> list[Reply]:
    _, changed = followups.snooze(ctx.uow.session, ctx.actor, follow_up.id or 0, due, explicit_time=explicit)
    if not changed:
        return _answer(ctx.t("nudges.already_moved", due=_due(ctx, follow_up)), edit=edit)
    ctx.uow.publish(FollowUpsChanged())
    return _answer(ctx.t(key, due=when(due, tz=ctx.tz, language=ctx.language, now=ctx.now)), edit=edit)


def _typed_moment(ctx: Ctx, text: str) -> tuple[datetime | None, bool, bool]:
    """(the future time, whether an hour was named, whether only a past time was found)."""
    due = parse_when(text, now=ctx.now, tz=ctx.tz)
    try:
        moments = [m for m in find_moments(text, now=ctx.now, tz=ctx.tz) if not m.weak]
    except Exception:  # the parser already logged it in parse_when
        moments = []
    if due is None:
        return None, False, bool(moments)
    chosen = next((m for m in moments if m.at == due), None)
    return due, chosen.explicit_time if chosen else True, False


@state("fu_time")
def typed_time(ctx: Ctx, payload: dict) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    follow_up = _follow_up(ctx, str(payload.get("follow_up")))
    if follow_up.status not in OPEN:
        return [Reply(ctx.t("nudges.already_done"))]
    if payload.get("stamp") not in (None, stamp(follow_up)):
        return [Reply(ctx.t("nudges.already_moved", due=_due(ctx, follow_up)))]
    due, explicit, past = _typed_moment(ctx, ctx.incoming.text)
    if due is None or due <= ctx.now:
        ctx.await_answer("fu_time", payload)
        return [Reply(ctx.t("nudges.past_time" if past else "nudges.bad_time"))]
    return [Reply(_moved(ctx, follow_up, due, explicit=explicit, key="nudges.rescheduled", edit=False)[0].text)]


@command("status")
def status(ctx: Ctx) -> list[Reply]:
    """Pending, overdue and undeliverable nudges, then the overdue ones as cards with their buttons."""
    assert ctx.member is not None
    rows = ctx.uow.session.exec(select(FollowUp).where(FollowUp.member_id == ctx.actor.member_id,
                                                   col(FollowUp.status).in_(OPEN))
                            .order_by(col(FollowUp.due_at))).all()
    pending = [f for f in rows if f.status != FollowUpStatus.sent.value]
    overdue = [f for f in rows if f.due_at < ctx.now]
    problems = undeliverable(ctx.uow.session, ctx.actor.member_id, ctx.now)
    failed = [f for f in problems if f.status != FollowUpStatus.sent.value]
    uncertain = [f for f in problems if f.status == FollowUpStatus.sent.value]
    lines = [ctx.t("nudges.status_title"), ctx.t("nudges.status_pending", n=len(pending)),
             ctx.t("nudges.status_overdue", n=len(overdue)), ctx.t("nudges.status_failed", n=len(failed)),
             ctx.t("nudges.status_uncertain", n=len(uncertain))]
    if pending and (upcoming := [f for f in pending if f.due_at >= ctx.now]):
        lines.append(ctx.t("nudges.status_next", due=_due(ctx, upcoming[0]), action=esc(upcoming[0].action or "—")))
    for follow_up in problems[:SHOWN_PROBLEMS]:
        customer = ctx.uow.session.get(Customer, follow_up.customer_id) if follow_up.customer_id else None
        lines.append(f"• {_due(ctx, follow_up)} <b>{esc(customer.name if customer else '—')}</b> "
                     f"{esc(follow_up.action)} — {ctx.t(_reason(follow_up))}")
    if any(_reason(f) == "nudges.reason_unreachable" for f in failed):
        lines.append(ctx.t("nudges.status_unreachable"))
    replies = [Reply("\n".join(lines))]
    for follow_up in overdue[:3]:
        replies.append(render_nudge(ctx.uow.session, follow_up, teams.member_row(ctx.uow.session, ctx.actor.member_id), ctx.now))
    return replies


def _reason(follow_up: FollowUp) -> str:
    """The catalogue key for why this nudge is listed on /status."""
    if follow_up.status == FollowUpStatus.sent.value:
        return "nudges.reason_uncertain"
    error = follow_up.last_error or ""
    return next((key for start, key in REASONS if error.startswith(start)), "nudges.reason_platform_error")
