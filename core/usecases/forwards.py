"""Forwarded messages: a burst forwarded together becomes one conversation record on one customer.

Telegram delivers a multi-message forward as separate updates a second or two apart. Each message is
stored at once (nothing is lost); a message within `window` of the previous one joins the same record.
The burst's open record is kept in the chat's state row, so it holds whichever process gets the next one;
on PostgreSQL that row is locked first (created if missing), so two messages of one burst handled at the
same moment by two processes still make one record. The one summary after the burst is claimed from the
same row (`end_burst`): the row is deleted by the one process whose DELETE … WHERE expires_at <= now
matched; a process whose timer fires while another process has extended the burst waits for the rest.
A burst whose timer died with its process is found by `overdue_bursts` (the periodic sweep) and claimed the same
way, so its summary is still sent, once.

The original sender of a forwarded message is a person of the customer, not a name of the customer: the
record keeps them as `details["sender"]` (name, platform, platform user id), never as the mention a filing
would learn as an alias; once the record is filed on a customer, `adopt_sender` finds or creates them as
that customer's contact, with their chat handle (so the next forward from them files itself).
A forward from a channel or group keeps the channel's name as the mention, as before.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col, select

from core.chat import ChatRef, ForwardOrigin
from core.events import ForwardBurstGrew
from core.models import ChatState, ConversationMessage, Customer, Interaction, InteractionKind, Member
from core.services import audit, inbox, interactions
from core.services import customers as customer_service
from core.services.actor import Actor
from core.services.interactions import Source
from core.text import search_form
from core.uow import UnitOfWork
from core.usecases.notes import NoteView, view_of
from core.usecases.team import person_name
from core.usecases.views import CustomerRef

BATCH_STATE = "forward_batch"


@dataclass(frozen=True, slots=True)
class ForwardedMessage:
    """One forwarded message as it arrived: where, who wrote it originally, what it says."""

    chat: ChatRef
    message_id: str
    origin: ForwardOrigin
    arrived_at: datetime
    text: str
    kind: str = "text"  # text | voice
    unknown_sender: str = "?"  # how to name a sender the platform hides, in the member's language
    audio: dict[str, Any] | None = field(default=None)  # a forwarded voice note's facts (hash, duration…)


@dataclass(frozen=True, slots=True)
class ForwardResult:
    """The burst's record the message joined (`note_id`), its customer if known, and whether it began there."""

    note_id: int
    customer: CustomerRef | None
    started_burst: bool
    ended: BurstSummary | None = None  # the chat's previous burst, over but not yet summarised: summarise it now


@dataclass(frozen=True, slots=True)
class BurstSummary:
    """What the one summary after a burst shows: the record's card and how many messages it holds."""

    actor: Actor
    note: NoteView
    messages: int


def append_forward(uow: UnitOfWork, actor: Actor, now: datetime, message: ForwardedMessage, *,
                   window: timedelta) -> ForwardResult:
    """Add one forwarded message to the chat's open burst (or start one on the customer whose contact wrote it)."""
    session = uow.session
    origin = message.origin
    sent_at = origin.sent_at or message.arrived_at
    sender = origin.name or message.unknown_sender
    line = f"[{sent_at.astimezone(actor.zone):%Y-%m-%d %H:%M}] {sender}: {message.text}"
    chat = str(message.chat)
    claim = inbox.current()
    interaction, ended = _open_burst(uow, actor, chat, now, message.arrived_at, window)
    started = interaction is None
    if interaction is None:
        customer_id, contact_id = _customer_of(uow, actor, message.chat.platform, origin)
        interaction, _ = interactions.log_interaction(
            session, actor, text=line, kind=InteractionKind.forwarded.value, customer_id=customer_id,
            contact_id=contact_id, occurred_at=sent_at, details=_origin_details(message.chat.platform, origin),
            source=Source(message.chat.platform, message.chat.chat_id, message.message_id))
    else:
        interaction.text = f"{interaction.text}\n{line}"
        interaction.search_text = search_form(interaction.text)
    if message.audio is not None:
        voices = [*interaction.details.get("voice", []), {"message_id": message.message_id, **message.audio}]
        interaction.details = {**interaction.details, "voice": voices}
    session.add(interaction)
    if not started:  # the burst's first message was audited with its record; each later one is its own write
        audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="forward", entity=interaction,
                     after={"message_id": message.message_id, "sender": sender, "kind": message.kind,
                            "sent_at": sent_at.isoformat()})
    dedup = hashlib.sha1(f"{chat}:{message.message_id}".encode()).hexdigest()
    session.add(ConversationMessage(team_id=actor.team_id, interaction_id=interaction.id or 0,
                                    customer_key=f"i{interaction.id}", sender=sender, from_member=False,
                                    sent_at=sent_at, kind=message.kind, text=message.text, dedup_key=dedup))
    _keep_burst_open(uow, actor, chat, interaction, until=now + window, last_at=message.arrived_at,
                     inbox_chat=claim.chat_key if claim is not None else None)
    uow.publish(ForwardBurstGrew(message.chat, actor.member_id, interaction.id or 0))
    return ForwardResult(interaction.id or 0, _customer_ref(session, interaction.customer_id), started, ended)


