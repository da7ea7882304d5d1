"""Deals and the funnel (issue 15): create, move between stages (history + audit), win, lose with a reason,
amount and expected close, a customer's deals, the team's stages, and the pipeline.

Query surface for reports (every function returns frozen views, visibility as the actor's):
- `stages(uow, actor)` → the team's `StageView`s in order (defaults created lazily);
- `deals_for_customer(uow, actor, customer_id)`, `get_deal(uow, actor, deal_id)` → `DealView`s;
- `deals_per_stage(uow, actor, *, member_id=None, team=False)` → `StageTotals` per stage (count, amounts and
  weighted amounts per currency), aggregated in SQL;
- `stage_history(uow, actor, deal_id)` and `stage_changes(uow, actor, since, until)` → `StageChangeView`s;
- `pipeline(uow, actor, now)` → `PipelineView` (per salesperson for managers/owners, closing this month, stalled).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, or_, select

from core.models import Customer, Deal, DealOutcome, DealStageChange, Member, PipelineStage, Team
from core.services import audit
from core.services import deals as deal_service
from core.services.actor import Actor
from core.services.errors import InvalidInput, NotAllowed, NotFound
from core.understanding.amounts import find_amounts
from core.understanding.when import find_moments
from core.uow import UnitOfWork
from core.usecases.views import CustomerRef

MAX_AMOUNT = Decimal("9999999999999999.99")  # NUMERIC(18,2)
MAX_TITLE = 120
STALLED_SHOWN = 10


@dataclass(frozen=True, slots=True)
class StageView:
    key: str
    name: str  # in the actor's language
    position: int
    probability: int
    outcome: str


@dataclass(frozen=True, slots=True)
class Money:
    currency: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class DealView:
    id: int
    customer: CustomerRef
    title: str
    stage: StageView
    amount: Decimal | None
    currency: str | None
    probability: int
    expected_close: date | None
    owner_id: int | None
    owner_name: str
    created_at: datetime
    won_at: datetime | None
    lost_at: datetime | None
    lost_reason: str | None
    last_activity_at: datetime
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        return self.stage.outcome == DealOutcome.open.value


@dataclass(frozen=True, slots=True)
class StageChangeView:
    deal_id: int
    member_id: int | None
    member_name: str
    from_stage: str | None
    to_stage: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StageTotals:
    stage: StageView
    deals: int
    amounts: tuple[Money, ...]  # per currency, sum of amounts
    weighted: tuple[Money, ...]  # per currency, sum of amount x probability / 100


@dataclass(frozen=True, slots=True)
class MemberPipeline:
    member_id: int | None
    name: str
    stages: tuple[StageTotals, ...]
    forecast: tuple[Money, ...]  # weighted open amounts per currency


@dataclass(frozen=True, slots=True)
class PipelineView:
    team_wide: bool
    members: tuple[MemberPipeline, ...]  # one (the actor) for a salesperson; each salesperson for managers
    totals: tuple[StageTotals, ...]
    forecast: tuple[Money, ...]
    closing_this_month: tuple[DealView, ...]
    stalled: tuple[DealView, ...]
    stalled_count: int
    stalled_days: int


# -- stages -------------------------------------------------------------------------------------------------

def _stage_view(stage: PipelineStage, language: str) -> StageView:
    return StageView(stage.key, deal_service.stage_name(stage, language), stage.position, stage.probability,
                     stage.outcome)


def stages(uow: UnitOfWork, actor: Actor) -> tuple[StageView, ...]:
    return tuple(_stage_view(s, actor.language) for s in deal_service.stages(uow.session, actor.team_id))


def _manager(actor: Actor) -> None:
    if not actor.sees_whole_team:
        raise NotAllowed("only managers and owners change the stages")


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > deal_service.MAX_NAME:
        raise InvalidInput("stage name", limit=deal_service.MAX_NAME)
    return cleaned


def _find_stage(session: Session, actor: Actor, key: str) -> PipelineStage:
    stage = deal_service.stage_map(session, actor.team_id).get(key)
    if stage is None:
        raise NotFound("stage", key=key)
    return stage


def rename_stage(uow: UnitOfWork, actor: Actor, key: str, name: str) -> StageView:
    """Rename a stage in the actor's language (the other languages keep theirs)."""
    _manager(actor)
    stage = _find_stage(uow.session, actor, key)
    before = audit.snapshot(stage)
    stage.names = {**stage.names, actor.language: _clean_name(name)}
    uow.session.add(stage)
    audit.record(uow.session, team_id=actor.team_id, actor_id=actor.member_id, action="stage.rename", entity=stage,
                 before=before, after=audit.snapshot(stage))
    return _stage_view(stage, actor.language)


