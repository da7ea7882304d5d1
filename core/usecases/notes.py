"""Log a note: understand it, file it under a customer (or ask whom), find the contact, schedule the follow-up.

Used by typed notes, /log and voice transcripts. What the confirmation buttons do afterwards (file, change
the date, undo) is in `core.usecases.note_filing`; both answer with a `NoteResult` holding a `NoteView`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any, cast

from sqlalchemy import Executable, and_, bindparam, false, null
from sqlmodel import Session, col, select

from core.events import FollowUpsChanged
from core.models import Contact, Customer, FollowUp, Interaction, Member
from core.services import audit, customer_access, customer_pool, followups, interactions
from core.services import customers as customer_service
from core.services.actor import Actor
from core.services.interactions import Source
from core.services.name_index import name_index
from core.text import match_key
from core.understanding import NoteDraft, parse_note
from core.understanding.amounts import Amount
from core.uow import UnitOfWork
from core.usecases import payments
from core.usecases.views import CustomerRef, FollowUpView

__all__ = ["MAX_CHOICES", "NoteInput", "NoteResult", "NoteStatus", "NoteView", "Source", "ask_candidates",
           "contact_for", "log_note", "note_view", "understand", "view_of"]

MAX_CHOICES = 5  # customers offered when the customer must be asked


class NoteStatus(StrEnum):
    NOTHING = "nothing"  # nothing worth logging was understood
    DUPLICATE = "duplicate"  # this message was logged before: `note` is the record stored then
    STORED = "stored"
    CHANGED = "changed"
    UNCHANGED = "unchanged"  # pressed twice, already so, or the note was withdrawn
    AMBIGUOUS = "ambiguous"  # a typed customer name fits several: `note.candidates` are they
    BAD_DATE = "bad_date"  # a typed due time that is no future time
    NO_MENTION = "no_mention"  # "new customer" on a note that named nobody


@dataclass(frozen=True, slots=True)
class NoteInput:
    text: str
    source: Source | None  # the message it came from (idempotency key); None for none
    kind: str | None = None  # note | call | visit | voice …; None: as understood from the text
    transcript: str | None = None
    details: Mapping[str, Any] | None = None  # facts stored with the record (e.g. a voice note's audio)
    parse_text: str | None = None  # understand this instead of `text`


@dataclass(frozen=True, slots=True)
class NoteView:
    """A stored note as the confirmation card shows it."""

    id: int
    text: str
    kind: str
    customer: CustomerRef | None  # None: unfiled, the customer must be asked
    contact: str | None
    amounts: tuple[dict[str, Any], ...]
    transcript: str | None
    low_confidence: bool  # the transcript may be wrong
    new_customer: bool  # the customer was created for this note
    deleted: bool  # withdrawn (undone)
    mention: str | None  # how the note named its customer
    candidates: tuple[CustomerRef, ...]  # whom to offer while unfiled (see `ask_candidates`)
    follow_up: FollowUpView | None
    owner: str | None = None  # the colleague whose customer it is, when the actor does not see it
    access_requested: bool = False  # the actor asked that colleague for access already
    same_as: bool = False  # unfiled: the mention reads like `candidates` (same company); asked before creating
    pool: CustomerRef | None = None  # unfiled: it names this customer of the team's pool, to be claimed first


@dataclass(frozen=True, slots=True)
class NoteResult:
    status: NoteStatus
    note: NoteView | None = None

    @property
    def must_ask(self) -> bool:
        """The note is stored but its customer is unclear: ask, offering `note.candidates`."""
        return self.note is not None and self.note.customer is None and not self.note.deleted


@dataclass(frozen=True, slots=True)
class _Filing:
    customer: Customer | None
    candidates: list[Customer]
    mention: str | None
    created: bool = False
    same_as: bool = False


def log_note(uow: UnitOfWork, actor: Actor, now: datetime, note: NoteInput) -> NoteResult:
    """Log `note.text` as an interaction (once per source) under the customer it is about, with its follow-up.

    The common case (a known customer and contact, a follow-up) is five statements: the name index's sync
    read; the customer, its contact and whether the source was stored before, in one query; `INSERT
    interaction … ON CONFLICT (source) DO NOTHING` (a concurrent delivery of the same message still stores
    nothing twice); the follow-up's INSERT; both audit events in one INSERT at the commit."""
    session = uow.session
    draft = understand(session, actor, now, note.parse_text if note.parse_text is not None else note.text)
    if draft.is_empty and not note.transcript:
        return NoteResult(NoteStatus.NOTHING)
    known, checked, stored = _read_customers(session, actor, draft, note.source)  # held: in the identity map
    if note.source and not checked:
        stored = interactions.find_by_source(session, note.source)
    if stored is not None:
        return NoteResult(NoteStatus.DUPLICATE, view_of(session, actor, stored))
    filing = _choose_customer(session, actor, draft)
    contact, new_contact = _contact(session, actor, filing.customer, draft.contact, known)
    contact_id = contact.id if contact is not None else None
    info = {**(note.details or {}), "draft": draft.to_json(), "mention": filing.mention,
            "candidates": [c.id for c in filing.candidates][:MAX_CHOICES], "new_customer": filing.created}
    if new_contact:
        info["new_contact"] = contact_id
    if filing.same_as:
        info["same_as"] = True
    held = filing.customer is not None and customer_pool.in_pool(filing.customer)  # nobody owns it: claim first
    if held and filing.customer is not None:
        info["pool"] = filing.customer.id
    seen = not held and filing.customer is not None and customer_access.can_see(session, actor, filing.customer)
    interaction, created = interactions.log_interaction(
        session, actor, text=note.text, kind=note.kind or draft.kind,
        customer_id=filing.customer.id if filing.customer and seen else None, contact_id=contact_id,
        occurred_at=draft.occurred_at or now, amounts=[_amount(a) for a in draft.amounts], details=info,
        transcript=note.transcript, source=note.source, source_checked=True)
    if not created:  # logged before (a redelivery, or a concurrent delivery that won): nothing was written
        return NoteResult(NoteStatus.DUPLICATE, view_of(session, actor, interaction))
    if filing.customer is not None and not seen and not held:
        attach(session, actor, interaction, filing.customer)
    follow_up = None
    if draft.follow_up is not None:
        follow_up = followups.schedule(session, actor, due_at=draft.follow_up.due, action=draft.follow_up.action,
                                       customer_id=interaction.customer_id, source_interaction_id=interaction.id,
                                       explicit_time=draft.follow_up.explicit_time)
        payments.mark_from_note(session, actor, follow_up, note.text, interaction.amounts)  # issue 15: money owed
        uow.publish(FollowUpsChanged())
    # the card from the objects at hand: no second read of the contact or the follow-up just written
    # and without the "change customer" choices of a filed note: that button reads the record again
    return NoteResult(NoteStatus.STORED, view_of(session, actor, interaction, contact=contact,
                                                 follow_up=follow_up if follow_up is not None else False,
                                                 recent_others=False))


