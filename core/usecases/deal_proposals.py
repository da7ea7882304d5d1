"""Deals proposed from notes, never made silently (issue 15): a note that carries a quote, an order, an amount
or a stage word offers, on its confirmation card, the deal or the stage move it implies; one press accepts.

`propose` reads nothing when the note's words say nothing about a deal (no query for an ordinary note); the
note's record remembers an accepted or refused proposal (`details["deal"]`), so the card offers it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import and_, bindparam
from sqlmodel import Session, col, select

from core.models import Customer, Deal, DealOutcome, Interaction, PipelineStage
from core.services import audit
from core.services import deals as deal_service
from core.services.actor import Actor
from core.services.errors import InvalidInput, NotFound
from core.understanding.deal_signals import deal_signal
from core.uow import UnitOfWork
from core.usecases import deals
from core.usecases.deals import DealView, StageView

MAX_CHOICES = 5


@dataclass(frozen=True, slots=True)
class DealChoice:
    id: int
    title: str
    stage: str  # name in the actor's language


@dataclass(frozen=True, slots=True)
class DealProposal:
    interaction_id: int
    kind: str  # "new" (no open deal), "move" (its one open deal), "pick" (several: ask which)
    stage: StageView
    amount: Decimal | None
    currency: str | None
    reason: str | None
    deal: DealChoice | None = None  # "move": the deal it means
    choices: tuple[DealChoice, ...] = ()  # "pick": the customer's open deals


def _money(interaction: Interaction) -> tuple[Decimal | None, str | None]:
    return _money_of(interaction.amounts)


def _money_of(amounts: Sequence[Any] | None) -> tuple[Decimal | None, str | None]:
    for amount in amounts or ():
        if isinstance(amount, dict) and amount.get("currency") and amount.get("value"):
            try:
                return deals.parse_amount(amount["value"]), str(amount["currency"])
            except InvalidInput:
                continue
    return None, None


def _target(team_stages: list[PipelineStage], outcome: str) -> PipelineStage | None:
    if outcome in (DealOutcome.won.value, DealOutcome.lost.value):
        return deal_service.first_with(outcome, team_stages)
    return next((s for s in team_stages if s.key == "proposal"), None) or next(
        (s for s in reversed(team_stages) if s.outcome == DealOutcome.open.value), None)


def may_propose(text: str, amounts: Sequence[Any] | None) -> bool:
    """Whether a note of these words and amounts can propose anything (no query: most notes cannot)."""
    return deal_signal(text or "") is not None or _money_of(amounts)[0] is not None


def _proposal(session: Session, actor: Actor, interaction: Interaction, customer: Customer | None = None,
              open_deals: list[Deal] | None = None) -> DealProposal | None:
    """`customer` and `open_deals` (newest activity first, at most MAX_CHOICES): when the caller read them."""
    if interaction.customer_id is None or interaction.deleted_at is not None:
        return None
    if (interaction.details or {}).get("deal") is not None:
        return None  # accepted or refused already
    signal = deal_signal(interaction.text or "")
    amount, currency = _money(interaction)
    if signal is None and amount is None:
        return None
    if customer is None:
        customer = session.get(Customer, interaction.customer_id)
    if customer is None or not actor.can_see(customer):
        return None
    team_stages = deal_service.stages(session, actor.team_id)
    stage = _target(team_stages, signal.outcome if signal else "proposal")
    if stage is None:
        return None
    names = {s.key: deal_service.stage_name(s, actor.language, s.key) for s in team_stages}
    view = StageView(stage.key, names[stage.key], stage.position, stage.probability, stage.outcome)
    reason = signal.reason if signal else None
    if open_deals is None:
        open_deals = list(session.exec(select(Deal).where(*_open_deals(actor, interaction.customer_id))
                                       .order_by(*NEWEST_FIRST).limit(MAX_CHOICES)))
    iid = interaction.id or 0
    if not open_deals:
        if stage.outcome == DealOutcome.lost.value:
            return None  # nothing to lose
        return DealProposal(iid, "new", view, amount, currency, reason)
    choices = tuple(DealChoice(d.id or 0, d.title, names.get(d.stage, d.stage)) for d in open_deals)
    if len(open_deals) > 1:
        return DealProposal(iid, "pick", view, amount, currency, reason, choices=choices)
    deal = open_deals[0]
    if deal.stage == stage.key and (amount is None or (deal.amount, deal.currency) == (amount, currency)):
        return None  # says what the deal already says
    if stage.outcome == DealOutcome.open.value and amount is None and \
            next((s.position for s in team_stages if s.key == deal.stage), -1) >= stage.position:
        return None  # a quote mentioned again on a deal already past the proposal: no step back
    return DealProposal(iid, "move", view, amount, currency, reason, deal=choices[0])


def _open_deals(actor: Actor, customer_id: Any) -> tuple[Any, ...]:
    return (col(Deal.team_id) == actor.team_id, col(Deal.customer_id) == customer_id, col(Deal.closed_at).is_(None))


NEWEST_FIRST = (col(Deal.last_activity_at).desc(), col(Deal.id).desc())
_PROPOSAL_ROWS = (select(Interaction, Customer, Deal)  # `propose`'s query, built once
                  .join(Customer, col(Customer.id) == col(Interaction.customer_id))
                  .outerjoin(Deal, and_(col(Deal.team_id) == col(Interaction.team_id),
                                        col(Deal.customer_id) == col(Customer.id), col(Deal.closed_at).is_(None)))
                  .where(col(Interaction.id) == bindparam("note"), col(Interaction.team_id) == bindparam("team"))
                  .order_by(*NEWEST_FIRST).limit(MAX_CHOICES))


def propose(uow: UnitOfWork, actor: Actor, interaction_id: int) -> DealProposal | None:
    """What the note `interaction_id` proposes for its customer's deals, or None: the note, its customer and the
    customer's open deals in one query, the team's stages in a second (only for a note that proposes)."""
    rows = cast(Sequence[tuple[Interaction, Customer, Deal | None]],
                uow.session.execute(_PROPOSAL_ROWS, {"note": interaction_id, "team": actor.team_id}).all())
    if not rows:
        return None  # not the team's, or no customer: nothing to propose
    interaction, customer, _ = rows[0]
    return _proposal(uow.session, actor, interaction, customer, [deal for _, _, deal in rows if deal is not None])


def _mark(session: Session, actor: Actor, interaction: Interaction, value: int) -> None:
    before = dict(interaction.details or {})
    interaction.details = {**before, "deal": value}
    session.add(interaction)
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="note.deal", entity=interaction,
                 before={"deal": before.get("deal")}, after={"deal": value})


def accept(uow: UnitOfWork, actor: Actor, now: datetime, interaction_id: int, *, deal_id: int | None = None,
           stage_key: str | None = None) -> DealView:
    """Do what the note proposed (or with another stage, or for the deal picked): a new deal from the note, or
    the move of the deal it means, with the note's amount. A second press finds it done and shows the deal."""
    session = uow.session
    interaction = session.get(Interaction, interaction_id)
    if interaction is None or interaction.team_id != actor.team_id or interaction.customer_id is None:
        raise NotFound("note")
    done = (interaction.details or {}).get("deal")
    if isinstance(done, int) and done > 0:
        return deals.get_deal(uow, actor, done)
    proposal = _proposal(session, actor, interaction)
    team_stages = deal_service.stage_map(session, actor.team_id)
    key = stage_key or (proposal.stage.key if proposal else None)
    if key is None or key not in team_stages:
        raise NotFound("stage", key=key or "")
    amount = proposal.amount if proposal else _money(interaction)[0]
    currency = proposal.currency if proposal else _money(interaction)[1]
    reason = proposal.reason if proposal else None
    if deal_id is None and proposal is not None and proposal.deal is not None:
        deal_id = proposal.deal.id
    if deal_id is None:
        title = _title(interaction.text or "")
        view = deals.create_deal(uow, actor, now, interaction.customer_id, title, amount=amount, currency=currency,
                                 stage=key, source_interaction_id=interaction.id)
    else:
        current = deals.get_deal(uow, actor, deal_id)
        if current.customer.id != interaction.customer_id:
            raise NotFound("deal")
        if amount is not None and currency:
            deals.set_amount(uow, actor, now, deal_id, amount, currency)
        view = deals.move_deal(uow, actor, now, deal_id, key, reason)
    _mark(session, actor, interaction, view.id)
    return view


def dismiss(uow: UnitOfWork, actor: Actor, interaction_id: int) -> None:
    """Not a deal: the card stops proposing it."""
    interaction = uow.session.get(Interaction, interaction_id)
    if interaction is None or interaction.team_id != actor.team_id:
        raise NotFound("note")
    if (interaction.details or {}).get("deal") is None:
        _mark(uow.session, actor, interaction, 0)


def _title(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 60 else flat[:59] + "…"
