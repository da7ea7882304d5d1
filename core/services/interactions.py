"""Log an interaction (idempotently), file it under a customer, undo it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from core.chat import Envelope
from core.models import (
    ConversationMessage,
    Customer,
    FollowUp,
    FollowUpStatus,
    Interaction,
    InteractionKind,
    utcnow,
)
from core.services import audit, rows
from core.services.actor import Actor
from core.services.customers import get_visible
from core.services.errors import InvalidInput, NotFound
from core.text import search_form

MAX_TEXT = 20_000
SOURCE_KEY = ("source_platform", "source_chat", "source_message_id")  # unique: one record per message


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record came from: platform + chat + message id (the idempotency key)."""

    platform: str
    chat: str
    message_id: str

    @classmethod
    def of(cls, env: Envelope) -> Source:
        """The source of an incoming message."""
        return cls(env.chat.platform, env.chat.chat_id, env.message_id)


def of_source(source: Source) -> tuple[ColumnElement[bool], ...]:
    """The condition of the record stored from `source` (the unique key: at most one)."""
    return (col(Interaction.source_platform) == source.platform, col(Interaction.source_chat) == source.chat,
            col(Interaction.source_message_id) == source.message_id)


def find_by_source(session: Session, source: Source) -> Interaction | None:
    return session.exec(select(Interaction).where(*of_source(source))).first()


def log_interaction(session: Session, actor: Actor, *, text: str, kind: str = InteractionKind.note.value,
                    customer_id: int | None = None, contact_id: int | None = None,
                    occurred_at: datetime | None = None, amounts: list[dict] | None = None,
                    details: dict[str, Any] | None = None, transcript: str | None = None,
                    source: Source | None = None, source_checked: bool = False) -> tuple[Interaction, bool]:
    """Record an interaction; a source seen before returns the existing record and False.
    `source_checked`: no look-up first, the `INSERT … ON CONFLICT (source) DO NOTHING` is the check (the caller
    looked the source up, or wrote nothing yet that a redelivery must not write again); a duplicate, concurrent
    or not, still returns the stored record and False, and nothing is written. The audit event stays pending
    (see `core.services.rows`): it goes with the update's other audit rows at the next flush."""
    if kind not in InteractionKind.__members__:
        raise InvalidInput(f"unknown kind {kind!r}")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"notes are at most {MAX_TEXT} characters")
    if source and not source_checked and (existing := find_by_source(session, source)):
        return existing, False
    customer = get_visible(session, actor, customer_id) if customer_id is not None else None
    now = utcnow()
    interaction = Interaction(
        team_id=actor.team_id, customer_id=customer_id, contact_id=contact_id, member_id=actor.member_id,
        kind=kind, occurred_at=occurred_at or now, text=text, transcript=transcript,
        search_text=search_form(" ".join(filter(None, [text, transcript]))),
        amounts=list(amounts or []), details=dict(details or {}), created_at=now,
        source_platform=source.platform if source else None, source_chat=source.chat if source else None,
        source_message_id=source.message_id if source else None)
    if source is not None:
        if not rows.insert_loaded(session, interaction, unique=SOURCE_KEY):  # the source check in one round trip
            existing = find_by_source(session, source)
            if existing is None:  # pragma: no cover - the conflicting row cannot vanish inside a transaction
                raise InvalidInput("the message was stored and removed meanwhile")
            return existing, False  # a concurrent delivery of the same update won the race
    else:
        session.add(interaction)
        session.flush()
    if customer is not None:
        _touch_customer(session, customer, interaction.occurred_at)
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="create", entity=interaction,
                 after=audit.snapshot(interaction))
    return interaction, True


def _touch_customer(session: Session, customer: Customer, at: datetime) -> None:
    if customer.last_interaction_at is None or at > customer.last_interaction_at:
        customer.last_interaction_at = at
        customer.silent_alerted_at = None
        session.add(customer)


