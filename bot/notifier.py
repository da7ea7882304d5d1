"""Renders nudges, digests, silent-customer alerts and weekly summaries, and sends them to members' chats."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.i18n import t
from bot.render import esc, overdue_text, when
from core.chat import Button, ChatRef, Reply
from core.db import session_scope
from core.models import Customer, FollowUp, Interaction, Member
from core.ports import Clock, Messenger
from core.scheduling import Claimed, Dispatcher, FollowUpScheduler
from core.scheduling.notices import (
    OPEN,
    claim_notice,
    digest_key,
    digests_due,
    overdue_by_member,
    silent_customers,
    weekly_due,
    weekly_key,
)
from core.services.teams import identity_of
from core.settings import Settings

log = logging.getLogger(__name__)
SNIPPET = 70


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…"


def nudge_buttons(language: str, follow_up: FollowUp) -> tuple[tuple[Button, ...], ...]:
    fid = follow_up.id
    rows = [(Button(t(language, "nudges.btn_done"), f"fu:done:{fid}"),
             Button(t(language, "nudges.btn_1h"), f"fu:snz:{fid}:1h"),
             Button(t(language, "nudges.btn_tomorrow"), f"fu:snz:{fid}:tm"),
             Button(t(language, "nudges.btn_next_week"), f"fu:snz:{fid}:nw")),
            (Button(t(language, "nudges.btn_reschedule"), f"fu:rs:{fid}"),)]
    if follow_up.customer_id:
        rows[1] += (Button(t(language, "nudges.btn_open"), f"c:open:{follow_up.customer_id}"),)
    return tuple(rows)


def render_nudge(session: Session, follow_up: FollowUp, member: Member, now: datetime) -> Reply:
    language, tz = member.language, member.timezone
    customer = session.get(Customer, follow_up.customer_id) if follow_up.customer_id else None
    name = esc(customer.name) if customer else t(language, "nudges.no_customer")
    lines = [t(language, "nudges.title", customer=name, action=esc(follow_up.action or t(language, "notes.follow_up")))]
    due = when(follow_up.due_at, tz=tz, language=language, now=now)
    late = overdue_text(follow_up.due_at, now, language) if now - follow_up.due_at >= _minute() else ""
    lines.append(t(language, "nudges.due", due=due) + (f" · {late}" if late else ""))
    if customer is not None:
        last = session.exec(select(Interaction).where(Interaction.customer_id == customer.id,
                                                      col(Interaction.deleted_at).is_(None))
                            .order_by(col(Interaction.occurred_at).desc()).limit(1)).first()
        if last is not None:
            at = when(last.occurred_at, tz=tz, language=language, now=now)
            lines.append(t(language, "nudges.last", at=at, text=esc(_snippet(last.transcript or last.text))))
    return Reply("\n".join(lines), buttons=nudge_buttons(language, follow_up))


def _minute():
    from datetime import timedelta

    return timedelta(minutes=1)


class BotNudgeSender:
    """The dispatcher's sender: finds the member's chat and sends the rendered nudge there."""

    def __init__(self, engine: Engine, messengers: dict[str, Messenger], clock: Clock) -> None:
        self.engine, self.messengers, self.clock = engine, messengers, clock

    def _target(self, member_id: int) -> ChatRef | None:
        with session_scope(self.engine) as session:
            identity = None
            for platform in self.messengers:
                identity = identity_of(session, member_id, platform)
                if identity is not None:
                    break
            return ChatRef(identity.platform, identity.chat_id) if identity else None

    async def destination(self, claimed: Claimed) -> tuple[str, str] | None:
        target = self._target(claimed.member_id)
        return (target.platform, target.chat_id) if target else None

    async def send_nudge(self, claimed: Claimed) -> tuple[str, str]:
        target = self._target(claimed.member_id)
        if target is None:
            raise LookupError("member has no chat")
        with session_scope(self.engine) as session:
            follow_up = session.get(FollowUp, claimed.follow_up_id)
            member = session.get(Member, claimed.member_id)
            assert follow_up is not None and member is not None
            reply = render_nudge(session, follow_up, member, self.clock.now())
        message_id = await self.messengers[target.platform].send(target, reply)
        return str(target), message_id


class BotNotices:
    """Morning digests, silent-customer alerts and weekly manager summaries."""

    def __init__(self, engine: Engine, sender: BotNudgeSender) -> None:
        self.engine, self.sender = engine, sender

    async def _send(self, member_id: int, reply: Reply) -> bool:
        target = self.sender._target(member_id)
        if target is None:
            return False
        try:
            await self.sender.messengers[target.platform].send(target, reply)
            return True
        except Exception:
            log.exception("notice to member %s failed", member_id)
            return False

    async def send_notices(self, now: datetime) -> int:
        sent = 0
        for member_id, reply in self._collect(now):
            sent += await self._send(member_id, reply)
        return sent

    def _collect(self, now: datetime) -> list[tuple[int, Reply]]:
        """Reserve every notice due now (once per member and key) and render it."""
        out: list[tuple[int, Reply]] = []
        with session_scope(self.engine) as session:
            for member, day in digests_due(session, now):
                notice = claim_notice(session, member, digest_key(day), "digest")
                if notice is None:
                    continue
                reply = digest(session, member, now)
                notice.status = "sent" if reply is not None else "skipped"
                notice.sent_at = now if reply is not None else None
                session.add(notice)
                if reply is not None:
                    out.append((member.id or 0, reply))
            for member, day in weekly_due(session, now):
                if claim_notice(session, member, weekly_key(day), "weekly"):
                    out.append((member.id or 0, weekly_summary(session, member, now)))
            for customer in silent_customers(session, now):
                owner = session.get(Member, customer.owner_id)
                if owner is None:
                    continue
                customer.silent_alerted_at = now
                session.add(customer)
                out.append((owner.id or 0, silent_alert(customer, owner, now)))
        return out


def digest(session: Session, member: Member, now: datetime) -> Reply | None:
    """Today's and overdue follow-ups (and ones that could not be delivered); None when there is nothing."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    language, tz = member.language, member.timezone
    end_of_day = datetime.combine(now.astimezone(ZoneInfo(tz)).date() + timedelta(days=1), datetime.min.time(),
                                  tzinfo=ZoneInfo(tz))
    rows = session.exec(select(FollowUp, Customer).join(Customer, col(Customer.id) == col(FollowUp.customer_id),
                                                        isouter=True)
                        .where(FollowUp.member_id == member.id, col(FollowUp.status).in_(OPEN),
                               FollowUp.due_at < end_of_day).order_by(col(FollowUp.due_at))).all()
    if not rows:
        return None
    lines = [t(language, "nudges.digest_title", n=len(rows))]
    for follow_up, customer in rows[:20]:
        due = when(follow_up.due_at, tz=tz, language=language, now=now)
        flag = " ⚠️" if follow_up.due_at < now else ""
        if follow_up.last_error and follow_up.status != "sent":
            flag += " " + t(language, "nudges.undeliverable_mark")
        lines.append(f"• {due} <b>{esc(customer.name) if customer else '—'}</b> {esc(follow_up.action)}{flag}")
    return Reply("\n".join(lines))


def weekly_summary(session: Session, member: Member, now: datetime) -> Reply:
    lines = [t(member.language, "nudges.weekly_title")]
    for person, count in overdue_by_member(session, member.team_id, now):
        lines.append(f"• {esc(person.name)}: {count}")
    return Reply("\n".join(lines))


def silent_alert(customer: Customer, owner: Member, now: datetime) -> Reply:
    last = customer.last_interaction_at or customer.created_at
    days = (now - last).days
    return Reply(t(owner.language, "nudges.silent", customer=esc(customer.name), days=days),
                 buttons=((Button(t(owner.language, "nudges.btn_open"), f"c:open:{customer.id}"),),))


def create_scheduler(engine: Engine, settings: Settings, messengers: dict[str, Messenger], clock: Clock,
                     **dispatcher_options: Any) -> FollowUpScheduler:
    sender = BotNudgeSender(engine, messengers, clock)
    dispatcher = Dispatcher(engine, sender, clock, **dispatcher_options)
    return FollowUpScheduler(dispatcher, BotNotices(engine, sender), clock,
                             interval=settings.dispatch_interval_seconds)
