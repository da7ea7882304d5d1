"""`/report` and `chatcrm report`: a period's figures, aggregated in SQL, as frozen views.

A salesperson gets their own figures; managers and owners the team, per salesperson. Periods are the member's
calendar week (Monday first), month or quarter, in their time zone: the current one up to now, or the past one
(`past=True`, the weekly manager summary). Amounts are exact `Decimal`s per currency, never mixed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, or_, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from core.models import (
    Customer,
    Deal,
    DealStageChange,
    FollowUp,
    FollowUpStatus,
    Interaction,
    Member,
    PipelineStage,
    Team,
    UTCDateTime,
)
from core.services.actor import Actor
from core.uow import UnitOfWork

PeriodKind = Literal["week", "month", "quarter"]
PERIODS: tuple[PeriodKind, ...] = ("week", "month", "quarter")
PERIOD_KINDS: dict[str, PeriodKind] = {kind: kind for kind in PERIODS}
OPEN = (FollowUpStatus.pending.value, FollowUpStatus.sent.value, FollowUpStatus.snoozed.value)
ACTIVITY = ("visit", "call", "meeting")  # every other kind of interaction counts as a note
# follow-ups counted as done/late/overdue are the plain ones; payments to collect are listed on their own
TOP_CUSTOMERS = 10
SILENT_LIMIT = 10
PAYMENTS_LIMIT = 20
# the funnel when a team has no stage rows yet (the deals module creates them from config on first use)
DEFAULT_STAGES: tuple[tuple[str, dict[str, str], str], ...] = (
    ("initial", {"zh-Hant": "初步接觸", "zh-Hans": "初步接触", "en": "Initial contact"}, "open"),
    ("needs", {"zh-Hant": "需求確認", "zh-Hans": "需求确认", "en": "Needs confirmed"}, "open"),
    ("proposal", {"zh-Hant": "方案報價", "zh-Hans": "方案报价", "en": "Proposal & quote"}, "open"),
    ("won", {"zh-Hant": "簽約成交", "zh-Hans": "签约成交", "en": "Won"}, "won"),
    ("lost", {"zh-Hant": "輸單", "zh-Hans": "输单", "en": "Lost"}, "lost"),
)

Money = tuple[tuple[str, Decimal], ...]  # (currency, amount), currencies sorted


@dataclass(frozen=True, slots=True)
class Period:
    kind: PeriodKind
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive (now for the current period)
    first_day: date  # in the member's zone
    last_day: date
    current: bool = True  # up to now (what happened at this very moment counts)

    @property
    def until(self) -> datetime:
        """The exclusive bound the queries use: just past `end` for the current period, so a note logged at
        `now` is in it."""
        return self.end + timedelta(microseconds=1) if self.current else self.end


@dataclass(frozen=True, slots=True)
class MemberFigures:
    member_id: int
    name: str
    visits: int = 0
    calls: int = 0
    meetings: int = 0
    notes: int = 0
    follow_ups_done_on_time: int = 0
    follow_ups_done_late: int = 0
    follow_ups_overdue: int = 0
    new_customers: int = 0
    deals_created: int = 0
    deals_won: int = 0
    deals_lost: int = 0
    won: Money = ()

    @property
    def activity(self) -> int:
        return self.visits + self.calls + self.meetings + self.notes


@dataclass(frozen=True, slots=True)
class StageFigures:
    key: str
    names: dict[str, str]
    outcome: str  # open | won | lost
    deals: int  # open stages: deals in it now; won/lost: deals closed so in the period
    amount: Money
    reached: int  # deals of the period that got at least this far (the funnel)
    average_days: float | None  # average days a deal spent in this stage before moving on

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names.get("en") or self.key


@dataclass(frozen=True, slots=True)
class Conversion:
    from_key: str
    to_key: str
    rate: float  # 0..1


@dataclass(frozen=True, slots=True)
class TopCustomer:
    customer_id: int
    name: str
    won: Money
    share: float  # of the won amount in the customer's main currency, 0..1


@dataclass(frozen=True, slots=True)
class SilentCustomer:
    customer_id: int
    name: str
    quiet_days: int | None  # None: never contacted


@dataclass(frozen=True, slots=True)
class OverduePayment:
    follow_up_id: int
    customer: str
    currency: str
    amount: Decimal
    due: datetime


@dataclass(frozen=True, slots=True)
class WonBucket:
    day: date  # first day of the bucket (a day for a week, a week for a month or quarter)
    won: Money


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    team_view: bool  # per salesperson (managers, owners) or the member's own
    members: tuple[MemberFigures, ...]
    stages: tuple[StageFigures, ...]
    conversion: tuple[Conversion, ...]
    top_customers: tuple[TopCustomer, ...]
    customers_for_80: int  # how many of the top customers bring 80% of the won amount (main currency)
    won_customers: int  # customers with a deal won in the period
    silent: tuple[SilentCustomer, ...]
    payments_overdue: tuple[OverduePayment, ...]
    won_over_time: tuple[WonBucket, ...]

    @property
    def empty(self) -> bool:
        return (not any(m.activity or m.new_customers or m.deals_created or m.deals_won or m.deals_lost
                        or m.follow_ups_done_on_time or m.follow_ups_done_late or m.follow_ups_overdue
                        for m in self.members)
                and not any(s.deals for s in self.stages) and not self.payments_overdue and not self.silent)

    @property
    def won_total(self) -> Money:
        return _add(*(m.won for m in self.members))


def parse_period(word: str | None) -> PeriodKind | None:
    """`week`/`週`/`周`/`本週`…, `month`/`月`, `quarter`/`季`; None for anything else (empty → month)."""
    text = (word or "").strip().casefold()
    if not text:
        return "month"
    for kind, words in PERIOD_WORDS.items():
        if text in words:
            return kind
    return None


PERIOD_WORDS: dict[PeriodKind, frozenset[str]] = {
    "week": frozenset({"week", "w", "weekly", "週", "周", "本週", "本周", "這週", "这周", "每週", "每周", "週報", "周报"}),
    "month": frozenset({"month", "m", "monthly", "月", "本月", "這個月", "这个月", "月報", "月报"}),
    "quarter": frozenset({"quarter", "q", "quarterly", "季", "本季", "季度", "這季", "这季", "季報", "季报"}),
}


def period_of(kind: PeriodKind, now: datetime, zone: ZoneInfo, *, past: bool = False) -> Period:
    """The member's current week/month/quarter up to `now`, or the whole previous one (`past`)."""
    today = now.astimezone(zone).date()
    if kind == "week":
        first = today - timedelta(days=today.weekday())
        if past:
            first -= timedelta(days=7)
        after = first + timedelta(days=7)
    else:
        months = 1 if kind == "month" else 3
        start_month = (today.month - 1) // months * months + 1
        first = date(today.year, start_month, 1)
        if past:
            first = _add_months(first, -months)
        after = _add_months(first, months)
    start = datetime.combine(first, time(0), zone).astimezone(ZoneInfo("UTC"))
    end = datetime.combine(after, time(0), zone).astimezone(ZoneInfo("UTC"))
    if not past:
        end = min(end, now)
    last = min(after - timedelta(days=1), today) if not past else after - timedelta(days=1)
    return Period(kind, start, end, first, last, current=not past)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def report_for(uow: UnitOfWork, actor: Actor, now: datetime, kind: PeriodKind, *, past: bool = False,
               member_name: str | None = None) -> Report:
    """The report a member may see; `member_name` (managers, the CLI) narrows it to one salesperson."""
    session = uow.session
    period = period_of(kind, now, actor.zone, past=past)
    team = session.get(Team, actor.team_id)
    assert team is not None
    members = _members(session, actor, member_name)
    ids = [m.id for m in members if m.id is not None]
    figures = _member_figures(session, actor.team_id, ids, period, now)
    stages = _stages(session, actor.team_id)
    deal_scope = _deal_scope(actor, ids, member_name)
    stage_figures, conversion = _funnel(session, actor.team_id, stages, deal_scope, period)
    top, for_80, won_customers = _top_customers(session, actor.team_id, deal_scope, period)
    customer_scope = _customer_scope(actor, ids, member_name)
    return Report(
        period=period,
        team_view=actor.sees_whole_team and member_name is None,
        members=tuple(figures[m.id] for m in members if m.id is not None),
        stages=stage_figures,
        conversion=conversion,
        top_customers=top,
        customers_for_80=for_80,
        won_customers=won_customers,
        silent=_silent(session, team, customer_scope, now),
        payments_overdue=_payments(session, actor.team_id, customer_scope, now),
        won_over_time=_won_over_time(session, actor.team_id, deal_scope, period, actor.zone),
    )


