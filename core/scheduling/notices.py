"""Who gets a digest, a silent-customer alert or a weekly summary now; each is sent once per key.

A notice is reserved (a `Notice` row, unique per member and key) before it is sent and marked
`sent` after. A failed send marks it `failed` with a `retry_at` (backoff, or the platform's
retry_after for a 429) and a later run takes it again from then, for as long as its window lasts
(DIGEST_WINDOW for a digest, WEEKLY_WINDOW for a weekly summary); a reservation left
`pending` by a process that died is taken again after STALE, so a digest is never silently lost
(a crash in the middle of a send may, rarely, repeat it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, CursorResult, Result, and_, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from core.delivery import POLICY, Classified, Schedule
from core.models import Customer, Deal, FollowUp, FollowUpStatus, Member, Notice, Role, Team
from core.scheduling.workhours import digest_at, is_working_day

CLOSED_STAGES = ("won", "lost", "closed")
OPEN = (FollowUpStatus.pending.value, FollowUpStatus.sent.value, FollowUpStatus.snoozed.value)
WEEKLY_AT = time(8, 30)
DIGEST_WINDOW = timedelta(hours=3)  # a digest missed by more (the bot was down) waits for the next day
WEEKLY_WINDOW = timedelta(hours=3)  # the weekly summary goes out in a working morning, never at night
STALE = timedelta(minutes=10)

log = logging.getLogger(__name__)


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE matched."""
    return cast("CursorResult[Any]", result).rowcount


def _local(now: datetime, member: Member) -> datetime:
    return now.astimezone(ZoneInfo(member.timezone))


def digest_key(day: date) -> str:
    return f"digest:{day.isoformat()}"


def weekly_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"weekly:{year}-W{week:02d}"


def backoff(attempts: int) -> timedelta:
    """The wait after the n-th failure: 1, 2, 4, 8 minutes, then 15 (core.delivery.POLICY.notices)."""
    return POLICY.notices.wait(attempts)


def _retryable(now: datetime) -> ColumnElement[bool]:
    """A reservation another run may take again: failed and its retry time came, or abandoned while pending."""
    return or_(and_(col(Notice.status) == "failed",
                    or_(col(Notice.retry_at).is_(None), col(Notice.retry_at) <= now)),
               and_(col(Notice.status) == "pending", col(Notice.created_at) < now - STALE))


def _settled_keys(session: Session, keys: set[str], now: datetime) -> set[tuple[int, str]]:
    rows = session.exec(select(col(Notice.member_id), col(Notice.key))
                        .where(col(Notice.key).in_(keys), ~_retryable(now))).all()
    return {(m, k) for m, k in rows}


def _reachable_members(session: Session) -> SelectOfScalar[Member]:
    return select(Member).where(col(Member.active).is_(True), col(Member.unreachable_since).is_(None))


def _window_day(local: datetime, at: time, window: timedelta, member: Member) -> date | None:
    """The working day whose window [at, at + window) holds `local` (yesterday's, for a late `at` past midnight)."""
    for day in (local.date(), local.date() - timedelta(days=1)):
        start = datetime.combine(day, at, tzinfo=local.tzinfo)
        if start <= local < start + window and is_working_day(day, member):
            return day
    return None


def _due_members(members: Iterator[Member], now: datetime,
                 day_of: Callable[[Member, datetime], date | None]) -> Iterator[tuple[Member, date]]:
    """(member, day) for each member `day_of(member, local now)` finds a day for; a member whose stored
    settings break (e.g. an unknown time zone) is logged and skipped, never stopping the others."""
    for member in members:
        try:
            day = day_of(member, _local(now, member))
        except Exception:
            log.exception("member %s: cannot tell whether a notice is due", member.id)
            continue
        if day is not None:
            yield member, day


def digests_due(session: Session, now: datetime) -> list[tuple[Member, date]]:
    """Members whose digest time came within the last DIGEST_WINDOW (their zone), on a working day, not yet sent."""
    def day_of(member: Member, local: datetime) -> date | None:
        at = digest_at(member)
        return None if at is None else _window_day(local, at, DIGEST_WINDOW, member)

    wanted = list(_due_members(session.exec(_reachable_members(session)), now, day_of))
    settled = _settled_keys(session, {digest_key(day) for _, day in wanted}, now)
    return [(m, d) for m, d in wanted if (m.id, digest_key(d)) not in settled]


def weekly_due(session: Session, now: datetime) -> list[tuple[Member, date]]:
    """Managers and owners, once a week: in the morning window (WEEKLY_AT + WEEKLY_WINDOW, their time) of the
    week's first working day (Monday, or Tuesday when Monday is a holiday); missed (the bot was down at the
    time) or failed all morning, that week's summary is not sent at night but skipped."""
    managers = session.exec(_reachable_members(session)
                            .where(col(Member.role).in_((Role.owner.value, Role.manager.value))))

    def day_of(member: Member, local: datetime) -> date | None:
        day = _window_day(local, WEEKLY_AT, WEEKLY_WINDOW, member)
        return day if day is not None and _first_working_day_of_week(day, member) == day else None

    wanted = list(_due_members(managers, now, day_of))
    settled = _settled_keys(session, {weekly_key(day) for _, day in wanted}, now)
    return [(m, d) for m, d in wanted if (m.id, weekly_key(d)) not in settled]


def _first_working_day_of_week(day: date, member: Member) -> date | None:
    monday = day - timedelta(days=day.weekday())
    return next((d for d in (monday + timedelta(days=n) for n in range(7)) if is_working_day(d, member)), None)


