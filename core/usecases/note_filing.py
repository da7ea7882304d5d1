"""What the note card's buttons do: file the note under a customer (learning the mention as an alias),
under a new one or a typed name, move or drop its follow-up, undo it.

Nothing is left behind: moving a note away from the customer it created removes that customer (and the
contact it brought) when nothing else refers to it, and so does undo, with the follow-up. A mention becomes
an alias only when the user chose the customer for an unfiled note (never when moving a note away from the
customer its mention resolved to).

Each takes the id of a note the actor may change (NotFound otherwise) and answers with the note as it is
now. A withdrawn note changes no more: the answer is `UNCHANGED` with `note.deleted` set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from core.events import FollowUpsChanged
from core.models import Contact, Customer, FollowUp, FollowUpStatus, Interaction
from core.services import audit, customer_removal, followups, interactions
from core.services import customers as customer_service
from core.services.actor import Actor
from core.timeutil import next_week_morning, tomorrow_morning
from core.understanding import parse_when
from core.uow import UnitOfWork
from core.usecases.notes import MAX_CHOICES, NoteResult, NoteStatus, attach, contact_for, view_of
from core.usecases.views import CustomerRef


class DueChoice(StrEnum):
    TOMORROW = "tomorrow"
    NEXT_WEEK = "next_week"


_CHOICES: dict[DueChoice, Callable[[datetime, str], datetime]] = {
    DueChoice.TOMORROW: tomorrow_morning, DueChoice.NEXT_WEEK: next_week_morning}


def file_note(uow: UnitOfWork, actor: Actor, interaction_id: int, customer_id: int, *,
              remember_mention: bool = True) -> NoteResult:
    """File the note under a customer of the team (a colleague's too: the note stays the actor's); the
    mention of an unfiled note becomes the chosen customer's alias. The same customer again: UNCHANGED."""
    session = uow.session
    interaction = interactions.get_own(session, actor, interaction_id)
    customer = customer_service.get_in_team(session, actor, customer_id)
    if interaction.deleted_at is not None or interaction.customer_id == customer.id:
        return _unchanged(session, actor, interaction)
    _file(session, actor, interaction, customer, remember_mention=remember_mention)
    return _changed(session, actor, interaction)


def file_under_new_customer(uow: UnitOfWork, actor: Actor, interaction_id: int) -> NoteResult:
    """Create the customer the note named and file it there (a second press changes nothing)."""
    session = uow.session
    interaction = interactions.get_own(session, actor, interaction_id)
    if interaction.deleted_at is not None:
        return _unchanged(session, actor, interaction)
    mention = interaction.details.get("mention")
    if not mention:
        return NoteResult(NoteStatus.NO_MENTION, view_of(session, actor, interaction))
    existing = customer_service.same_name(session, actor.team_id, mention)
    if existing is not None and existing.id == interaction.customer_id:
        return _unchanged(session, actor, interaction)
    customer = existing or customer_service.create_customer(session, actor, mention)
    _file(session, actor, interaction, customer, remember_mention=False, created=existing is None)
    return _changed(session, actor, interaction)


