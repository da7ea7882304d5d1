"""Done / Snooze / Reschedule on a nudge or /todo, and /status. A second press changes nothing."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from bot.bootstrap import set_state
from bot.context import Ctx
from bot.notifier import render_nudge
from bot.render import esc, when
from bot.router import button, command, state
from core.chat import Reply, TextIn
from core.models import FollowUp, FollowUpStatus
from core.scheduling.notices import OPEN
from core.services import followups
from core.services.errors import NotFound
from core.timeutil import in_hours, next_week_morning, tomorrow_morning
from core.understanding import parse_when


def _follow_up(ctx: Ctx, raw: str) -> FollowUp:
    if not raw.isdigit():
        raise NotFound("bad id")
    return followups.get_own(ctx.session, ctx.actor, int(raw))


@button("fu")
def follow_up_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    if len(parts) < 2:
        return [Reply(ctx.t("core.stale_button"))]
    verb, follow_up = parts[0], _follow_up(ctx, parts[1])
    if verb == "done":
        _, changed = followups.complete(ctx.session, ctx.actor, follow_up.id or 0)
        key = "nudges.done" if changed else "nudges.already_done"
        text = ctx.t(key, action=esc(follow_up.action or "—"))
        return [Reply(text, edit=True, notice=text)]
    if follow_up.status not in OPEN:
        text = ctx.t("nudges.already_done")
        return [Reply(text, edit=True, notice=text)]
    if verb == "snz" and len(parts) == 3:
        until = {"1h": lambda: in_hours(ctx.now, 1), "tm": lambda: tomorrow_morning(ctx.now, ctx.tz),
                 "nw": lambda: next_week_morning(ctx.now, ctx.tz)}.get(parts[2])
        if until is None:
            return [Reply(ctx.t("core.stale_button"))]
        return _moved(ctx, follow_up, until(), explicit=parts[2] == "1h", key="nudges.snoozed")
    if verb == "rs":
        set_state(ctx, "fu_time", {"follow_up": follow_up.id})
        return [Reply(ctx.t("nudges.type_time"))]
    return [Reply(ctx.t("core.stale_button"))]


def _moved(ctx: Ctx, follow_up: FollowUp, due: datetime, *, explicit: bool, key: str) -> list[Reply]:
    followups.snooze(ctx.session, ctx.actor, follow_up.id or 0, due, explicit_time=explicit)
    ctx.after_commit.append(ctx.app.wake_scheduler)
    text = ctx.t(key, due=when(due, tz=ctx.tz, language=ctx.language, now=ctx.now))
    return [Reply(text, edit=True, notice=text)]


@state("fu_time")
def typed_time(ctx: Ctx, payload: dict) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    follow_up = _follow_up(ctx, str(payload.get("follow_up")))
    due = parse_when(ctx.incoming.text, now=ctx.now, tz=ctx.tz)
    if due is None or due <= ctx.now:
        set_state(ctx, "fu_time", payload)
        return [Reply(ctx.t("nudges.bad_time"))]
    reply = _moved(ctx, follow_up, due, explicit=True, key="nudges.rescheduled")[0]
    return [Reply(reply.text)]


@command("status")
def status(ctx: Ctx) -> list[Reply]:
    rows = ctx.session.exec(select(FollowUp).where(FollowUp.member_id == ctx.actor.member_id,
                                                   col(FollowUp.status).in_(OPEN))).all()
    pending = [f for f in rows if f.status != FollowUpStatus.sent.value]
    overdue = [f for f in rows if f.due_at < ctx.now]
    failed = [f for f in pending if f.last_error]
    uncertain = [f for f in rows if f.status == FollowUpStatus.sent.value and not f.message_id]
    lines = [ctx.t("nudges.status_title"), ctx.t("nudges.status_pending", n=len(pending)),
             ctx.t("nudges.status_overdue", n=len(overdue)), ctx.t("nudges.status_failed", n=len(failed)),
             ctx.t("nudges.status_uncertain", n=len(uncertain))]
    for follow_up in (failed + uncertain)[:5]:
        lines.append(f"• {esc(follow_up.action)} — {esc(follow_up.last_error or '?')}")
    replies = [Reply("\n".join(lines))]
    for follow_up in overdue[:3]:
        assert ctx.member is not None
        replies.append(render_nudge(ctx.session, follow_up, ctx.member, ctx.now))
    return replies
