"""The senders the scheduler drives: nudges (for the dispatcher) and notices (digests, weekly summaries,
silent-customer alerts), to each member's latest chat on an attached platform.

What is said is the chat layer's: it gives a `NudgeRenderer` and a `NoticeRenderer` turning the views of
core.usecases.followup_cards into `Reply`s. What an outcome means is core.delivery's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from core.chat import ChatRef, Reply
from core.db import lock_for_writing, session_scope
from core.delivery import POLICY, Classified, Outcome, classify
from core.models import ChatIdentity, Customer, FollowUp, Member
from core.ports import Clock, Messenger
from core.scheduling.dispatch import Claimed
from core.scheduling.limits import Pacer
from core.scheduling.notices import (
    claim_notice,
    claim_silent_alert,
    digest_key,
    digests_due,
    member_unreachable,
    notice_failed,
    notice_sent,
    release_silent_alert,
    silent_customers,
    weekly_due,
    weekly_key,
)
from core.usecases.followup_cards import (
    Digest,
    NudgeCard,
    Recipient,
    SilentAlert,
    WeeklySummary,
    digest_of,
    nudge_card,
    silent_alert_of,
    weekly_of,
)

log = logging.getLogger(__name__)

NudgeRenderer = Callable[[NudgeCard, datetime], Reply]
# a nudge going to a colleague who covers the member: (the rendered nudge, the cover's language, the covered
# member's name) → the nudge saying whom it is for ("🤝 Covering for 陳小姐"); the chat layer's words
CoverNote = Callable[[Reply, str, str], Reply]


class NoticeRenderer(Protocol):
    def digest(self, digest: Digest, recipient: Recipient, now: datetime) -> Reply | None: ...

    def weekly(self, summary: WeeklySummary, recipient: Recipient, now: datetime) -> Reply: ...

    def silent(self, alert: SilentAlert, recipient: Recipient, now: datetime) -> Reply: ...


class MemberChats:
    """Where a member is reached: their chat on the platform they joined from last, among the attached ones."""

    def __init__(self, engine: Engine, messengers: dict[str, Messenger]) -> None:
        self.engine, self.messengers = engine, messengers

    def target(self, member_id: int) -> ChatRef | None:
        """Blocking: run it off the event loop."""
        with session_scope(self.engine) as session:
            identity = session.exec(select(ChatIdentity)
                                    .where(ChatIdentity.member_id == member_id,
                                           col(ChatIdentity.platform).in_(list(self.messengers)))
                                    .order_by(col(ChatIdentity.id).desc()).limit(1)).first()
            return ChatRef(identity.platform, identity.chat_id) if identity else None


class NudgeDelivery:
    """The dispatcher's sender: the member's chat (or, while a colleague covers them, the cover's:
    `Claimed.recipient_id`, with `covering` saying whom it is for), the nudge card rendered by the chat layer,
    sent there."""

    def __init__(self, engine: Engine, chats: MemberChats, clock: Clock, render: NudgeRenderer,
                 covering: CoverNote | None = None) -> None:
        self.engine, self.chats, self.clock, self.render = engine, chats, clock, render
        self.covering = covering

    def _prepare(self, claimed: Claimed) -> tuple[ChatRef, Reply]:
        """Where the nudge goes and what it says (blocking: run off the event loop)."""
        target = self.chats.target(claimed.recipient_id)
        if target is None:
            raise LookupError("member has no chat")
        with session_scope(self.engine) as session:
            follow_up = session.get(FollowUp, claimed.follow_up_id)
            member = session.get(Member, claimed.recipient_id)  # a cover reads it in their own language and zone
            assert follow_up is not None and member is not None
            card = nudge_card(session, follow_up, member, late=claimed.late)
            covered = session.get(Member, claimed.member_id) if claimed.cover_id else None
            covering = (member.language, covered.name) if covered is not None else None
        reply = self.render(card, self.clock.now())
        if covering is not None and self.covering is not None:  # the cover reads whom they act for
            reply = self.covering(reply, *covering)
        return target, reply

    async def destination(self, claimed: Claimed) -> tuple[str, str] | None:
        target = await asyncio.to_thread(self.chats.target, claimed.recipient_id)
        return (target.platform, target.chat_id) if target else None

    async def send_nudge(self, claimed: Claimed) -> tuple[str, str]:
        target, reply = await asyncio.to_thread(self._prepare, claimed)
        message_id = await self.chats.messengers[target.platform].send(target, reply)
        return str(target), message_id


@dataclass
class _Outgoing:
    member_id: int
    reply: Reply
    notice_id: int | None = None
    silent: tuple[int, datetime] | None = None  # (customer id, silent_alerted_at) to release on failure


class NoticeDelivery:
    """Morning digests, silent-customer alerts and weekly manager summaries, paced like nudges.

    Each is reserved before sending and recorded only when the platform accepted it (or may have: an
    uncertain send is not repeated); a refused one is released so a later run sends it again, as the
    delivery policy's notice schedule says (see core.scheduling.notices)."""

    def __init__(self, engine: Engine, chats: MemberChats, clock: Clock, render: NoticeRenderer,
                 pacer: Pacer | None = None) -> None:
        self.engine, self.chats, self.clock, self.render, self.pacer = engine, chats, clock, render, pacer

    async def send_notices(self, now: datetime) -> int:
        sent = 0
        for outgoing in await asyncio.to_thread(self._collect, now):
            sent += await self._send(outgoing)
        return sent

    async def _send(self, out: _Outgoing) -> bool:
        target = await asyncio.to_thread(self.chats.target, out.member_id)
        message_id: str | None = None
        if target is None:
            outcome: Classified = classify(LookupError("member has no chat"))
        else:
            try:
                if self.pacer is not None:
                    await self.pacer.wait(target.platform, target.chat_id)
                message_id = await self.chats.messengers[target.platform].send(target, out.reply)
                outcome = classify(None)
            except Exception as error:
                outcome = classify(error)
        if outcome.outcome is Outcome.uncertain:
            log.warning("notice to member %s may not have arrived (%s)", out.member_id, outcome.detail)
        elif outcome.retry_after is not None and target is not None and self.pacer is not None:
            self.pacer.back_off(target.platform, outcome.retry_after.total_seconds())
        elif outcome.outcome is Outcome.retry and target is not None:
            log.warning("notice to member %s failed; it is sent again later (%s)", out.member_id, outcome.detail)
        await asyncio.to_thread(self._record, out, outcome, message_id)
        return outcome.outcome in (Outcome.delivered, Outcome.uncertain)

    def _record(self, out: _Outgoing, outcome: Classified, message_id: str | None) -> None:
        now = self.clock.now()
        went = outcome.outcome in (Outcome.delivered, Outcome.uncertain)  # may have arrived: never twice
        with session_scope(self.engine) as session:
            if out.notice_id is not None:
                if went:
                    notice_sent(session, out.notice_id, now, message_id)
                else:
                    notice_failed(session, out.notice_id, now, outcome, POLICY.notices)
            if out.silent is not None and not went:
                release_silent_alert(session, *out.silent)
            if outcome.outcome is Outcome.unreachable:
                member_unreachable(session, out.member_id, now)

    def _collect(self, now: datetime) -> list[_Outgoing]:
        """Reserve every notice due now (once per member and key) and render it. Each member's (and each
        customer's) reservation and rendering is its own savepoint: one that fails is logged and rolled
        back, and the others still go out."""
        out: list[_Outgoing] = []
        with session_scope(self.engine) as session:
            lock_for_writing(session)  # reads, then claims: on SQLite another writer must not come in between
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
    def _each(session: Session, out: list[_Outgoing], what: str, make: Callable[..., _Outgoing | None],
              *args: Any) -> None:
        try:
            with session.begin_nested():
                if (outgoing := make(*args)) is not None:
                    out.append(outgoing)
        except Exception:
            log.exception("%s: could not be prepared; the other notices go on", what)

    def _digest(self, session: Session, member: Member, day: date, now: datetime) -> _Outgoing | None:
        notice = claim_notice(session, member, digest_key(day), "digest", now)
        if notice is None:
            return None
        data = digest_of(session, member, now)
        reply = self.render.digest(data, Recipient.of(member), now) if data is not None else None
        if reply is None:
            notice.status = "skipped"
            session.add(notice)
            session.flush()
            return None
        return _Outgoing(member.id or 0, reply, notice_id=notice.id)

    def _weekly(self, session: Session, member: Member, day: date, now: datetime) -> _Outgoing | None:
        notice = claim_notice(session, member, weekly_key(day), "weekly", now)
        if notice is None:
            return None
        reply = self.render.weekly(weekly_of(session, member, now), Recipient.of(member), now)
        return _Outgoing(member.id or 0, reply, notice_id=notice.id)

    def _silent(self, session: Session, customer: Customer, now: datetime) -> _Outgoing | None:
        owner = session.get(Member, customer.owner_id)
        if owner is None or not claim_silent_alert(session, customer.id or 0, now):
            return None
        reply = self.render.silent(silent_alert_of(customer, now), Recipient.of(owner), now)
        return _Outgoing(owner.id or 0, reply, silent=(customer.id or 0, now))