def attach(session: Session, actor: Actor, interaction: Interaction, customer: Customer) -> None:
    """File the actor's own note on a team customer they may not see (a colleague's): the note is theirs,
    the customer stays its owner's (`interactions.file_under` for customers the actor sees)."""
    if customer_access.can_see(session, actor, customer):
        interactions.file_under(session, actor, interaction.id or 0, customer.id or 0)
        return
    before = audit.snapshot(interaction)
    interaction.customer_id = customer.id
    session.add(interaction)
    for follow_up in session.exec(select(FollowUp).where(FollowUp.source_interaction_id == interaction.id)):
        if follow_up.customer_id == customer.id:
            continue
        moved = {"customer_id": follow_up.customer_id}
        follow_up.customer_id = customer.id
        session.add(follow_up)
        audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="file", entity=follow_up,
                     before=moved, after={"customer_id": customer.id})
    if interaction.deleted_at is None and (customer.last_interaction_at is None
                                           or interaction.occurred_at > customer.last_interaction_at):
        customer.last_interaction_at, customer.silent_alerted_at = interaction.occurred_at, None
        session.add(customer)
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="file", entity=interaction,
                 before=before, after=audit.snapshot(interaction))
    session.flush()


def understand(session: Session, actor: Actor, now: datetime, text: str) -> NoteDraft:
    """The parse of a note, knowing the team's customers and contacts."""
    index = name_index.customer_index(session, actor.team_id)
    return parse_note(text, now=now, tz=actor.timezone, customers=index, country=actor.country or None,
                      language=actor.language)


def note_view(uow: UnitOfWork, actor: Actor, interaction_id: int) -> NoteView:
    """A note the actor may change, as the card shows it (NotFound otherwise)."""
    return view_of(uow.session, actor, interactions.get_own(uow.session, actor, interaction_id))