def _members(session: Session, actor: Actor, member_name: str | None) -> list[Member]:
    query = select(Member).where(col(Member.team_id) == actor.team_id)
    if not actor.sees_whole_team:
        query = query.where(col(Member.id) == actor.member_id)
    elif member_name:
        query = query.where(func.lower(col(Member.name)) == member_name.strip().lower())
    else:
        query = query.where(col(Member.active).is_(True))
    return list(session.exec(query.order_by(col(Member.name), col(Member.id))).all())


def _deal_scope(actor: Actor, ids: list[int], member_name: str | None) -> Any:
    team = col(Deal.team_id) == actor.team_id
    if actor.sees_whole_team and not member_name:
        return team
    return and_(team, col(Deal.owner_id).in_(ids or [-1]))


def _customer_scope(actor: Actor, ids: list[int], member_name: str | None) -> Any:
    if actor.sees_whole_team and member_name:
        return and_(actor.customer_filter(), col(Customer.owner_id).in_(ids or [-1]))
    return actor.customer_filter()


def _member_figures(session: Session, team_id: int, ids: list[int], period: Period,
                    now: datetime) -> dict[int, MemberFigures]:
    counts: dict[Any, dict[str, Any]] = {i: defaultdict(int) for i in ids}
    member_id: Any
    if not ids:
        return {}
    rows = session.exec(
        select(Interaction.member_id, Interaction.kind, func.count())
        .where(col(Interaction.team_id) == team_id, col(Interaction.member_id).in_(ids),
               col(Interaction.deleted_at).is_(None), col(Interaction.occurred_at) >= period.start,
               col(Interaction.occurred_at) < period.until)
        .group_by(col(Interaction.member_id), col(Interaction.kind))).all()
    for member_id, kind, n in rows:
        counts[member_id][kind + "s" if kind in ACTIVITY else "notes"] += n
    late = col(FollowUp.done_at) > col(FollowUp.due_at)
    for member_id, is_late, n in session.exec(
            select(FollowUp.member_id, late, func.count())
            .where(col(FollowUp.team_id) == team_id, col(FollowUp.member_id).in_(ids),
                   col(FollowUp.kind) != "payment", col(FollowUp.status) == FollowUpStatus.done.value,
                   col(FollowUp.done_at) >= period.start,
                   col(FollowUp.done_at) < period.until)
            .group_by(col(FollowUp.member_id), late)).all():
        counts[member_id]["follow_ups_done_late" if is_late else "follow_ups_done_on_time"] += n
    for member_id, n in session.exec(
            select(FollowUp.member_id, func.count())
            .where(col(FollowUp.team_id) == team_id, col(FollowUp.member_id).in_(ids),
                   col(FollowUp.kind) != "payment", col(FollowUp.status).in_(OPEN), col(FollowUp.due_at) < now)
            .group_by(col(FollowUp.member_id))).all():
        counts[member_id]["follow_ups_overdue"] += n
    for member_id, n in session.exec(
            select(Customer.owner_id, func.count())
            .where(col(Customer.team_id) == team_id, col(Customer.owner_id).in_(ids),
                   col(Customer.merged_into_id).is_(None), col(Customer.created_at) >= period.start,
                   col(Customer.created_at) < period.until)
            .group_by(col(Customer.owner_id))).all():
        counts[member_id]["new_customers"] += n
    for member_id, n in session.exec(
            select(Deal.owner_id, func.count())
            .where(col(Deal.team_id) == team_id, col(Deal.owner_id).in_(ids), col(Deal.created_at) >= period.start,
                   col(Deal.created_at) < period.until)
            .group_by(col(Deal.owner_id))).all():
        counts[member_id]["deals_created"] += n
    for member_id, n in session.exec(
            select(Deal.owner_id, func.count())
            .where(col(Deal.team_id) == team_id, col(Deal.owner_id).in_(ids), col(Deal.lost_at) >= period.start,
                   col(Deal.lost_at) < period.until)
            .group_by(col(Deal.owner_id))).all():
        counts[member_id]["deals_lost"] += n
    won: dict[Any, dict[str, Decimal]] = defaultdict(dict)
    for member_id, currency, n, total in session.exec(
            select(Deal.owner_id, Deal.currency, func.count(), func.sum(col(Deal.amount)))
            .where(col(Deal.team_id) == team_id, col(Deal.owner_id).in_(ids), col(Deal.won_at) >= period.start,
                   col(Deal.won_at) < period.until)
            .group_by(col(Deal.owner_id), col(Deal.currency))).all():
        counts[member_id]["deals_won"] += n
        if total is not None:
            won[member_id][currency or ""] = _decimal(total)
    names = dict(session.exec(select(Member.id, Member.name).where(col(Member.id).in_(ids))).all())
    return {i: MemberFigures(i, names.get(i, ""), won=_money(won.get(i, {})), **dict(counts[i])) for i in ids}