def file_under_typed_name(uow: UnitOfWork, actor: Actor, interaction_id: int, name: str) -> NoteResult:
    """File the note under the customer a typed name means, a new one if it means nobody; several → AMBIGUOUS."""
    session = uow.session
    interaction = interactions.get_own(session, actor, interaction_id)
    if interaction.deleted_at is not None:
        return _unchanged(session, actor, interaction)
    name = " ".join(name.split())
    resolution = customer_service.resolve_customer(session, actor, name, team_wide=True)
    candidates = list(resolution.candidates) if resolution.customer is None else []
    if resolution.customer is None and not candidates:
        candidates = customer_service.same_company(session, actor, name)
    if candidates:
        # offer them, and the typed name as a new customer ("same as X?" before creating anything)
        before = interaction.details.get("mention")
        if before != name:
            interaction.details = {**interaction.details, "mention": name}
            session.add(interaction)
            audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="mention",
                         entity=interaction, before={"mention": before}, after={"mention": name})
        offered = tuple(CustomerRef(c.id or 0, c.name) for c in candidates[:MAX_CHOICES])
        view = dataclasses.replace(view_of(session, actor, interaction), candidates=offered)
        return NoteResult(NoteStatus.AMBIGUOUS, view)
    if resolution.customer is not None and resolution.customer.id == interaction.customer_id:
        return _unchanged(session, actor, interaction)
    customer = resolution.customer or customer_service.create_customer(session, actor, name)
    _file(session, actor, interaction, customer, remember_mention=True, created=resolution.customer is None)
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
    """Withdraw the note and cancel its open follow-ups; remove what it created (its customer, contact and
    unsent follow-up) when nothing else refers to them. UNCHANGED when it was withdrawn already."""
    session = uow.session
    interaction, changed = interactions.undo(session, actor, interaction_id)
    if changed:
        _remove_follow_ups(session, actor, interaction)
        _leave_customer(session, actor, interaction)
    status = NoteStatus.CHANGED if changed else NoteStatus.UNCHANGED
    return NoteResult(status, view_of(session, actor, interaction))


def _file(session: Session, actor: Actor, interaction: Interaction, customer: Customer, *,
          remember_mention: bool, created: bool = False) -> None:
    """File under `customer`, leaving the customer the note was on (removing it if the note created it and
    nothing else needs it); learn the mention as an alias when the note was unfiled; attach the named contact."""
    assert customer.id is not None
    was_unfiled = interaction.customer_id is None
    _leave_customer(session, actor, interaction, keep=customer.id)
    attach(session, actor, interaction, customer)
    details = {key: value for key, value in interaction.details.items() if key not in ("same_as", "new_contact")}
    details["new_customer"] = created
    mention = details.get("mention")
    if remember_mention and mention and was_unfiled:
        customer_service.add_alias(session, actor, customer, mention)
    contact = (details.get("draft") or {}).get("contact")
    if contact and interaction.contact_id is None:
        known = customer_service.find_contact(session, customer.id, contact)
        interaction.contact_id = contact_for(session, actor, customer, contact)
        if known is None and interaction.contact_id is not None:
            details["new_contact"] = interaction.contact_id
    interaction.details = details
    session.add(interaction)


def _leave_customer(session: Session, actor: Actor, interaction: Interaction, *, keep: int | None = None) -> bool:
    """Take the note off its customer: its contact there goes with it (removed when the note created it and
    nothing else refers to it), and so does the customer the note created. True when that customer went."""
    old = interaction.customer_id
    if old is None or old == keep:
        return False
    details = interaction.details or {}
    contact_id = interaction.contact_id
    if contact_id is not None and (contact := session.get(Contact, contact_id)) and contact.customer_id == old:
        if details.get("new_contact") == contact_id:
            customer_removal.discard_contact(session, actor, contact_id, interaction)
        interaction.contact_id = None
        session.add(interaction)
        session.flush()
    if not details.get("new_customer"):
        return False
    gone = customer_removal.discard_unused(session, actor, old, interaction)
    session.refresh(interaction)
    return gone


def _remove_follow_ups(session: Session, actor: Actor, interaction: Interaction) -> None:
    """Delete the follow-ups of a withdrawn note that never went out (cancelled by the undo)."""
    rows = session.exec(select(FollowUp).where(FollowUp.source_interaction_id == interaction.id,
                                               FollowUp.status == FollowUpStatus.cancelled.value,
                                               col(FollowUp.sent_at).is_(None))).all()
    for follow_up in rows:
        audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="delete", entity=follow_up,
                     before=audit.snapshot(follow_up), after={"reason": "note undone", "note": interaction.id})
        session.delete(follow_up)
    session.flush()


def _changed(session: Session, actor: Actor, interaction: Interaction) -> NoteResult:
    return NoteResult(NoteStatus.CHANGED, view_of(session, actor, interaction))


def _unchanged(session: Session, actor: Actor, interaction: Interaction) -> NoteResult:
    return NoteResult(NoteStatus.UNCHANGED, view_of(session, actor, interaction))
