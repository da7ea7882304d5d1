"""Renders nudges, digests, silent-customer alerts and weekly summaries, and sends them to members' chats."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.i18n import t
from bot.render import esc, overdue_text, when
from core.chat import Button, ChatRef, Reply
from core.db import session_scope
from core.models import ChatIdentity, Customer, FollowUp, Interaction, Member
from core.ports import Clock, DeliveryUncertain, Messenger, RateLimited, Unreachable
from core.scheduling import Claimed, Dispatcher, FollowUpScheduler
from core.scheduling.limits import Pacer, platform_limits
from core.scheduling.notices import (
    OPEN,
    claim_notice,
    claim_silent_alert,
    digest_key,
    digests_due,
    member_unreachable,
    notice_failed,
    notice_sent,
    overdue_by_member,
    release_silent_alert,
    silent_customers,
    undeliverable,
    weekly_due,
    weekly_key,
)
from core.scheduling.workhours import within_working_time
from core.settings import Settings

log = logging.getLogger(__name__)
SNIPPET = 70
MINUTE = timedelta(minutes=1)
DIGEST_ROWS = 20


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…"


def stamp(follow_up: FollowUp) -> str:
    """The due minute a card was drawn for: a button from an older card changes nothing."""
    return format(int(follow_up.due_at.timestamp()) // 60, "x")


def nudge_buttons(language: str, follow_up: FollowUp) -> tuple[tuple[Button, ...], ...]:
    fid, st = follow_up.id, stamp(follow_up)
    rows = [(Button(t(language, "nudges.btn_done"), f"fu:done:{fid}"),
             Button(t(language, "nudges.btn_1h"), f"fu:snz:{fid}:1h:{st}"),
             Button(t(language, "nudges.btn_tomorrow"), f"fu:snz:{fid}:tm:{st}"),
             Button(t(language, "nudges.btn_next_week"), f"fu:snz:{fid}:nw:{st}")),
            (Button(t(language, "nudges.btn_reschedule"), f"fu:rs:{fid}:{st}"),)]
    if follow_up.customer_id:
        rows[1] += (Button(t(language, "nudges.btn_open"), f"c:open:{follow_up.customer_id}"),)
    return tuple(rows)


def render_nudge(session: Session, follow_up: FollowUp, member: Member, now: datetime, *,
                 late: bool = False) -> Reply:
    """Customer, promised action, how overdue, the last interaction in one line, and the buttons."""
    language, tz = member.language, member.timezone
    customer = session.get(Customer, follow_up.customer_id) if follow_up.customer_id else None
    name = esc(customer.name) if customer else t(language, "nudges.no_customer")
    lines = [t(language, "nudges.title", customer=name, action=esc(follow_up.action or t(language, "notes.follow_up")))]
    due = when(follow_up.due_at, tz=tz, language=language, now=now)
    overdue = overdue_text(follow_up.due_at, now, language) if now - follow_up.due_at >= MINUTE else ""
    lines.append(t(language, "nudges.due", due=due) + (f" · {overdue}" if overdue else ""))
    if customer is not None:
        last = session.exec(select(Interaction).where(Interaction.customer_id == customer.id,
                                                      col(Interaction.deleted_at).is_(None))
                            .order_by(col(Interaction.occurred_at).desc()).limit(1)).first()
        if last is not None:
            at = when(last.occurred_at, tz=tz, language=language, now=now)
            lines.append(t(language, "nudges.last", at=at, text=esc(_snippet(last.transcript or last.text))))
    if late:
        held = not follow_up.explicit_time and not within_working_time(follow_up.due_at, member)
        lines.append(t(language, "nudges.held" if held else "nudges.late"))
    return Reply("\n".join(lines), buttons=nudge_buttons(language, follow_up))


class BotNudgeSender:
    """The dispatcher's sender: finds the member's chat and sends the rendered nudge there."""

    def __init__(self, engine: Engine, messengers: dict[str, Messenger], clock: Clock) -> None:
        self.engine, self.messengers, self.clock = engine, messengers, clock

    def target(self, member_id: int) -> ChatRef | None:
        """The member's chat on the platform they joined from last, among the attached ones (blocking)."""
        with session_scope(self.engine) as session:
            identity = session.exec(select(ChatIdentity)
                                    .where(ChatIdentity.member_id == member_id,
                                           col(ChatIdentity.platform).in_(list(self.messengers)))
                                    .order_by(col(ChatIdentity.id).desc()).limit(1)).first()
            return ChatRef(identity.platform, identity.chat_id) if identity else None

    def _prepare(self, claimed: Claimed) -> tuple[ChatRef, Reply]:
        """Where the nudge goes and what it says (blocking: run off the event loop)."""
        target = self.target(claimed.member_id)
        if target is None:
            raise LookupError("member has no chat")
        with session_scope(self.engine) as session:
            follow_up = session.get(FollowUp, claimed.follow_up_id)
            member = session.get(Member, claimed.member_id)
            assert follow_up is not None and member is not None
            return target, render_nudge(session, follow_up, member, self.clock.now(), late=claimed.late)

    async def destination(self, claimed: Claimed) -> tuple[str, str] | None:
        target = await asyncio.to_thread(self.target, claimed.member_id)
        return (target.platform, target.chat_id) if target else None

    async def send_nudge(self, claimed: Claimed) -> tuple[str, str]:
        target, reply = await asyncio.to_thread(self._prepare, claimed)
        message_id = await self.messengers[target.platform].send(target, reply)
        return str(target), message_id