def add_stage(uow: UnitOfWork, actor: Actor, name: str, probability: int | None = None) -> StageView:
    """A new open stage, placed before the first closed one (won/lost); its name in all three languages."""
    _manager(actor)
    cleaned = _clean_name(name)
    team_stages = deal_service.stages(uow.session, actor.team_id)
    if len(team_stages) >= deal_service.MAX_STAGES:
        raise InvalidInput("too many stages", limit=deal_service.MAX_STAGES)
    if any(deal_service.stage_name(s, actor.language).casefold() == cleaned.casefold() for s in team_stages):
        raise InvalidInput("stage exists", name=cleaned)
    open_ones = [s for s in team_stages if s.outcome == DealOutcome.open.value]
    if probability is None:
        probability = open_ones[-1].probability if open_ones else 50
    if not 0 <= probability <= 100:
        raise InvalidInput("probability", limit=100)
    taken = {s.key for s in team_stages}
    number = len(team_stages) + 1
    while f"s{number}" in taken:
        number += 1
    place = max((s.position for s in open_ones), default=-1) + 1
    for later in team_stages:
        if later.position >= place:
            later.position += 1
            uow.session.add(later)
    stage = PipelineStage(team_id=actor.team_id, key=f"s{number}", position=place,
                          names={lang: cleaned for lang in deal_service.LANGUAGES}, probability=probability,
                          outcome=DealOutcome.open.value)
    uow.session.add(stage)
    uow.session.flush()
    audit.record(uow.session, team_id=actor.team_id, actor_id=actor.member_id, action="stage.add", entity=stage,
                 after=audit.snapshot(stage))
    return _stage_view(stage, actor.language)


def move_stage_up(uow: UnitOfWork, actor: Actor, key: str) -> tuple[StageView, ...]:
    """Swap a stage with the one before it (a press on the first changes nothing)."""
    _manager(actor)
    team_stages = deal_service.stages(uow.session, actor.team_id)
    index = next((i for i, s in enumerate(team_stages) if s.key == key), None)
    if index is None:
        raise NotFound("stage", key=key)
    if index > 0:
        ordered = [*team_stages[:index - 1], team_stages[index], team_stages[index - 1], *team_stages[index + 1:]]
        for position, stage in enumerate(ordered):
            if stage.position != position:
                stage.position = position
                uow.session.add(stage)
        audit.record(uow.session, team_id=actor.team_id, actor_id=actor.member_id, action="stage.reorder",
                     entity="pipelinestage", after={"order": [s.key for s in ordered]})
        team_stages = ordered
    return tuple(_stage_view(s, actor.language) for s in team_stages)


# -- deals --------------------------------------------------------------------------------------------------

def parse_amount(value: object) -> Decimal:
    """An exact, positive amount to the cent; InvalidInput for anything else."""
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput("amount") from exc
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise InvalidInput("amount")
    return amount.quantize(Decimal("0.01"))


def _currency(currency: str | None) -> str | None:
    if currency is None:
        return None
    code = currency.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise InvalidInput("currency")
    return code