def ask_candidates(uow: UnitOfWork, actor: Actor, candidate_ids: Sequence[int]) -> tuple[CustomerRef, ...]:
    """Whom to offer for an unfiled record: its candidates the actor sees, or else the most recent customers."""
    return _offered(uow.session, actor, candidate_ids)


def _offered(session: Session, actor: Actor, ids: Sequence[int]) -> tuple[CustomerRef, ...]:
    found = tuple(_ref(c) for cid in ids if (c := _in_team(session, actor, cid)))
    if found:
        return found[:MAX_CHOICES]
    return tuple(_ref(c) for c in customer_service.list_customers(session, actor, limit=MAX_CHOICES))


def view_of(session: Session, actor: Actor, interaction: Interaction, *, contact: Contact | None = None,
            follow_up: FollowUp | bool | None = None, recent_others: bool = True) -> NoteView:
    """The card's view of a record; `contact` and `follow_up` (False: none) when the caller has them at hand;
    `recent_others=False`: a filed record's candidates only from its own details (no query for recent customers)."""
    details = interaction.details or {}
    customer = session.get(Customer, interaction.customer_id) if interaction.customer_id else None
    if contact is None or contact.id != interaction.contact_id:
        contact = session.get(Contact, interaction.contact_id) if interaction.contact_id else None
    customer_ref = _ref(customer) if customer is not None else None
    deleted = interaction.deleted_at is not None
    ids = [int(cid) for cid in details.get("candidates") or []]
    candidates: tuple[CustomerRef, ...] = ()
    if customer_ref is None and not deleted:
        candidates = _offered(session, actor, ids)
    elif customer_ref is not None and not deleted and not recent_others:
        candidates = tuple(_ref(c) for cid in ids if cid != customer_ref.id
                           and (c := _in_team(session, actor, cid)))[:MAX_CHOICES]
    elif customer_ref is not None and not deleted:
        # whom "change customer" offers: the note's candidates, else the most recent other customers
        others = ids if [cid for cid in ids if cid != customer_ref.id] else [
            c.id or 0 for c in customer_service.list_customers(session, actor, limit=MAX_CHOICES + 1)
            if c.id != customer_ref.id]
        candidates = tuple(_ref(c) for cid in others if (c := _in_team(session, actor, cid)))[:MAX_CHOICES]
    if follow_up is None or follow_up is True:
        follow_up = followups.for_interaction(session, interaction.id or 0)
    elif follow_up is False:
        follow_up = None
    owner, requested = None, False
    if customer is not None and not customer_access.can_see(session, actor, customer):
        member = session.get(Member, customer.owner_id) if customer.owner_id else None
        owner = member.name if member else "?"
        access = customer_access.access_of(session, customer.id or 0, actor.member_id)
        requested = access is not None and access.status == customer_access.REQUESTED
    pooled = session.get(Customer, details["pool"]) if details.get("pool") and customer is None else None
    return NoteView(
        id=interaction.id or 0, text=interaction.text, kind=interaction.kind, customer=customer_ref,
        contact=contact.name if contact else None, amounts=tuple(interaction.amounts or ()),
        transcript=interaction.transcript,
        low_confidence=bool(interaction.transcript and details.get("low_confidence")),
        new_customer=bool(details.get("new_customer")), deleted=deleted, mention=details.get("mention"),
        candidates=candidates, follow_up=_follow_up(follow_up, customer_ref) if follow_up else None,
        owner=owner, access_requested=requested, same_as=bool(details.get("same_as")) and customer is None,
        pool=_ref(pooled) if pooled is not None and pooled.team_id == actor.team_id
        and customer_pool.in_pool(pooled) else None)


def _follow_up(follow_up: FollowUp, customer: CustomerRef | None) -> FollowUpView:
    same = customer is not None and follow_up.customer_id == customer.id
    return FollowUpView(follow_up.id or 0, follow_up.action, follow_up.due_at, follow_up.status,
                        customer if same else None, follow_up.explicit_time)


def _ref(customer: Customer) -> CustomerRef:
    return CustomerRef(customer.id or 0, customer.name)