@dataclass
class _Outgoing:
    member_id: int
    reply: Reply
    notice_id: int | None = None
    silent: tuple[int, datetime] | None = None  # (customer id, silent_alerted_at) to release on failure


class BotNotices:
    """Morning digests, silent-customer alerts and weekly manager summaries, paced like nudges.

    Each is reserved before sending and recorded only when the platform accepted it; a failed send
    is released so a later run sends it again (see core.scheduling.notices)."""

    def __init__(self, engine: Engine, sender: BotNudgeSender, pacer: Pacer | None = None) -> None:
        self.engine, self.sender, self.pacer = engine, sender, pacer

    async def send_notices(self, now: datetime) -> int:
        sent = 0
        for outgoing in await asyncio.to_thread(self._collect, now):
            sent += await self._send(outgoing)
        return sent

    async def _send(self, out: _Outgoing) -> bool:
        target = await asyncio.to_thread(self.sender.target, out.member_id)
        message_id: str | None = None
        ok = unreachable = False
        retry_after: timedelta | None = None
        if target is not None:
            try:
                if self.pacer is not None:
                    await self.pacer.wait(target.platform, target.chat_id)
                message_id = await self.sender.messengers[target.platform].send(target, out.reply)
                ok = True
            except (DeliveryUncertain, TimeoutError) as error:
                ok = True  # it may have arrived: do not send it twice (as the dispatcher does for nudges)
                log.warning("notice to member %s may not have arrived (%s)", out.member_id,
                            error or error.__class__.__name__)
            except RateLimited as error:
                retry_after = timedelta(seconds=error.retry_after)
                if self.pacer is not None:
                    self.pacer.back_off(target.platform, error.retry_after)
            except Unreachable:
                unreachable = True
            except Exception:
                log.exception("notice to member %s failed; it is sent again later", out.member_id)
        await asyncio.to_thread(self._record, out, ok, message_id, unreachable, retry_after)
        return ok

    def _record(self, out: _Outgoing, ok: bool, message_id: str | None, unreachable: bool,
                retry_after: timedelta | None = None) -> None:
        now = self.sender.clock.now()
        with session_scope(self.engine) as session:
            if out.notice_id is not None:
                if ok:
                    notice_sent(session, out.notice_id, now, message_id)
                else:
                    notice_failed(session, out.notice_id, now, retry_after)
            if out.silent is not None and not ok:
                release_silent_alert(session, *out.silent)
            if unreachable:
                member_unreachable(session, out.member_id, now)

    def _collect(self, now: datetime) -> list[_Outgoing]:
        """Reserve every notice due now (once per member and key) and render it. Each member's (and each
        customer's) reservation and rendering is its own savepoint: one that fails is logged and rolled
        back, and the others still go out."""
        out: list[_Outgoing] = []
        with session_scope(self.engine) as session:
            for member, day in digests_due(session, now):
                self._each(session, out, f"digest for member {member.id}", self._digest, session, member, day, now)
            for member, day in weekly_due(session, now):
                self._each(session, out, f"weekly summary for member {member.id}", self._weekly,
                           session, member, day, now)
            for customer in silent_customers(session, now):
                self._each(session, out, f"silent alert for customer {customer.id}", self._silent,
                           session, customer, now)
        return out

    @staticmethod
    def _each(session: Session, out: list[_Outgoing], what: str, make: Any, *args: Any) -> None:
        try:
            with session.begin_nested():
                if (outgoing := make(*args)) is not None:
                    out.append(outgoing)
        except Exception:
            log.exception("%s: could not be prepared; the other notices go on", what)

    @staticmethod
    def _digest(session: Session, member: Member, day: date, now: datetime) -> _Outgoing | None:
        notice = claim_notice(session, member, digest_key(day), "digest", now)
        if notice is None:
            return None
        reply = digest(session, member, now)
        if reply is None:
            notice.status = "skipped"
            session.add(notice)
            session.flush()
            return None
        return _Outgoing(member.id or 0, reply, notice_id=notice.id)

    @staticmethod
    def _weekly(session: Session, member: Member, day: date, now: datetime) -> _Outgoing | None:
        notice = claim_notice(session, member, weekly_key(day), "weekly", now)
        if notice is None:
            return None
        return _Outgoing(member.id or 0, weekly_summary(session, member, now), notice_id=notice.id)

    @staticmethod
    def _silent(session: Session, customer: Customer, now: datetime) -> _Outgoing | None:
        owner = session.get(Member, customer.owner_id)
        if owner is None or not claim_silent_alert(session, customer.id or 0, now):
            return None
        return _Outgoing(owner.id or 0, silent_alert(customer, owner, now), silent=(customer.id or 0, now))