def _visible_customer(session: Session, actor: Actor, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.team_id != actor.team_id or customer.merged_into_id is not None:
        raise NotFound("customer")
    if not actor.can_see(customer):
        raise NotAllowed("customer")
    return customer


def _deal(session: Session, actor: Actor, deal_id: int) -> tuple[Deal, Customer]:
    deal = session.get(Deal, deal_id)
    if deal is None or deal.team_id != actor.team_id:
        raise NotFound("deal")
    customer = _visible_customer(session, actor, deal.customer_id)
    return deal, customer


def _view(deal: Deal, customer: Customer, stage_by_key: dict[str, PipelineStage], language: str,
          owner_name: str) -> DealView:
    stage = stage_by_key.get(deal.stage)
    view = (_stage_view(stage, language) if stage is not None
            else StageView(deal.stage, deal.stage, 99, deal.probability, DealOutcome.open.value))
    return DealView(deal.id or 0, CustomerRef(customer.id or 0, customer.name), deal.title, view, deal.amount,
                    deal.currency, deal.probability, deal.expected_close, deal.owner_id, owner_name,
                    deal.created_at, deal.won_at, deal.lost_at, deal.lost_reason, deal.last_activity_at,
                    deal.updated_at)


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.exec(select(Member.id, Member.name).where(col(Member.id).in_(wanted))).all())  # type: ignore[arg-type]


def _one(session: Session, actor: Actor, deal: Deal, customer: Customer) -> DealView:
    names = _names(session, {deal.owner_id})
    return _view(deal, customer, deal_service.stage_map(session, actor.team_id), actor.language,
                 names.get(deal.owner_id or 0, ""))


def create_deal(uow: UnitOfWork, actor: Actor, now: datetime, customer_id: int, title: str, *,
                amount: object = None, currency: str | None = None, stage: str | None = None,
                expected_close: date | None = None, source_interaction_id: int | None = None) -> DealView:
    session = uow.session
    customer = _visible_customer(session, actor, customer_id)
    cleaned = " ".join(title.split())[:MAX_TITLE] or customer.name
    team_stages = deal_service.stages(session, actor.team_id)
    chosen = (next((s for s in team_stages if s.key == stage), None) if stage
              else deal_service.first_with(DealOutcome.open.value, team_stages))
    if chosen is None:
        raise NotFound("stage", key=stage)
    value = parse_amount(amount) if amount is not None else None
    code = _currency(currency) if value is not None else None
    if value is not None and code is None:
        raise InvalidInput("currency")
    deal = Deal(team_id=actor.team_id, customer_id=customer.id or 0, owner_id=customer.owner_id or actor.member_id,
                title=cleaned, stage=chosen.key, amount=value, currency=code, probability=chosen.probability,
                expected_close=expected_close, last_activity_at=now, source_interaction_id=source_interaction_id,
                created_at=now, updated_at=now)
    if chosen.outcome == DealOutcome.won.value:
        deal.won_at = deal.closed_at = now
    elif chosen.outcome == DealOutcome.lost.value:
        deal.lost_at = deal.closed_at = now
    session.add(deal)
    session.flush()
    session.add(DealStageChange(team_id=actor.team_id, deal_id=deal.id or 0, member_id=actor.member_id,
                                from_stage=None, to_stage=chosen.key, at=now))
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="deal.create", entity=deal,
                 after=audit.snapshot(deal))
    return _one(session, actor, deal, customer)


def move_deal(uow: UnitOfWork, actor: Actor, now: datetime, deal_id: int, stage_key: str,
              reason: str | None = None) -> DealView:
    """Move a deal to a stage; the same stage again changes nothing (buttons are idempotent)."""
    session = uow.session
    deal, customer = _deal(session, actor, deal_id)
    stage = deal_service.stage_map(session, actor.team_id).get(stage_key)
    if stage is None:
        raise NotFound("stage", key=stage_key)
    deal_service.move(session, deal, stage, member_id=actor.member_id, at=now,
                      reason=" ".join((reason or "").split())[:200] or None)
    return _one(session, actor, deal, customer)


def win(uow: UnitOfWork, actor: Actor, now: datetime, deal_id: int) -> DealView:
    stage = deal_service.first_with(DealOutcome.won.value, deal_service.stages(uow.session, actor.team_id))
    if stage is None:
        raise NotFound("stage", key="won")
    return move_deal(uow, actor, now, deal_id, stage.key)


def lose(uow: UnitOfWork, actor: Actor, now: datetime, deal_id: int, reason: str | None = None) -> DealView:
    stage = deal_service.first_with(DealOutcome.lost.value, deal_service.stages(uow.session, actor.team_id))
    if stage is None:
        raise NotFound("stage", key="lost")
    return move_deal(uow, actor, now, deal_id, stage.key, reason)