def claim_notice(session: Session, member: Member, key: str, kind: str, now: datetime) -> Notice | None:
    """Reserve a notice (unique per member and key); None when it is sent or another process has it."""
    notice = Notice(team_id=member.team_id, member_id=member.id or 0, key=key, kind=kind, created_at=now)
    try:
        with session.begin_nested():
            session.add(notice)
            session.flush()
        return notice
    except IntegrityError:
        pass
    taken = session.execute(update(Notice).where(col(Notice.member_id) == member.id, col(Notice.key) == key, _retryable(now))
                            .values(status="pending", created_at=now)
                            .execution_options(synchronize_session=False))
    if rows_changed(taken) != 1:
        return None
    return session.exec(select(Notice).where(col(Notice.member_id) == member.id, col(Notice.key) == key)
                        .execution_options(populate_existing=True)).one()


def notice_sent(session: Session, notice_id: int, now: datetime, message_id: str | None) -> None:
    session.execute(update(Notice).where(col(Notice.id) == notice_id)
                    .values(status="sent", sent_at=now, message_id=message_id, last_failure=None))


def notice_failed(session: Session, notice_id: int, now: datetime, outcome: Classified,
                  schedule: Schedule = POLICY.notices) -> None:
    """Not sent: a later run takes it again from `retry_at`, within the notice's window, as the delivery
    policy says (a 429 waits its retry_after and is not counted; any other failure backs off by its count)."""
    attempts = session.exec(select(col(Notice.attempts)).where(col(Notice.id) == notice_id)).one()
    retry = POLICY.retry(outcome, attempts, schedule)
    session.execute(update(Notice).where(col(Notice.id) == notice_id).values(
        status="failed", attempts=retry.attempts, retry_at=now + retry.wait,
        last_failure=outcome.kind.value if outcome.kind else None))


def silent_customers(session: Session, now: datetime, limit: int = 200) -> list[Customer]:
    """Important customers, or ones with a deal in progress, quiet for their N days, not yet alerted."""
    in_progress = select(Deal.customer_id).where(col(Deal.closed_at).is_(None),
                                                 col(Deal.stage).not_in(CLOSED_STAGES))
    reachable = select(col(Member.id)).where(col(Member.active).is_(True), col(Member.unreachable_since).is_(None))
    quiet_since = func.coalesce(Customer.last_interaction_at, Customer.created_at)
    rows = session.exec(
        select(Customer, Team.silent_days).join(Team, col(Team.id) == col(Customer.team_id))
        .where(col(Customer.owner_id).in_(reachable), col(Customer.silent_alerted_at).is_(None),
               col(Customer.merged_into_id).is_(None),
               or_(col(Customer.important).is_(True), col(Customer.id).in_(in_progress)),
               quiet_since < now - timedelta(days=1))
        .order_by(quiet_since).limit(limit * 5))
    quiet = []
    for customer, team_days in rows:
        days = customer.silent_days or team_days or 30
        if (customer.last_interaction_at or customer.created_at) < now - timedelta(days=days):
            quiet.append(customer)
    return quiet[:limit]


def claim_silent_alert(session: Session, customer_id: int, now: datetime) -> bool:
    """Take this silence's one alert; False when another process already did."""
    taken = session.execute(update(Customer).where(col(Customer.id) == customer_id,
                                                   col(Customer.silent_alerted_at).is_(None))
                            .values(silent_alerted_at=now).execution_options(synchronize_session=False))
    return rows_changed(taken) == 1


def release_silent_alert(session: Session, customer_id: int, alerted_at: datetime) -> None:
    """The alert did not go out: arm it again (unless something newer happened meanwhile)."""
    session.execute(update(Customer).where(col(Customer.id) == customer_id, col(Customer.silent_alerted_at) == alerted_at)
                    .values(silent_alerted_at=None))


def overdue_by_member(session: Session, team_id: int, now: datetime) -> list[tuple[Member, int]]:
    """Every active member of the team with their number of overdue open follow-ups, most first."""
    counts = dict(session.exec(select(FollowUp.member_id, func.count())
                               .where(col(FollowUp.team_id) == team_id, col(FollowUp.status).in_(OPEN),
                                      col(FollowUp.due_at) < now)
                               .group_by(col(FollowUp.member_id))).all())
    members = session.exec(select(Member).where(col(Member.team_id) == team_id, col(Member.active).is_(True))
                           .order_by(col(Member.id)))
    return sorted(((m, int(counts.get(m.id or 0, 0))) for m in members), key=lambda pair: -pair[1])


def undeliverable(session: Session, member_id: int, now: datetime) -> list[FollowUp]:
    """Open nudges that failed to go out (pending with an error) or may not have arrived (sent, no message id)."""
    return list(session.exec(select(FollowUp).where(
        col(FollowUp.member_id) == member_id,
        or_(and_(col(FollowUp.status).in_((FollowUpStatus.pending.value, FollowUpStatus.snoozed.value)),
                 col(FollowUp.last_error).is_not(None)),
            and_(col(FollowUp.status) == FollowUpStatus.sent.value, col(FollowUp.message_id).is_(None),
                 or_(col(FollowUp.claimed_until).is_(None), col(FollowUp.claimed_until) < now)))
    ).order_by(col(FollowUp.due_at))))


def member_unreachable(session: Session, member_id: int, now: datetime) -> None:
    """The platform said the chat is gone or the bot blocked: pause until the member writes again."""
    session.execute(update(Member).where(col(Member.id) == member_id, col(Member.unreachable_since).is_(None))
                    .values(unreachable_since=now))
