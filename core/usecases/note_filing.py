"""What the note card's buttons do: file the note under a customer (learning the mention as an alias),
under a new one or a typed name, move or drop its follow-up, undo it.

Each takes the id of a note the actor may change (NotFound otherwise) and answers with the note as it is
now. A withdrawn note changes no more: the answer is `UNCHANGED` with `note.deleted` set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from core.events import FollowUpsChanged
from core.models import Customer, Interaction
from core.services import customers as customer_service
from core.services import followups, interactions
from core.services.actor import Actor
from core.timeutil import next_week_morning, tomorrow_morning
from core.understanding import parse_when
from core.uow import UnitOfWork
from core.usecases.notes import MAX_CHOICES, NoteResult, NoteStatus, contact_for, view_of
from core.usecases.views import CustomerRef


class DueChoice(StrEnum):
    TOMORROW = "tomorrow"
    NEXT_WEEK = "next_week"


_CHOICES: dict[DueChoice, Callable[[datetime, str], datetime]] = {
    DueChoice.TOMORROW: tomorrow_morning, DueChoice.NEXT_WEEK: next_week_morning}


def file_note(uow: UnitOfWork, actor: Actor, interaction_id: int, customer_id: int, *,
              remember_mention: bool = True) -> NoteResult:
    """File the note under a customer the actor sees; the note's mention becomes the customer's alias."""
    session = uow.session
    interaction = interactions.get_own(session, actor, interaction_id)
    if interaction.deleted_at is not None:
        return _unchanged(session, actor, interaction)
    customer = customer_service.get_visible(session, actor, customer_id)
    _file(session, actor, interaction, customer, remember_mention=remember_mention)
    return _changed(session, actor, interaction)


def file_under_new_customer(uow: UnitOfWork, actor: Actor, interaction_id: int) -> NoteResult:
    """Create the customer the note named and file it there (a second press changes nothing)."""
    session = uow.session
    interaction = interactions.get_own(session, actor, interaction_id)
    if interaction.deleted_at is not None or interaction.customer_id is not None:
        return _unchanged(session, actor, interaction)
    mention = interaction.details.get("mention")
    if not mention:
        return NoteResult(NoteStatus.NO_MENTION, view_of(session, actor, interaction))
    customer = customer_service.create_customer(session, actor, mention)
    interaction.details = {**interaction.details, "new_customer": True}
    _file(session, actor, interaction, customer, remember_mention=False)
    return _changed(session, actor, interaction)


def file_under_typed_name(uow: UnitOfWork, actor: Actor, interaction_id: int, name: str) -> NoteResult:
    """File the note under the customer a typed name means, a new one if it means nobody; several → AMBIGUOUS."""
    session = uow.session
    interaction = interactions.get_own(session, actor, interaction_id)
    if interaction.deleted_at is not None:
        return _unchanged(session, actor, interaction)
    name = name.strip()
    resolution = customer_service.resolve_customer(session, actor, name)
    if resolution.customer is None and resolution.candidates:
        offered = tuple(CustomerRef(c.id or 0, c.name) for c in resolution.candidates[:MAX_CHOICES])
        view = dataclasses.replace(view_of(session, actor, interaction), candidates=offered)
        return NoteResult(NoteStatus.AMBIGUOUS, view)
    customer = resolution.customer or customer_service.create_customer(session, actor, name)
    _file(session, actor, interaction, customer, remember_mention=True)
    return _changed(session, actor, interaction)


def set_follow_up_due(uow: UnitOfWork, actor: Actor, now: datetime, interaction_id: int, *,
                      choice: DueChoice | None = None, typed: str | None = None) -> NoteResult:
    """Move the note's follow-up (or schedule one) to tomorrow or next week morning, or to a typed time.

    A typed text that names no future time is `BAD_DATE` and changes nothing."""
    session = uow.session
    interaction = interactions.get_own(session, actor, interaction_id)
    if interaction.deleted_at is not None:
        return _unchanged(session, actor, interaction)
    if choice is not None:
        due, explicit = _CHOICES[choice](now, actor.timezone), False
    else:
        parsed = parse_when(typed or "", now=now, tz=actor.timezone)
        if parsed is None or parsed <= now:
            return NoteResult(NoteStatus.BAD_DATE, view_of(session, actor, interaction))
        due, explicit = parsed, True
    existing = followups.for_interaction(session, interaction.id or 0)
    if existing is not None:
        followups.reschedule(session, actor, existing.id or 0, due, explicit_time=explicit)
    else:
        action = ((interaction.details.get("draft") or {}).get("follow_up") or {}).get("action") or ""
        followups.schedule(session, actor, due_at=due, action=action, customer_id=interaction.customer_id,
                           source_interaction_id=interaction.id, explicit_time=explicit)
    uow.publish(FollowUpsChanged())
    return _changed(session, actor, interaction)


def drop_follow_up(uow: UnitOfWork, actor: Actor, interaction_id: int) -> NoteResult:
    """Cancel the note's open follow-up; UNCHANGED when it has none."""
    session = uow.session
    interaction = interactions.get_own(session, actor, interaction_id)
    existing = followups.for_interaction(session, interaction.id or 0)
    if interaction.deleted_at is not None or existing is None:
        return _unchanged(session, actor, interaction)
    followups.cancel(session, actor, existing.id or 0)
    return _changed(session, actor, interaction)


def undo_note(uow: UnitOfWork, actor: Actor, interaction_id: int) -> NoteResult:
    """Withdraw the note and cancel its open follow-ups; UNCHANGED when it was withdrawn already."""
    interaction, changed = interactions.undo(uow.session, actor, interaction_id)
    status = NoteStatus.CHANGED if changed else NoteStatus.UNCHANGED
    return NoteResult(status, view_of(uow.session, actor, interaction))


def _file(session: Session, actor: Actor, interaction: Interaction, customer: Customer, *,
          remember_mention: bool) -> None:
    """File under `customer`; learn the mention as an alias; attach the contact the note named."""
    assert customer.id is not None
    interactions.file_under(session, actor, interaction.id or 0, customer.id)
    mention = interaction.details.get("mention")
    if remember_mention and mention:
        customer_service.add_alias(session, actor, customer, mention)
    contact = (interaction.details.get("draft") or {}).get("contact")
    if contact and interaction.contact_id is None:
        interaction.contact_id = contact_for(session, actor, customer, contact)
        session.add(interaction)


def _changed(session: Session, actor: Actor, interaction: Interaction) -> NoteResult:
    return NoteResult(NoteStatus.CHANGED, view_of(session, actor, interaction))


def _unchanged(session: Session, actor: Actor, interaction: Interaction) -> NoteResult:
    return NoteResult(NoteStatus.UNCHANGED, view_of(session, actor, interaction))