PERSONS = ("user", "hidden_user", "slack_message")  # origins that are a person (a channel or group is not)


def _origin_details(platform: str, origin: ForwardOrigin) -> dict[str, Any]:
    if origin.kind not in PERSONS:
        return {"mention": origin.name, "forwarded": True}
    sender = {"name": origin.name, "platform": platform, "user": origin.platform_user_id}
    return {"mention": None, "forwarded": True, "sender": sender}


def adopt_sender(uow: UnitOfWork, actor: Actor, interaction_id: int) -> NoteView | None:
    """A forwarded record filed on a customer: make its original sender that customer's contact (found by
    chat handle or name, else created with the handle) and attach them. None when there is nothing to do
    (not a forward, unfiled, a contact already attached, a sender without a name)."""
    session = uow.session
    interaction = interactions.get_own(session, actor, interaction_id)
    sender = interaction.details.get("sender") or {}
    name, platform, user = sender.get("name"), sender.get("platform"), sender.get("user")
    if (not interaction.details.get("forwarded") or interaction.customer_id is None
            or interaction.contact_id is not None or interaction.deleted_at is not None or not name):
        return None
    name = person_name(name)  # Telegram's "志明 張" (first, last) is 張志明
    contact = customer_service.contact_by_handle(session, actor, platform, user) if platform and user else None
    if contact is None or contact.customer_id != interaction.customer_id:
        contact = customer_service.find_contact(session, interaction.customer_id, name)
        handle = (platform, user) if platform and user else None
        if contact is None or (handle is not None and contact.handles.get(handle[0]) != handle[1]):
            contact = customer_service.add_contact(session, actor, interaction.customer_id, name, handle=handle)
    before = audit.snapshot(interaction)
    interaction.contact_id = contact.id
    session.add(interaction)
    session.flush()
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="contact", entity=interaction,
                 before=before, after=audit.snapshot(interaction))
    return view_of(session, actor, interaction)


def _customer_ref(session: Session, customer_id: int | None) -> CustomerRef | None:
    customer = session.get(Customer, customer_id) if customer_id else None
    return CustomerRef(customer.id or 0, customer.name) if customer is not None else None


def _open_burst(uow: UnitOfWork, actor: Actor, chat: str, now: datetime, arrived_at: datetime,
                window: timedelta) -> tuple[Interaction | None, BurstSummary | None]:
    """The chat's open burst this message joins, if any; and the chat's previous burst when it is over but its
    summary was not sent yet (its timer is late: the message starts a new burst, the old one is summarised now).

    A message joins when it was sent within `window` of the burst's last message, however late either is
    processed (a busy worker, a backlog after a restart: the platform's times decide, not ours; a backlog processed
    at once must not merge bursts sent seconds apart). A burst row written before these times were kept: while its
    quiet period runs."""
    session = uow.session
    query = select(ChatState).where(ChatState.member_id == actor.member_id, ChatState.chat == chat)
    if session.get_bind().dialect.name == "postgresql":
        # serialise the chat's forwards across processes: a second one waits here until the first commits
        session.execute(postgresql.insert(ChatState).values(
            team_id=actor.team_id, member_id=actor.member_id, chat=chat, kind=BATCH_STATE, payload={},
            expires_at=now).on_conflict_do_nothing(index_elements=["member_id", "chat"]))
        query = query.with_for_update()
    row = session.exec(query).first()
    if row is None or row.kind != BATCH_STATE or not row.payload.get("interaction"):
        return None, None
    found = session.get(Interaction, row.payload["interaction"])
    if found is None or found.deleted_at is not None:
        return None, None
    last_at = _moment(row.payload.get("last_at"))
    joins = abs(arrived_at - last_at) <= window if last_at is not None else row.expires_at > now
    if joins:
        return found, None
    return None, burst_summary(uow, actor.member_id, found.id or 0)


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _keep_burst_open(uow: UnitOfWork, actor: Actor, chat: str, interaction: Interaction, *, until: datetime,
                     last_at: datetime, inbox_chat: str | None) -> None:
    session = uow.session
    row = session.exec(select(ChatState).where(ChatState.member_id == actor.member_id,
                                               ChatState.chat == chat)).first()
    row = row or ChatState(team_id=actor.team_id, member_id=actor.member_id, chat=chat, kind=BATCH_STATE,
                           expires_at=until)
    row.kind, row.expires_at = BATCH_STATE, until
    row.payload = {"interaction": interaction.id, "last_at": last_at.isoformat(), "inbox": inbox_chat}
    session.add(row)