def set_amount(uow: UnitOfWork, actor: Actor, now: datetime, deal_id: int, amount: object,
               currency: str) -> DealView:
    session = uow.session
    deal, customer = _deal(session, actor, deal_id)
    value, code = parse_amount(amount), _currency(currency)
    if (deal.amount, deal.currency) != (value, code):
        before = audit.snapshot(deal)
        deal.amount, deal.currency, deal.updated_at = value, code, now
        session.add(deal)
        audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="deal.amount", entity=deal,
                     before=before, after=audit.snapshot(deal))
    return _one(session, actor, deal, customer)


def set_expected_close(uow: UnitOfWork, actor: Actor, now: datetime, deal_id: int,
                       expected: date | None) -> DealView:
    session = uow.session
    deal, customer = _deal(session, actor, deal_id)
    if deal.expected_close != expected:
        before = audit.snapshot(deal)
        deal.expected_close, deal.updated_at = expected, now
        session.add(deal)
        audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="deal.close_date",
                     entity=deal, before=before, after=audit.snapshot(deal))
    return _one(session, actor, deal, customer)


def get_deal(uow: UnitOfWork, actor: Actor, deal_id: int) -> DealView:
    deal, customer = _deal(uow.session, actor, deal_id)
    return _one(uow.session, actor, deal, customer)


def deals_for_customer(uow: UnitOfWork, actor: Actor, customer_id: int, *, open_only: bool = False
                       ) -> tuple[DealView, ...]:
    """A customer's deals, open ones first, newest first."""
    session = uow.session
    customer = _visible_customer(session, actor, customer_id)
    query = select(Deal).where(Deal.team_id == actor.team_id, Deal.customer_id == customer_id)
    if open_only:
        query = query.where(col(Deal.closed_at).is_(None))
    rows = list(session.exec(query.order_by(col(Deal.closed_at).is_not(None), col(Deal.id).desc())))
    by_key = deal_service.stage_map(session, actor.team_id)
    names = _names(session, {d.owner_id for d in rows})
    return tuple(_view(d, customer, by_key, actor.language, names.get(d.owner_id or 0, "")) for d in rows)


def open_deals(uow: UnitOfWork, actor: Actor, *, limit: int = 10) -> tuple[DealView, ...]:
    """The actor's own open deals, most recently active first."""
    session = uow.session
    query = (select(Deal, Customer).join(Customer, col(Customer.id) == Deal.customer_id)
             .where(*_scope(actor, None, False), col(Deal.closed_at).is_(None))
             .order_by(col(Deal.last_activity_at).desc(), col(Deal.id).desc()).limit(limit))
    return _deal_rows(session, actor, deal_service.stages(session, actor.team_id), query)


def stage_history(uow: UnitOfWork, actor: Actor, deal_id: int) -> tuple[StageChangeView, ...]:
    session = uow.session
    _deal(session, actor, deal_id)
    rows = list(session.exec(select(DealStageChange).where(DealStageChange.deal_id == deal_id)
                             .order_by(col(DealStageChange.at), col(DealStageChange.id))))
    names = _names(session, {r.member_id for r in rows})
    return tuple(StageChangeView(r.deal_id, r.member_id, names.get(r.member_id or 0, ""), r.from_stage,
                                 r.to_stage, r.at) for r in rows)


def stage_changes(uow: UnitOfWork, actor: Actor, since: datetime, until: datetime,
                  member_id: int | None = None) -> tuple[StageChangeView, ...]:
    """Every stage move of the team's deals the actor may see in [since, until), oldest first (for reports)."""
    session = uow.session
    query = (select(DealStageChange, Member.name).join(Deal, col(Deal.id) == DealStageChange.deal_id)
             .join(Customer, col(Customer.id) == Deal.customer_id)
             .outerjoin(Member, col(Member.id) == DealStageChange.member_id)
             .where(DealStageChange.team_id == actor.team_id, col(DealStageChange.at) >= since,
                    col(DealStageChange.at) < until, actor.customer_filter()))
    if member_id is not None:
        query = query.where(Deal.owner_id == member_id)
    rows = session.exec(query.order_by(col(DealStageChange.at), col(DealStageChange.id))).all()
    return tuple(StageChangeView(c.deal_id, c.member_id, name or "", c.from_stage, c.to_stage, c.at)
                 for c, name in rows)


