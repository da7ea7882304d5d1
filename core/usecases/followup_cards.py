"""What a nudge card, a digest, a weekly summary and a silent-customer alert show: frozen views built from rows.

The chat layer renders these (bot/notifier.py); nothing here knows a language or a platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from core.delivery import FailureKind
from core.models import Customer, FollowUp, FollowUpStatus, Interaction, Member
from core.scheduling.notices import OPEN, overdue_by_member, undeliverable
from core.scheduling.workhours import within_working_time
from core.services.actor import Actor
from core.uow import UnitOfWork
from core.usecases.reports import Report, report_for
from core.usecases.views import CustomerRef, FollowUpView

SNIPPET = 70
DIGEST_ROWS = 20


def card_stamp(due_at: datetime) -> str:
    """The due minute a card was drawn for: a button from an older card changes nothing."""
    return format(int(due_at.timestamp()) // 60, "x")


def follow_up_view(follow_up: FollowUp, customer: Customer | None) -> FollowUpView:
    ref = CustomerRef(customer.id or 0, customer.name) if customer is not None else None
    return FollowUpView(follow_up.id or 0, follow_up.action or "", follow_up.due_at, follow_up.status, ref,
                        follow_up.explicit_time, card_stamp(follow_up.due_at))


def customer_of(session: Session, follow_up: FollowUp) -> Customer | None:
    return session.get(Customer, follow_up.customer_id) if follow_up.customer_id else None


@dataclass(frozen=True, slots=True)
class Recipient:
    """The member a nudge or notice is for, as rendering needs them."""

    id: int
    name: str
    role: str
    language: str
    timezone: str

    @classmethod
    def of(cls, member: Member) -> Recipient:
        return cls(member.id or 0, member.name, member.role, member.language, member.timezone)


@dataclass(frozen=True, slots=True)
class NudgeCard:
    """A follow-up's card: the customer, the promised action, when it was due, the last interaction in one
    line; `late` (sent after its time) and `held` (it waited for the member's working hours)."""

    follow_up: FollowUpView
    recipient: Recipient
    last_at: datetime | None = None
    last_text: str = ""
    late: bool = False
    held: bool = False
    owed: tuple[Decimal, str] | None = None  # a payment to collect (issue 15): amount and currency


def snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…"


def nudge_card(session: Session, follow_up: FollowUp, member: Member, *, late: bool = False) -> NudgeCard:
    customer = customer_of(session, follow_up)
    last_at, last_text = None, ""
    if customer is not None:
        last = session.exec(select(Interaction).where(Interaction.customer_id == customer.id,
                                                      col(Interaction.deleted_at).is_(None))
                            .order_by(col(Interaction.occurred_at).desc()).limit(1)).first()
        if last is not None:
            last_at, last_text = last.occurred_at, snippet(last.transcript or last.text)
    held = late and not follow_up.explicit_time and not within_working_time(follow_up.due_at, member)
    owed = ((follow_up.amount, follow_up.currency) if follow_up.kind == "payment" and follow_up.amount is not None
            and follow_up.currency else None)
    return NudgeCard(follow_up_view(follow_up, customer), Recipient.of(member), last_at, last_text, late, held, owed)


@dataclass(frozen=True, slots=True)
class Problem:
    """A nudge that did not (surely) reach the member: `kind` is why (core.delivery.FailureKind)."""

    follow_up: FollowUpView
    kind: FailureKind | None  # None: failed before failure kinds were recorded

    @property
    def uncertain(self) -> bool:
        """Sent without a confirmation: it may have arrived (never resent)."""
        return self.follow_up.status == FollowUpStatus.sent.value


def problems_of(session: Session, member_id: int, now: datetime) -> list[Problem]:
    found = []
    for follow_up in undeliverable(session, member_id, now):
        if follow_up.status == FollowUpStatus.sent.value:
            kind: FailureKind | None = FailureKind.uncertain
        else:
            kind = FailureKind(follow_up.last_failure) if follow_up.last_failure in set(FailureKind) else None
        found.append(Problem(follow_up_view(follow_up, customer_of(session, follow_up)), kind))
    return found


@dataclass(frozen=True, slots=True)
class DigestLine:
    follow_up: FollowUpView
    overdue: bool
    problem: Problem | None = None


@dataclass(frozen=True, slots=True)
class Digest:
    """Today's and overdue open follow-ups (the first DIGEST_ROWS), and how many could not be delivered."""

    lines: tuple[DigestLine, ...]
    total: int
    undelivered: int


def digest_of(session: Session, member: Member, now: datetime) -> Digest | None:
    """None when there is nothing open for today or before."""
    zone = ZoneInfo(member.timezone)
    end_of_day = datetime.combine(now.astimezone(zone).date() + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    rows = session.exec(select(FollowUp, Customer).join(Customer, col(Customer.id) == col(FollowUp.customer_id),
                                                        isouter=True)
                        .where(FollowUp.member_id == member.id, col(FollowUp.status).in_(OPEN),
                               FollowUp.due_at < end_of_day).order_by(col(FollowUp.due_at))).all()
    if not rows:
        return None
    problems = {p.follow_up.id: p for p in problems_of(session, member.id or 0, now)}
    lines = tuple(DigestLine(follow_up_view(f, c), f.due_at < now, problems.get(f.id or 0))
                  for f, c in rows[:DIGEST_ROWS])
    return Digest(lines, len(rows), len(problems))


@dataclass(frozen=True, slots=True)
class WeeklySummary:
    """Overdue open follow-ups per active member of the manager's team, most first (zeros left out)."""

    overdue: tuple[tuple[str, int], ...]
    report: Report | None = None  # the past week's team report (core/usecases/reports), shown below

    @property
    def total(self) -> int:
        return sum(count for _, count in self.overdue)


def weekly_of(session: Session, member: Member, now: datetime) -> WeeklySummary:
    counts = overdue_by_member(session, member.team_id, now)
    report = report_for(UnitOfWork(session), Actor.of(member), now, "week", past=True)
    return WeeklySummary(tuple((person.name, count) for person, count in counts if count), report)


@dataclass(frozen=True, slots=True)
class SilentAlert:
    customer: CustomerRef
    quiet_days: int


def silent_alert_of(customer: Customer, now: datetime) -> SilentAlert:
    last = customer.last_interaction_at or customer.created_at
    return SilentAlert(CustomerRef(customer.id or 0, customer.name), (now - last).days)