def _choose_customer(session: Session, actor: Actor, draft: NoteDraft) -> _Filing:
    """The customer a draft is about, among ALL of the team's (one customer per company per team): known,
    newly introduced, or (when unclear, or when a new name reads like a known company) nobody yet, with
    candidates to ask among."""
    known = [c for c in draft.customer_candidates if c.id is not None]
    team = [customer for c in known if (customer := _in_team(session, actor, c.id))]
    if draft.customer_known and draft.customer_id is not None and (
            chosen := _in_team(session, actor, draft.customer_id)):
        return _Filing(chosen, team, draft.customer)
    if len(team) > 1:
        return _Filing(None, team, draft.customer)
    if draft.customer:
        resolution = customer_service.resolve_customer(session, actor, draft.customer, team_wide=True)
        if resolution.customer is not None:
            return _Filing(resolution.customer, list(resolution.candidates), draft.customer)
        if resolution.candidates:
            return _Filing(None, list(resolution.candidates), draft.customer)
        if similar := customer_service.same_company(session, actor, draft.customer):
            return _Filing(None, similar, draft.customer, same_as=True)
        created = customer_service.create_customer(session, actor, draft.customer)
        return _Filing(created, [], draft.customer, created=True)
    return _Filing(team[0] if len(team) == 1 else None, team, None)


def _read_customers(session: Session, actor: Actor, draft: NoteDraft, source: Source | None
                    ) -> tuple[dict[int, tuple[Customer, Contact | None]], bool, Interaction | None]:
    """The draft's known customers of the team in one query, each with its contact of the draft's contact name
    (None: none of that name), and the record stored before from `source`; whether the source was looked up
    (not when no customer was read). Held by the caller, the customers stay in the session's identity map,
    where `_in_team` finds them."""
    ids = {c.id for c in draft.customer_candidates if c.id is not None}
    if draft.customer_id is not None:
        ids.add(draft.customer_id)
    if not ids:
        return {}, False, None
    key = match_key(draft.contact) if draft.contact else ""
    params: dict[str, Any] = {"ids": sorted(ids), "team": actor.team_id, "key": key}
    if source is not None:
        params |= {"platform": source.platform, "chat": source.chat, "message": source.message_id}
    rows = cast(Sequence[tuple[Customer, Contact | None, int | None]],
                session.execute(_customers_query(bool(key), source is not None), params).all())
    if not rows:
        return {}, False, None
    found: dict[int, tuple[Customer, Contact | None]] = {}
    for customer, contact, _ in rows:
        if customer.id is not None and customer.id not in found:
            found[customer.id] = (customer, contact)
    stored_id = rows[0][2]
    return found, source is not None, session.get(Interaction, stored_id) if stored_id is not None else None


@cache
def _customers_query(named: bool, sourced: bool) -> Executable:
    """`_read_customers`' query, built once (each note binds its values): customers by id in the team, their
    contact of a name key (when `named`), the id of the record of a source (when `sourced`)."""
    stored = select(Interaction.id).where(
        col(Interaction.source_platform) == bindparam("platform"), col(Interaction.source_chat) == bindparam("chat"),
        col(Interaction.source_message_id) == bindparam("message")).scalar_subquery() if sourced else null()
    contact = and_(col(Contact.customer_id) == col(Customer.id),
                   col(Contact.name_key) == bindparam("key")) if named else false()
    return (select(Customer, Contact, stored).outerjoin(Contact, contact)
            .where(col(Customer.id).in_(bindparam("ids", expanding=True)), Customer.team_id == bindparam("team"))
            .order_by(col(Contact.id)))


def _in_team(session: Session, actor: Actor, customer_id: int | None) -> Customer | None:
    customer = session.get(Customer, customer_id) if customer_id else None
    return customer if customer and customer.team_id == actor.team_id and customer.merged_into_id is None else None


def contact_for(session: Session, actor: Actor, customer: Customer | None, name: str | None) -> int | None:
    """The customer's contact of that name, added if new (None without a customer or a name)."""
    contact = _contact(session, actor, customer, name)[0]
    return contact.id if contact is not None else None


def _contact(session: Session, actor: Actor, customer: Customer | None, name: str | None,
             known: dict[int, tuple[Customer, Contact | None]] | None = None) -> tuple[Contact | None, bool]:
    """The contact (kept at hand for the card), and whether it was added now; `known`: customers read with
    their contact of that name (`_read_customers`), so that no second query is needed."""
    if customer is None or customer.id is None or not name:
        return None, False
    if known and customer.id in known and match_key(name):
        found = known[customer.id][1]
    else:
        found = customer_service.find_contact(session, customer.id, name)
    if found is not None:
        return found, False
    return customer_service.add_contact(session, actor, customer.id, name, team_wide=True), True


def _amount(amount: Amount) -> dict[str, Any]:
    data: dict[str, Any] = {"value": amount.value}
    if amount.currency:
        data["currency"] = amount.currency
    if amount.unit:
        data["unit"] = amount.unit
    return data