def _stages(session: Session, team_id: int) -> list[tuple[str, dict[str, str], str]]:
    rows = session.exec(select(PipelineStage).where(col(PipelineStage.team_id) == team_id)
                        .order_by(col(PipelineStage.position), col(PipelineStage.id))).all()
    if not rows:
        return list(DEFAULT_STAGES)
    return [(row.key, dict(row.names or {}), row.outcome) for row in rows]


def _funnel(session: Session, team_id: int, stages: list[tuple[str, dict[str, str], str]], scope: Any,
            period: Period) -> tuple[tuple[StageFigures, ...], tuple[Conversion, ...]]:
    """Deals and amounts per stage; the funnel over the period's deals (created before its end and not closed
    before its start): how many reached each open stage or won, by the furthest stage each ever reached."""
    outcome = {key: out for key, _, out in stages}
    # now: open deals per stage; won/lost: closed in the period
    amounts: dict[str, dict[str, Decimal]] = defaultdict(dict)
    deals: dict[str, int] = defaultdict(int)
    for stage, currency, n, total in session.exec(
            select(Deal.stage, Deal.currency, func.count(), func.sum(col(Deal.amount)))
            .where(scope, col(Deal.won_at).is_(None), col(Deal.lost_at).is_(None))
            .group_by(col(Deal.stage), col(Deal.currency))).all():
        deals[stage] += n
        if total is not None:
            amounts[stage][currency or ""] = amounts[stage].get(currency or "", Decimal(0)) + _decimal(total)
    won_key = next((key for key, _, out in stages if out == "won"), "won")
    lost_key = next((key for key, _, out in stages if out == "lost"), "lost")
    for key, column in ((won_key, Deal.won_at), (lost_key, Deal.lost_at)):
        for currency, n, total in session.exec(
                select(Deal.currency, func.count(), func.sum(col(Deal.amount)))
                .where(scope, col(column) >= period.start, col(column) < period.until)
                .group_by(col(Deal.currency))).all():
            deals[key] += n
            if total is not None:
                amounts[key][currency or ""] = amounts[key].get(currency or "", Decimal(0)) + _decimal(total)
    # the funnel: furthest position each deal of the period reached (its stage changes and its stage now)
    ladder = [key for key, _, out in stages if out != "lost"]
    position = {key: index for index, key in enumerate(ladder)}
    cohort = and_(scope, col(Deal.created_at) < period.until,
                  or_(col(Deal.won_at).is_(None), col(Deal.won_at) >= period.start),
                  or_(col(Deal.lost_at).is_(None), col(Deal.lost_at) >= period.start))
    # in SQL: each deal's furthest position (its stage now and every stage it moved to), then deals per position
    now_at = case(position, value=col(Deal.stage), else_=0) if position else literal(0)
    moved_to = case(position, value=col(DealStageChange.to_stage), else_=0) if position else literal(0)
    reached = union_all(
        select(col(Deal.id).label("deal"), now_at.label("pos")).where(cohort),
        select(col(DealStageChange.deal_id).label("deal"), moved_to.label("pos"))
        .join(Deal, col(Deal.id) == col(DealStageChange.deal_id)).where(cohort)).subquery()
    furthest = select(reached.c.deal, func.max(reached.c.pos).label("top")).group_by(reached.c.deal).subquery()
    reached_at = [0] * len(ladder)
    for top, n in session.exec(select(furthest.c.top, func.count()).group_by(furthest.c.top)).all():
        for index in range(min(int(top or 0), len(ladder) - 1) + 1):
            reached_at[index] += n
    average = _average_days(session, scope, period)
    figures = tuple(
        StageFigures(key, names, out, deals.get(key, 0), _money(amounts.get(key, {})),
                     reached_at[position[key]] if key in position else deals.get(key, 0), average.get(key))
        for key, names, out in stages)
    conversion = tuple(
        Conversion(ladder[i], ladder[i + 1], reached_at[i + 1] / reached_at[i] if reached_at[i] else 0.0)
        for i in range(len(ladder) - 1) if outcome.get(ladder[i]) == "open")
    return figures, conversion


