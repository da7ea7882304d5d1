"""Who gets a digest, a silent-customer alert or a weekly summary now; each is sent once per key."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.models import Customer, Deal, FollowUp, FollowUpStatus, Member, Notice, Role, Team
from core.scheduling.workhours import is_working_day

CLOSED_STAGES = ("won", "lost", "closed")
OPEN = (FollowUpStatus.pending.value, FollowUpStatus.sent.value, FollowUpStatus.snoozed.value)


def _local(now: datetime, member: Member) -> datetime:
    return now.astimezone(ZoneInfo(member.timezone))


def _at(value: str, default: time) -> time:
    try:
        hour, minute = value.split(":")
        return time(int(hour), int(minute))
    except (ValueError, AttributeError):
        return default


def digest_key(day: date) -> str:
    return f"digest:{day.isoformat()}"


def weekly_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"weekly:{year}-W{week:02d}"


def _sent_keys(session: Session, keys: set[str]) -> set[tuple[int, str]]:
    rows = session.exec(select(Notice.member_id, Notice.key).where(col(Notice.key).in_(keys))).all()
    return {(m, k) for m, k in rows}


def digests_due(session: Session, now: datetime) -> list[tuple[Member, date]]:
    """Members whose digest time has come today (their zone), on a working day, not yet sent."""
    members = list(session.exec(select(Member).where(col(Member.active).is_(True),
                                                     col(Member.unreachable_since).is_(None))))
    wanted = []
    for member in members:
        local = _local(now, member)
        if local.time() >= _at(member.digest_time, time(8, 30)) and is_working_day(local.date(), member):
            wanted.append((member, local.date()))
    sent = _sent_keys(session, {digest_key(day) for _, day in wanted})
    return [(m, d) for m, d in wanted if (m.id, digest_key(d)) not in sent]


def weekly_due(session: Session, now: datetime) -> list[tuple[Member, date]]:
    """Managers and owners on Monday from 08:30 their time, once a week."""
    managers = session.exec(select(Member).where(col(Member.role).in_((Role.owner.value, Role.manager.value)),
                                                 col(Member.active).is_(True)))
    wanted = [(m, _local(now, m).date()) for m in managers
              if _local(now, m).weekday() == 0 and _local(now, m).time() >= time(8, 30)]
    sent = _sent_keys(session, {weekly_key(day) for _, day in wanted})
    return [(m, d) for m, d in wanted if (m.id, weekly_key(d)) not in sent]


def claim_notice(session: Session, member: Member, key: str, kind: str) -> Notice | None:
    """Reserve a notice (unique per member and key); None when another process already did."""
    notice = Notice(team_id=member.team_id, member_id=member.id or 0, key=key, kind=kind)
    try:
        with session.begin_nested():
            session.add(notice)
            session.flush()
    except IntegrityError:
        return None
    return notice


def silent_customers(session: Session, now: datetime, limit: int = 200) -> list[Customer]:
    """Important customers, or ones with a deal in progress, quiet for their N days, not yet alerted."""
    in_progress = select(Deal.customer_id).where(col(Deal.closed_at).is_(None),
                                                 col(Deal.stage).not_in(CLOSED_STAGES))
    candidates = session.exec(
        select(Customer).join(Team, col(Team.id) == col(Customer.team_id))
        .where(col(Customer.owner_id).is_not(None), col(Customer.silent_alerted_at).is_(None),
               col(Customer.merged_into_id).is_(None),
               or_(col(Customer.important).is_(True), col(Customer.id).in_(in_progress)),
               or_(col(Customer.last_interaction_at).is_(None),
                   and_(col(Customer.last_interaction_at) < now - timedelta(days=1))))
        .limit(limit * 5))
    quiet = []
    for customer in candidates:
        team = session.get(Team, customer.team_id)
        days = customer.silent_days or (team.silent_days if team else 30)
        last = customer.last_interaction_at or customer.created_at
        if last < now - timedelta(days=days):
            quiet.append(customer)
    return quiet[:limit]


def overdue_by_member(session: Session, team_id: int, now: datetime) -> list[tuple[Member, int]]:
    members = session.exec(select(Member).where(Member.team_id == team_id, col(Member.active).is_(True)))
    result = []
    for member in members:
        count = len(session.exec(select(FollowUp.id).where(FollowUp.member_id == member.id,
                                                           col(FollowUp.status).in_(OPEN),
                                                           FollowUp.due_at < now)).all())
        result.append((member, count))
    return sorted(result, key=lambda pair: -pair[1])