def digest(session: Session, member: Member, now: datetime) -> Reply | None:
    """Today's and overdue follow-ups, and nudges that could not be delivered; None when there is nothing."""
    language, tz = member.language, member.timezone
    zone = ZoneInfo(tz)
    end_of_day = datetime.combine(now.astimezone(zone).date() + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    rows = session.exec(select(FollowUp, Customer).join(Customer, col(Customer.id) == col(FollowUp.customer_id),
                                                        isouter=True)
                        .where(FollowUp.member_id == member.id, col(FollowUp.status).in_(OPEN),
                               FollowUp.due_at < end_of_day).order_by(col(FollowUp.due_at))).all()
    failed = {f.id for f in undeliverable(session, member.id or 0, now)}
    if not rows:
        return None
    lines = [t(language, "nudges.digest_title", n=len(rows))]
    for follow_up, customer in rows[:DIGEST_ROWS]:
        lines.append(_digest_line(follow_up, customer, member, now, follow_up.id in failed))
    if len(rows) > DIGEST_ROWS:
        lines.append(t(language, "nudges.digest_more", n=len(rows) - DIGEST_ROWS))
    if failed:
        lines.append(t(language, "nudges.digest_undelivered", n=len(failed)))
    lines.append(t(language, "nudges.digest_hint"))
    return Reply("\n".join(lines))


def _digest_line(follow_up: FollowUp, customer: Customer | None, member: Member, now: datetime,
                 failed: bool) -> str:
    language = member.language
    due = when(follow_up.due_at, tz=member.timezone, language=language, now=now)
    flag = " ⚠️" if follow_up.due_at < now else ""
    if failed:
        key = "nudges.uncertain_mark" if follow_up.status == "sent" else "nudges.undeliverable_mark"
        flag += " " + t(language, key)
    name = esc(customer.name) if customer else t(language, "nudges.no_customer")
    return f"• {due} <b>{name}</b> {esc(follow_up.action)}{flag}"


def weekly_summary(session: Session, member: Member, now: datetime) -> Reply:
    """Overdue follow-ups per salesperson of the manager's own team."""
    counts = overdue_by_member(session, member.team_id, now)
    if not any(count for _, count in counts):
        return Reply(t(member.language, "nudges.weekly_none"))
    lines = [t(member.language, "nudges.weekly_title", n=sum(count for _, count in counts))]
    lines += [t(member.language, "nudges.weekly_line", name=esc(person.name), n=count)
              for person, count in counts if count]
    return Reply("\n".join(lines))


def silent_alert(customer: Customer, owner: Member, now: datetime) -> Reply:
    last = customer.last_interaction_at or customer.created_at
    days = (now - last).days
    return Reply(t(owner.language, "nudges.silent", customer=esc(customer.name), days=days),
                 buttons=((Button(t(owner.language, "nudges.btn_open"), f"c:open:{customer.id}"),),))


def create_scheduler(engine: Engine, settings: Settings, messengers: dict[str, Messenger], clock: Clock,
                     **dispatcher_options: Any) -> FollowUpScheduler:
    sender = BotNudgeSender(engine, messengers, clock)
    dispatcher_options.setdefault("pacer", Pacer(platform_limits(settings.telegram_max_messages_per_second)))
    dispatcher = Dispatcher(engine, sender, clock, **dispatcher_options)
    notices = BotNotices(engine, sender, pacer=getattr(dispatcher, "pacer", None))
    return FollowUpScheduler(dispatcher, notices, clock,
                             interval=settings.dispatch_interval_seconds)