def _average_days(session: Session, scope: Any, period: Period) -> dict[str, float]:
    """Average days in a stage: from entering it (the previous move, or the deal's creation) to leaving it, over
    the moves made in the period."""
    previous = func.lag(col(DealStageChange.at), type_=UTCDateTime()).over(partition_by=col(DealStageChange.deal_id),
                                                     order_by=(col(DealStageChange.at), col(DealStageChange.id)))
    moves = (select(DealStageChange.from_stage, DealStageChange.at, previous.label("entered"), Deal.created_at)
             .join(Deal, col(Deal.id) == col(DealStageChange.deal_id))
             .where(scope, col(DealStageChange.deal_id).in_(  # only deals that moved in the period
                 select(DealStageChange.deal_id).where(col(DealStageChange.at) >= period.start,
                                                       col(DealStageChange.at) < period.until)))
             .subquery())
    rows = session.exec(select(moves.c.from_stage, moves.c.at, moves.c.entered, moves.c.created_at)
                        .where(moves.c.at >= period.start, moves.c.at < period.until,
                               moves.c.from_stage.is_not(None))).all()
    spent: dict[str, list[float]] = defaultdict(list)
    for from_stage, at, entered, created in rows:
        began = _aware(entered) if entered is not None else _aware(created)
        spent[from_stage].append(max((_aware(at) - began).total_seconds(), 0) / 86400)
    return {stage: sum(days) / len(days) for stage, days in spent.items()}