def _scope(actor: Actor, member_id: int | None, team: bool) -> list[Any]:
    """Deals of the team the actor may see: their own unless a manager asks for the team (or one member)."""
    conditions = [col(Deal.team_id) == actor.team_id]
    if not actor.sees_whole_team:  # managers see every customer of the team: no join needed for their figures
        conditions.append(actor.customer_filter())
    if member_id is not None:
        if member_id != actor.member_id and not actor.sees_whole_team:
            raise NotAllowed("another member's deals")
        conditions.append(col(Deal.owner_id) == member_id)
    elif not (team and actor.sees_whole_team):
        conditions.append(col(Deal.owner_id) == actor.member_id)
    return conditions


def _money(rows: dict[str, Decimal]) -> tuple[Money, ...]:
    return tuple(Money(currency, amount.quantize(Decimal("0.01"))) for currency, amount in sorted(rows.items()))


def _totals(session: Session, actor: Actor, conditions: list[Any], team_stages: list[PipelineStage]
            ) -> dict[int | None, list[StageTotals]]:
    """Per owner (None = all) and stage: deals, amounts and weighted amounts per currency (one GROUP BY)."""
    weighted = func.sum(col(Deal.amount) * col(Deal.probability))
    query = (sa_select(col(Deal.owner_id), col(Deal.stage), col(Deal.currency), func.count(col(Deal.id)),
                       func.sum(col(Deal.amount)), weighted)
             .where(*conditions).group_by(col(Deal.owner_id), col(Deal.stage), col(Deal.currency)))
    if not actor.sees_whole_team:
        query = query.join(Customer, col(Customer.id) == Deal.customer_id)
    raw: dict[int | None, dict[str, list[Any]]] = {}
    for row in session.execute(query).all():
        owner, stage, currency, count, total, weight = cast("tuple[int | None, str, str | None, int, Any, Any]",
                                                            tuple(row))
        for who in (owner, None):
            slot = raw.setdefault(who, {}).setdefault(stage, [0, {}, {}])
            slot[0] += int(count)
            if currency and total is not None:
                slot[1][currency] = slot[1].get(currency, Decimal(0)) + Decimal(str(total))
                slot[2][currency] = slot[2].get(currency, Decimal(0)) + Decimal(str(weight)) / 100
    result: dict[int | None, list[StageTotals]] = {}
    for who, per_stage in raw.items():
        result[who] = [StageTotals(_stage_view(s, actor.language), per_stage.get(s.key, [0])[0],
                                   _money(per_stage.get(s.key, [0, {}, {}])[1]),
                                   _money(per_stage.get(s.key, [0, {}, {}])[2])) for s in team_stages]
    return result


def _forecast(totals: list[StageTotals]) -> tuple[Money, ...]:
    sums: dict[str, Decimal] = {}
    for row in totals:
        if row.stage.outcome == DealOutcome.open.value:
            for money in row.weighted:
                sums[money.currency] = sums.get(money.currency, Decimal(0)) + money.amount
    return _money(sums)


def deals_per_stage(uow: UnitOfWork, actor: Actor, *, member_id: int | None = None, team: bool = False
                    ) -> tuple[StageTotals, ...]:
    """Every stage of the team in order with its deals and amounts (own deals; `team=True` for managers)."""
    team_stages = deal_service.stages(uow.session, actor.team_id)
    totals = _totals(uow.session, actor, _scope(actor, member_id, team), team_stages).get(None)
    empty = [StageTotals(_stage_view(s, actor.language), 0, (), ()) for s in team_stages]
    return tuple(totals or empty)