def _customer_of(uow: UnitOfWork, actor: Actor, platform: str, origin: ForwardOrigin) -> tuple[int | None, int | None]:
    """The customer whose contact matches the original sender, if exactly one does."""
    session = uow.session
    if origin.platform_user_id:
        contact = customer_service.contact_by_handle(session, actor, platform, origin.platform_user_id)
        if contact is not None:
            return contact.customer_id, contact.id
    if origin.name:
        contacts = customer_service.contacts_named(session, actor, origin.name)
        if len({c.customer_id for c in contacts}) == 1:
            return contacts[0].customer_id, contacts[0].id
        resolution = customer_service.resolve_customer(session, actor, origin.name)
        if resolution.customer is not None:
            return resolution.customer.id, None
    return None, None


@dataclass(frozen=True, slots=True)
class BurstEnd:
    """`end_burst`'s answer: the summary to send (this process won it), or how long the burst stays open."""

    summary: BurstSummary | None = None
    open_for: timedelta | None = None  # still open (extended, maybe by another process): look again then


def end_burst(uow: UnitOfWork, member_id: int, chat: ChatRef, now: datetime) -> BurstEnd:
    """Claim the summary of the chat's burst once it is over: exactly one process gets it (`BurstEnd.summary`);
    the others get nothing, or `open_for` while the burst is still open."""
    session = uow.session
    key = str(chat)
    if (waiting := _stored_unprocessed(session, member_id, key)) is not None:
        return BurstEnd(open_for=waiting)
    claimed: list[Any] = list(session.execute(delete(ChatState).where(
        col(ChatState.member_id) == member_id, col(ChatState.chat) == key, col(ChatState.kind) == BATCH_STATE,
        col(ChatState.expires_at) <= now).returning(col(ChatState.payload))).scalars().all())
    if claimed:
        interaction_id = (claimed[0] or {}).get("interaction")
        summary = burst_summary(uow, member_id, int(interaction_id)) if interaction_id else None
        return BurstEnd(summary=summary)
    row = session.exec(select(ChatState).where(ChatState.member_id == member_id, ChatState.chat == key,
                                               ChatState.kind == BATCH_STATE)).first()
    if row is not None and row.payload.get("interaction") and row.expires_at > now:
        return BurstEnd(open_for=row.expires_at - now)
    return BurstEnd()


UNPROCESSED_LOOK = timedelta(seconds=0.5)  # how soon to look again while the chat has updates not yet processed


def _stored_unprocessed(session: Session, member_id: int, chat: str) -> timedelta | None:
    """`UNPROCESSED_LOOK` when the chat's burst came through the inbox and the chat has updates stored there but not
    yet processed (a forward of this burst may be among them: the summary waits for it); else None."""
    row = session.exec(select(ChatState).where(ChatState.member_id == member_id, ChatState.chat == chat,
                                               ChatState.kind == BATCH_STATE)).first()
    inbox_chat = row.payload.get("inbox") if row is not None else None
    if isinstance(inbox_chat, str) and inbox.chat_has_open(session, inbox_chat):
        return UNPROCESSED_LOOK
    return None


def overdue_bursts(uow: UnitOfWork, ended_before: datetime) -> list[tuple[int, ChatRef]]:
    """Bursts whose quiet period ended before `ended_before` with no summary claimed yet (the process whose timer
    would have sent it died or stopped): (member id, chat) for `end_burst`, which still claims each one once."""
    rows = uow.session.exec(select(ChatState.member_id, ChatState.chat).where(
        ChatState.kind == BATCH_STATE, col(ChatState.expires_at) <= ended_before).order_by(col(ChatState.expires_at)))
    found = []
    for member_id, chat in rows.all():
        try:
            found.append((member_id, ChatRef.parse(chat)))
        except ValueError:  # not a chat this code wrote: nothing to send it to
            continue
    return found


def burst_summary(uow: UnitOfWork, member_id: int, interaction_id: int) -> BurstSummary | None:
    """The burst's record and how many messages it holds, for the one summary sent when it ends."""
    session = uow.session
    member = session.get(Member, member_id)
    interaction = session.get(Interaction, interaction_id)
    if member is None or interaction is None:
        return None
    count = len(session.exec(select(ConversationMessage.id)
                             .where(ConversationMessage.interaction_id == interaction_id)).all())
    actor = Actor.of(member)
    return BurstSummary(actor, view_of(session, actor, interaction), count)