def _top_customers(session: Session, team_id: int, scope: Any,
                   period: Period) -> tuple[tuple[TopCustomer, ...], int, int]:
    rows = session.exec(
        select(Deal.customer_id, Customer.name, Deal.currency, func.sum(col(Deal.amount)))
        .join(Customer, col(Customer.id) == col(Deal.customer_id))
        .where(scope, col(Deal.won_at) >= period.start, col(Deal.won_at) < period.until)
        .group_by(col(Deal.customer_id), col(Customer.name), col(Deal.currency))).all()
    per: dict[int, dict[str, Decimal]] = defaultdict(dict)
    names: dict[int, str] = {}
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for customer_id, name, currency, total in rows:
        names[customer_id] = name
        if total is not None:
            per[customer_id][currency or ""] = _decimal(total)
            totals[currency or ""] += _decimal(total)
    if not names:
        return (), 0, 0
    main = max(totals, key=lambda c: (totals[c], c)) if totals else ""
    ranked = sorted(names, key=lambda c: (-per[c].get(main, Decimal(0)), names[c]))
    whole = totals.get(main) or Decimal(0)
    share = {c: float(per[c].get(main, Decimal(0)) / whole) if whole else 0.0 for c in ranked}
    running, for_80 = 0.0, 0
    for customer in ranked:
        if running >= 0.8 - 1e-9:
            break
        running += share[customer]
        for_80 += 1
    top = tuple(TopCustomer(c, names[c], _money(per[c]), share[c]) for c in ranked[:TOP_CUSTOMERS])
    return top, for_80 if whole else 0, len(names)


