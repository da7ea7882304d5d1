"""Edit the text of a logged note, or delete it.

An edit re-understands the new text (as of the edit: "tomorrow" in the new text is the day after the edit;
edits come minutes after the note) and re-derives what the parser had derived, never what the member set by
hand:

- the text, the search text and the amounts always follow the new text;
- the kind follows it when the kind was the parser's (a /log kind or a voice note keeps its kind);
- the contact follows it when the note's contact is the one the parser found (none, or of the old draft's name);
- the follow-up's action and due time follow it when they are still the ones the old text gave (a date moved
  with the card's buttons, a snooze, a "no follow-up" or a done one stay as they are); a follow-up the new
  text adds is scheduled, one the new text no longer names is cancelled when it was not moved by hand;
  a due time that is no longer in the future is not re-derived;
- the customer stays as filed (the card's "change customer" changes it); only the draft's mention is updated.

Every edit is audited (`edit` with the interaction before and after); an edit to the same text, or to a
deleted note, changes nothing (`UNCHANGED`); an empty or over-long text is refused (`InvalidInput`; for an edited
chat message the chat layer asks `note_from_source` and says why the note stays as it was). Deleting a note is what undo does (the note is withdrawn, its
open follow-ups cancelled) and is idempotent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from core.events import FollowUpsChanged
from core.models import Contact, Customer, FollowUp, FollowUpStatus, Interaction, utcnow
from core.services import audit, followups, interactions
from core.services.actor import Actor
from core.services.errors import InvalidInput
from core.services.interactions import MAX_TEXT, Source
from core.text import match_key, search_form
from core.understanding import NoteDraft
from core.understanding.amounts import Amount
from core.uow import UnitOfWork
from core.usecases import note_filing
from core.usecases.notes import NoteResult, NoteStatus, NoteView, contact_for, understand, view_of

__all__ = ["MAX_NOTE_CHARS", "delete_note", "edit_from_source", "edit_note", "note_from_source"]

MAX_NOTE_CHARS = MAX_TEXT  # the longest text a note takes


def edit_note(uow: UnitOfWork, actor: Actor, now: datetime, interaction_id: int, text: str) -> NoteResult:
    """Replace the note's text and re-derive what the parser derived from it (see the module's rules)."""
    session = uow.session
    interaction = interactions.get_own(session, actor, interaction_id)
    return _edit(uow, actor, now, interaction, text)


def edit_from_source(uow: UnitOfWork, actor: Actor, now: datetime, source: Source, text: str) -> NoteResult | None:
    """The member edited the chat message a note was logged from: edit that note. None when that message
    logged nothing (or logged someone else's record, or a forwarded burst)."""
    interaction = _logged_from(uow.session, actor, source)
    if interaction is None:
        return None
    return _edit(uow, actor, now, interaction, text)


def note_from_source(uow: UnitOfWork, actor: Actor, source: Source) -> NoteView | None:
    """The note `edit_from_source` would edit for that chat message (nothing is changed), or None: for an edit
    the note cannot take (emptied, over `MAX_NOTE_CHARS`), so the member is told why it stays as it was."""
    interaction = _logged_from(uow.session, actor, source)
    return view_of(uow.session, actor, interaction) if interaction is not None else None


def _logged_from(session: Session, actor: Actor, source: Source) -> Interaction | None:
    interaction = interactions.find_by_source(session, source)
    if interaction is None or interaction.team_id != actor.team_id or interaction.member_id != actor.member_id:
        return None
    if interaction.details.get("forwarded"):
        return None  # a forwarded message is someone else's words: editing the forward changes nothing
    return interaction


def delete_note(uow: UnitOfWork, actor: Actor, interaction_id: int) -> NoteResult:
    """Delete the note: what undo does (withdrawn, its open follow-ups cancelled); UNCHANGED the second time."""
    return note_filing.undo_note(uow, actor, interaction_id)


def _edit(uow: UnitOfWork, actor: Actor, now: datetime, interaction: Interaction, text: str) -> NoteResult:
    session = uow.session
    text = text.strip()
    if not text:
        raise InvalidInput("a note needs a text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"notes are at most {MAX_TEXT} characters")
    if interaction.deleted_at is not None or text == interaction.text:
        return NoteResult(NoteStatus.UNCHANGED, view_of(session, actor, interaction))
    before = audit.snapshot(interaction)
    old: dict[str, Any] = dict(interaction.details.get("draft") or {})
    draft = understand(session, actor, now, text)
    _apply_text(session, actor, interaction, text, draft, old)
    changed_follow_up = _follow_up(session, actor, now, interaction, draft, old)
    session.add(interaction)
    session.flush()
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="edit", entity=interaction,
                 before=before, after=audit.snapshot(interaction))
    if changed_follow_up:
        uow.publish(FollowUpsChanged())
    return NoteResult(NoteStatus.CHANGED, view_of(session, actor, interaction))


def _apply_text(session: Session, actor: Actor, interaction: Interaction, text: str, draft: NoteDraft,
                old: dict[str, Any]) -> None:
    interaction.text = text
    interaction.search_text = search_form(" ".join(filter(None, [interaction.text, interaction.transcript])))
    interaction.amounts = [amount_json(a) for a in draft.amounts]
    if interaction.kind == old.get("kind", interaction.kind) and interaction.kind != "voice":
        interaction.kind = draft.kind
    if interaction.customer_id is not None and _contact_was_parsed(session, interaction, old):
        if draft.contact:
            customer = session.get(Customer, interaction.customer_id)
            interaction.contact_id = contact_for(session, actor, customer, draft.contact)
        else:
            interaction.contact_id = None
    details = {**interaction.details, "draft": draft.to_json(), "edited_at": utcnow().isoformat()}
    if draft.customer:
        details["mention"] = draft.customer
    interaction.details = details


def _contact_was_parsed(session: Session, interaction: Interaction, old: dict[str, Any]) -> bool:
    """The note's contact is none, or the one of the name the old text gave (not attached by hand)."""
    if interaction.contact_id is None:
        return True
    contact = session.get(Contact, interaction.contact_id)
    named = old.get("contact")
    return contact is not None and bool(named) and match_key(contact.name) == match_key(str(named))


def amount_json(amount: Amount) -> dict[str, Any]:
    """An amount as `interaction.amounts` stores it (as `core.usecases.notes` logs it)."""
    data: dict[str, Any] = {"value": amount.value}
    if amount.currency:
        data["currency"] = amount.currency
    if amount.unit:
        data["unit"] = amount.unit
    return data


def _old_follow_up(old: dict[str, Any]) -> tuple[datetime | None, str | None]:
    data = old.get("follow_up") or {}
    due = data.get("due")
    try:
        parsed = datetime.fromisoformat(due) if due else None
    except ValueError:
        parsed = None
    return parsed, data.get("action")


def _follow_up(session: Session, actor: Actor, now: datetime, interaction: Interaction, draft: NoteDraft,
               old: dict[str, Any]) -> bool:
    """Bring the note's follow-up in line with the new text where the member did not change it by hand."""
    old_due, old_action = _old_follow_up(old)
    current = followups.for_interaction(session, interaction.id or 0)
    new = draft.follow_up
    if current is not None:
        due_by_parser = old_due is not None and current.due_at == old_due
        if new is None:
            if due_by_parser and (old_action is None or current.action == old_action):
                followups.cancel(session, actor, current.id or 0)
                return True
            return False
        changed = False
        if old_action is not None and current.action == old_action and new.action != current.action:
            _set_action(session, actor, current, new.action)
            changed = True
        if due_by_parser and new.due > now and new.due != current.due_at:
            followups.reschedule(session, actor, current.id or 0, new.due, explicit_time=new.explicit_time)
            changed = True
        return changed
    if new is None or new.due <= now:
        return False
    if old_due is not None and new.due == old_due and _had_follow_up(session, interaction):
        return False  # the same follow-up the member already dropped or did: not brought back
    followups.schedule(session, actor, due_at=new.due, action=new.action, customer_id=interaction.customer_id,
                       source_interaction_id=interaction.id, explicit_time=new.explicit_time)
    return True


def _had_follow_up(session: Session, interaction: Interaction) -> bool:
    closed = (FollowUpStatus.done.value, FollowUpStatus.cancelled.value)
    return session.exec(select(FollowUp.id).where(FollowUp.source_interaction_id == interaction.id,
                                                  col(FollowUp.status).in_(closed))).first() is not None


def _set_action(session: Session, actor: Actor, follow_up: FollowUp, action: str) -> None:
    before = audit.snapshot(follow_up)
    follow_up.action = action.strip()[:followups.MAX_ACTION]
    follow_up.updated_at = utcnow()
    session.add(follow_up)
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="edit", entity=follow_up,
                 before=before, after=audit.snapshot(follow_up))