def pipeline(uow: UnitOfWork, actor: Actor, now: datetime) -> PipelineView:
    """The actor's funnel (managers and owners: the team, per salesperson), the weighted forecast, deals
    expected to close this month (in the actor's zone) and stalled deals (no note or stage move for the team's
    stalled_days)."""
    session = uow.session
    team_wide = actor.sees_whole_team
    team_stages = deal_service.stages(session, actor.team_id)
    conditions = _scope(actor, None, team_wide)
    by_owner = _totals(session, actor, conditions, team_stages)
    empty = [StageTotals(_stage_view(s, actor.language), 0, (), ()) for s in team_stages]
    totals = by_owner.get(None, empty)
    owners = sorted(k for k in by_owner if k is not None) if team_wide else [actor.member_id]
    names = _names(session, set(owners))
    members = tuple(MemberPipeline(owner, names.get(owner or 0, ""), tuple(by_owner.get(owner, empty)),
                                   _forecast(by_owner.get(owner, empty)))
                    for owner in owners)
    members = tuple(sorted(members, key=lambda m: m.name.casefold()))
    today = now.astimezone(actor.zone).date()
    month_start = today.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    open_only = col(Deal.closed_at).is_(None)
    closing = _deal_rows(session, actor, team_stages, select(Deal, Customer).join(Customer, col(Customer.id) == Deal.customer_id)
                         .where(*conditions, open_only, col(Deal.expected_close) >= month_start,
                                col(Deal.expected_close) < next_month)
                         .order_by(col(Deal.expected_close), col(Deal.id)).limit(STALLED_SHOWN))
    team_row = session.get(Team, actor.team_id)
    days = team_row.stalled_days if team_row else 14
    cutoff = now - timedelta(days=days)
    stalled_where = (*conditions, open_only, col(Deal.last_activity_at) < cutoff,
                     or_(col(Customer.last_interaction_at).is_(None), col(Customer.last_interaction_at) < cutoff))
    # the first stalled deals and (a window count over the same scan) how many there are, in one query
    found = session.execute(sa_select(Deal, Customer, func.count().over())
                            .join(Customer, col(Customer.id) == Deal.customer_id).where(*stalled_where)
                            .order_by(col(Deal.last_activity_at), col(Deal.id)).limit(STALLED_SHOWN)).all()
    stalled_count = int(found[0][2]) if found else 0
    stalled = _views(session, actor, team_stages, [(deal, customer) for deal, customer, _ in found])
    return PipelineView(team_wide, members, tuple(totals), _forecast(totals), closing, stalled, stalled_count, days)


def _deal_rows(session: Session, actor: Actor, team_stages: list[PipelineStage], query: Any
               ) -> tuple[DealView, ...]:
    return _views(session, actor, team_stages, list(session.exec(query).all()))


def _views(session: Session, actor: Actor, team_stages: list[PipelineStage], rows: list[Any]) -> tuple[DealView, ...]:
    by_key = {s.key: s for s in team_stages}
    names = _names(session, {deal.owner_id for deal, _ in rows})
    return tuple(_view(deal, customer, by_key, actor.language, names.get(deal.owner_id or 0, ""))
                 for deal, customer in rows)


# -- typed input --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TypedDeal:
    """`/deal Acme 200 units US$12,000` after the customer: a title and the amount written in it."""

    title: str
    amount: Decimal | None
    currency: str | None


def read_typed(actor: Actor, text: str) -> TypedDeal:
    """The title and money (with its currency, or the member's) of a typed deal; InvalidInput for money that
    cannot be read (a currency sign without a number)."""
    cleaned = " ".join(text.split())
    for amount, start, end in find_amounts(cleaned, tz=actor.timezone, skip=[], country=actor.country or None,
                                           language=actor.language):
        if amount.currency:
            title = " ".join((cleaned[:start] + " " + cleaned[end:]).split()).strip(" ,.;:,、")  # noqa: B005 (a set of characters)
            return TypedDeal(title, parse_amount(repr(float(amount.value))), amount.currency)
    if any(sign in cleaned for sign in ("$", "¥", "€", "￥")):
        raise InvalidInput("amount")
    return TypedDeal(cleaned, None, None)


def read_close_date(actor: Actor, now: datetime, text: str) -> date:
    """A typed expected-close date (2026-12-31, 12/31, 下週五, next Friday): the first date in the text, in the
    actor's zone; InvalidInput when there is none."""
    cleaned = text.strip()
    try:
        return date.fromisoformat(cleaned)
    except ValueError:
        pass
    moments = [m for m in find_moments(cleaned, now=now, tz=actor.timezone) if not m.weak]
    if not moments:
        raise InvalidInput("date")
    return moments[0].at.astimezone(actor.zone).date()