def _silent(session: Session, team: Team, scope: Any, now: datetime) -> tuple[SilentCustomer, ...]:
    rows = session.exec(
        select(Customer.id, Customer.name, Customer.last_interaction_at, Customer.silent_days)
        .where(scope, col(Customer.important).is_(True), col(Customer.merged_into_id).is_(None),
               or_(col(Customer.last_interaction_at).is_(None),
                   col(Customer.last_interaction_at) < now - timedelta(days=min(team.silent_days, 3650))))
        .order_by(col(Customer.last_interaction_at).is_(None).desc(), col(Customer.last_interaction_at))
        .limit(SILENT_LIMIT * 4)).all()
    # a customer's own threshold (it may be shorter than the team's) is checked here
    out = []
    for customer_id, name, last, own in rows:
        threshold = own or team.silent_days
        quiet = (now - _aware(last)).days if last is not None else None
        if quiet is None or quiet >= threshold:
            out.append(SilentCustomer(customer_id or 0, name, quiet))
    return tuple(out[:SILENT_LIMIT])


def _payments(session: Session, team_id: int, scope: Any, now: datetime) -> tuple[OverduePayment, ...]:
    rows: Any = session.execute(
        sa_select(col(FollowUp.id), col(Customer.name), col(FollowUp.currency), col(FollowUp.amount),
                  col(FollowUp.due_at))
        .join(Customer, col(Customer.id) == col(FollowUp.customer_id))
        .where(col(FollowUp.team_id) == team_id, scope, col(FollowUp.kind) == "payment",
               col(FollowUp.status).in_(OPEN), col(FollowUp.due_at) < now)
        .order_by(col(FollowUp.due_at)).limit(PAYMENTS_LIMIT)).all()
    return tuple(OverduePayment(i or 0, name, currency or "", _decimal(amount) if amount is not None else Decimal(0),
                                _aware(due)) for i, name, currency, amount, due in rows)


def _won_over_time(session: Session, team_id: int, scope: Any, period: Period,
                   zone: ZoneInfo) -> tuple[WonBucket, ...]:
    """Won amount per day (a week) or per week (a month, a quarter), every bucket of the period listed."""
    step = 1 if period.kind == "week" else 7
    first = period.first_day if step == 1 else period.first_day - timedelta(days=period.first_day.weekday())
    buckets: dict[date, dict[str, Decimal]] = {}
    day = first
    while day <= period.last_day:
        buckets[day] = {}
        day += timedelta(days=step)
    for won_at, currency, amount in session.exec(
            select(col(Deal.won_at), col(Deal.currency), col(Deal.amount))
            .where(scope, col(Deal.won_at) >= period.start, col(Deal.won_at) < period.until,
                   col(Deal.amount).is_not(None))).all():
        if won_at is None or amount is None:
            continue
        local = _aware(won_at).astimezone(zone).date()
        key = local if step == 1 else local - timedelta(days=local.weekday())
        bucket = buckets.setdefault(key, {})
        bucket[currency or ""] = bucket.get(currency or "", Decimal(0)) + _decimal(amount)
    return tuple(WonBucket(day, _money(money)) for day, money in sorted(buckets.items()))


def _decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value.quantize(Decimal("0.01"))
    return Decimal(repr(value) if isinstance(value, float) else str(value)).quantize(Decimal("0.01"))


def _money(amounts: dict[str, Decimal]) -> Money:
    return tuple(sorted((currency, amount) for currency, amount in amounts.items()))


def _add(*parts: Money) -> Money:
    total: dict[str, Decimal] = defaultdict(Decimal)
    for money in parts:
        for currency, amount in money:
            total[currency] += amount
    return _money(dict(total))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo("UTC"))