def get_own(session: Session, actor: Actor, interaction_id: int) -> Interaction:
    """An interaction the actor may change: their own, or any of the team for managers."""
    interaction = session.get(Interaction, interaction_id)
    if interaction is None or interaction.team_id != actor.team_id:
        raise NotFound("no such record")
    if interaction.member_id != actor.member_id and not actor.sees_whole_team:
        raise NotFound("no such record")
    return interaction


def file_under(session: Session, actor: Actor, interaction_id: int, customer_id: int,
               contact_id: int | None = None) -> Interaction:
    """Attach a record (and its follow-ups) to a customer. Setting the same customer again changes nothing."""
    interaction = get_own(session, actor, interaction_id)
    customer = get_visible(session, actor, customer_id)
    if interaction.customer_id == customer.id and (contact_id is None or interaction.contact_id == contact_id):
        return interaction
    before = audit.snapshot(interaction)
    interaction.customer_id = customer.id
    if contact_id is not None:
        interaction.contact_id = contact_id
    session.add(interaction)
    for follow_up in session.exec(select(FollowUp).where(FollowUp.source_interaction_id == interaction.id)):
        if follow_up.customer_id != customer.id:
            audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="file", entity=follow_up,
                         before={"customer_id": follow_up.customer_id}, after={"customer_id": customer.id,
                                                                              "note": interaction.id,
                                                                              "action": follow_up.action},
                         customer_id=customer.id)
        follow_up.customer_id = customer.id
        session.add(follow_up)
    _rekey_messages(session, actor, interaction.id or 0, str(customer.id))
    if interaction.deleted_at is None:
        _touch_customer(session, customer, interaction.occurred_at)
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="file", entity=interaction,
                 before=before, after=audit.snapshot(interaction))
    return interaction


def _rekey_messages(session: Session, actor: Actor, interaction_id: int, key: str) -> None:
    """Move a record's conversation messages to the customer's key, dropping ones the customer already has
    (so that re-importing the same or an overlapping chat adds nothing twice)."""
    existing = sa_select(col(ConversationMessage.dedup_key)).where(
        col(ConversationMessage.team_id) == actor.team_id, col(ConversationMessage.customer_key) == key,
        col(ConversationMessage.interaction_id) != interaction_id)
    session.execute(delete(ConversationMessage).where(col(ConversationMessage.interaction_id) == interaction_id,
                                                      col(ConversationMessage.dedup_key).in_(existing))
                    .execution_options(synchronize_session=False))
    session.execute(update(ConversationMessage).where(col(ConversationMessage.interaction_id) == interaction_id)
                    .values(customer_key=key).execution_options(synchronize_session=False))


def undo(session: Session, actor: Actor, interaction_id: int) -> tuple[Interaction, bool]:
    """Withdraw a record and cancel its open follow-ups. False when it was already undone."""
    interaction = get_own(session, actor, interaction_id)
    if interaction.deleted_at is not None:
        return interaction, False
    before = audit.snapshot(interaction)
    interaction.deleted_at = utcnow()
    session.add(interaction)
    open_states = (FollowUpStatus.pending.value, FollowUpStatus.sent.value, FollowUpStatus.snoozed.value)
    for follow_up in session.exec(select(FollowUp).where(FollowUp.source_interaction_id == interaction.id,
                                                         col(FollowUp.status).in_(open_states))):
        audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="cancel", entity=follow_up,
                     before={"status": follow_up.status}, after={"status": FollowUpStatus.cancelled.value,
                                                                 "reason": "note undone", "note": interaction.id,
                                                                 "action": follow_up.action})
        follow_up.status = FollowUpStatus.cancelled.value
        follow_up.updated_at = utcnow()
        session.add(follow_up)
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="undo", entity=interaction,
                 before=before, after=audit.snapshot(interaction))
    return interaction, True


def recent(session: Session, actor: Actor, customer_id: int, limit: int = 1) -> list[Interaction]:
    return list(session.exec(select(Interaction).where(Interaction.customer_id == customer_id,
                                                       Interaction.team_id == actor.team_id,
                                                       col(Interaction.deleted_at).is_(None))
                             .order_by(col(Interaction.occurred_at).desc()).limit(limit)))
