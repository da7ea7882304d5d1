"""Storage helpers for deals: the team's pipeline stages (defaults created lazily from config/stages.toml),
stage moves with their history, and the activity that keeps a deal from looking stalled."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, update

from core.models import Deal, DealOutcome, DealStageChange, PipelineStage
from core.services import audit

STAGES_FILE = Path(__file__).resolve().parents[2] / "config" / "stages.toml"
LANGUAGES = ("zh-Hant", "zh-Hans", "en")
MAX_STAGES = 12
MAX_NAME = 40


@dataclass(frozen=True, slots=True)
class DefaultStage:
    key: str
    probability: int
    outcome: str
    names: dict[str, str]


@cache
def default_stages(path: Path = STAGES_FILE) -> tuple[DefaultStage, ...]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    stages = tuple(DefaultStage(str(item["key"]), int(item["probability"]), str(item["outcome"]),
                                {lang: str(item["names"][lang]) for lang in LANGUAGES}) for item in data["stage"])
    if not stages or {s.outcome for s in stages} - {o.value for o in DealOutcome}:
        raise ValueError(f"{path}: stages need an outcome of open, won or lost")
    return stages


def stages(session: Session, team_id: int) -> list[PipelineStage]:
    """The team's stages in order; the defaults are created the first time (once, even when two processes ask)."""
    found = list(session.exec(select(PipelineStage).where(PipelineStage.team_id == team_id)
                              .order_by(col(PipelineStage.position), col(PipelineStage.id))))
    if found:
        return found
    try:
        with session.begin_nested():
            for position, stage in enumerate(default_stages()):
                session.add(PipelineStage(team_id=team_id, key=stage.key, position=position, names=dict(stage.names),
                                          probability=stage.probability, outcome=stage.outcome))
            audit.record(session, team_id=team_id, actor_id=None, action="stage.defaults", entity="pipelinestage",
                         after={"keys": [stage.key for stage in default_stages()]})
            session.flush()
    except IntegrityError:
        pass  # another process created them first
    return list(session.exec(select(PipelineStage).where(PipelineStage.team_id == team_id)
                             .order_by(col(PipelineStage.position), col(PipelineStage.id))))


def stage_map(session: Session, team_id: int) -> dict[str, PipelineStage]:
    return {stage.key: stage for stage in stages(session, team_id)}


def first_with(outcome: str, team_stages: list[PipelineStage]) -> PipelineStage | None:
    return next((stage for stage in team_stages if stage.outcome == outcome), None)


def move(session: Session, deal: Deal, stage: PipelineStage, *, member_id: int | None, at: datetime,
         reason: str | None = None) -> bool:
    """Put a deal in a stage (history, audit, won/lost times); False when it already is there (a repeated press)."""
    if deal.stage == stage.key and (stage.outcome != DealOutcome.lost.value or not reason
                                    or reason == deal.lost_reason):
        return False
    before = audit.snapshot(deal)
    previous = deal.stage
    deal.stage = stage.key
    deal.probability = stage.probability
    deal.won_at = at if stage.outcome == DealOutcome.won.value else None
    deal.lost_at = at if stage.outcome == DealOutcome.lost.value else None
    deal.lost_reason = (reason or deal.lost_reason) if stage.outcome == DealOutcome.lost.value else None
    deal.closed_at = deal.won_at or deal.lost_at
    deal.last_activity_at = at
    deal.updated_at = at
    session.add(deal)
    if previous != stage.key:
        session.add(DealStageChange(team_id=deal.team_id, deal_id=deal.id or 0, member_id=member_id,
                                    from_stage=previous, to_stage=stage.key, at=at))
    audit.record(session, team_id=deal.team_id, actor_id=member_id, action="deal.stage", entity=deal,
                 before=before, after=audit.snapshot(deal))
    return True


def touch_customer(session: Session, team_id: int, customer_id: int, at: datetime) -> None:
    """A note about a customer is activity on its open deals (they are not stalled)."""
    session.execute(update(Deal).where(col(Deal.team_id) == team_id, col(Deal.customer_id) == customer_id,
                                       col(Deal.closed_at).is_(None), col(Deal.last_activity_at) < at)
                    .values(last_activity_at=at))


def stage_name(stage: PipelineStage | None, language: str, fallback: str = "") -> str:
    if stage is None:
        return fallback
    names: dict[str, Any] = stage.names or {}
    return str(names.get(language) or names.get("en") or next(iter(names.values()), stage.key))
