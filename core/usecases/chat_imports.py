"""Chat exports: parsed, stored once on the customer the chat is with, promises proposed, questions left to ask.

One flow for the chat and for `chatcrm import-chat`: `read_export` (or `read_every_chat`, for each chat of an
account export; `read_folder` for an unzipped export) → `import_conversation` (the messages are
stored at once, on an unfiled record when the customer is unclear) → the answers to what the file cannot
tell, each its own use case: `set_member_side` (which participant is the member), `file_import`,
`file_on_new_customer` or `file_on_typed_name` (which customer: the note flow's filing, as the chat's `n:`
buttons do), `accept_proposal` (schedule a promise found in the chat).
Every step returns an `ImportView` of the stored record; the chat asks with buttons, the CLI on the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from core.events import FollowUpsChanged
from core.exports import (
    ChatPick,
    ChatSummary,
    ChooseChat,
    ExportError,
    ParsedConversation,
    parse_all_chats,
    parse_export,
)
from core.exports import read_folder as read_export_folder
from core.models import Customer, Interaction
from core.services import audit, chat_import, followups, interactions, teams
from core.services import customers as customer_service
from core.services.actor import Actor
from core.understanding import parse_note
from core.uow import UnitOfWork
from core.usecases import note_filing
from core.usecases.views import CustomerRef

NOT_EXPORTS = frozenset({"unknown_format", "binary"})  # not a chat export at all: another importer may want it
MAX_PARTICIPANTS = 8  # kept on the record, and the most the member is asked to choose among
MAX_CANDIDATES = 6
DateOrder = Literal["dmy", "mdy"]


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Why a file could not be read as a chat export (`core.exports.ExportError` codes)."""

    code: str
    detail: str = ""

    @property
    def not_an_export(self) -> bool:
        return self.code in NOT_EXPORTS

    @property
    def needs_date_order(self) -> bool:
        return self.code == "ambiguous_dates"


@dataclass(frozen=True, slots=True)
class ChatChoice:
    """The export holds several chats (a Telegram account export, channels included): the member picks one
    (by `ChatSummary.index` or name) or all of them."""

    chats: tuple[ChatSummary, ...]


@dataclass(frozen=True, slots=True)
class ProposalView:
    index: int
    due: datetime
    action: str
    quote: str
    accepted: bool = False


@dataclass(frozen=True, slots=True)
class ImportView:
    """An imported conversation as stored (or, with `interaction_id` None, an import that added nothing)."""

    interaction_id: int | None
    format: str
    messages: int  # stored on this record
    duplicates: int  # in the file but already on the customer's timeline
    first: datetime | None
    last: datetime | None
    customer: CustomerRef | None
    me: str | None  # the participant who is the member
    participants: tuple[str, ...] = ()
    proposals: tuple[ProposalView, ...] = ()
    mention: str | None = None  # the name the chat goes by (its title, or the one other participant)
    candidates: tuple[CustomerRef, ...] = ()
    undone: bool = False

    @property
    def accepted(self) -> tuple[int, ...]:
        return tuple(p.index for p in self.proposals if p.accepted)

    @property
    def asks_which_is_you(self) -> bool:
        return self.interaction_id is not None and not self.me and 2 <= len(self.participants) <= MAX_PARTICIPANTS

    @property
    def asks_customer(self) -> bool:
        return self.interaction_id is not None and self.customer is None and not self.undone


def read_export(data: bytes, *, zone: ZoneInfo, file_name: str | None, date_order: DateOrder | None = None,
                chat: ChatPick = None) -> ParsedConversation | Unreadable | ChatChoice:
    """Parse an export (pure and CPU-bound: the chat runs it off the event loop).

    An export of several chats is a `ChatChoice` unless `chat` picks one (an index or a name)."""
    try:
        return parse_export(data, tz=zone, file_name=file_name, date_order=date_order, chat=chat)
    except ChooseChat as choice:
        return ChatChoice(choice.chats)
    except ExportError as error:
        return Unreadable(error.code, str(error))


def read_every_chat(data: bytes, *, zone: ZoneInfo, file_name: str | None, date_order: DateOrder | None = None
                    ) -> tuple[ParsedConversation, ...] | Unreadable:
    """Every chat of the export, each to be imported as its own conversation."""
    try:
        return tuple(parse_all_chats(data, tz=zone, file_name=file_name, date_order=date_order))
    except ExportError as error:
        return Unreadable(error.code, str(error))


def read_folder(folder: Path) -> tuple[bytes, str] | Unreadable:
    """An unzipped export folder (Slack's, or one holding `_chat.txt` / `result.json`) as the file it stands for."""
    try:
        return read_export_folder(folder)
    except ExportError as error:
        return Unreadable(error.code, str(error))


def import_conversation(uow: UnitOfWork, actor: Actor, now: datetime, conversation: ParsedConversation, *,
                        tz: str | None = None, also_known_as: Sequence[str] = ()) -> ImportView:
    """Store the conversation on the customer it is with, or unfiled (the view says what to ask).

    The member's side is the participant named like the member (their name, their chat accounts' names or
    `also_known_as`), else the one the file says exported it (a Telegram account's owner, a WeChat CSV's own rows); the customer is the one whose contact took part, or whose name the chat bears.
    Promises found in the chat become proposals, never follow-ups of their own accord."""
    session = uow.session
    names = [*chat_import.known_names(session, teams.member_row(session, actor.member_id)), *also_known_as]
    me = chat_import.member_side(conversation.participants, [n for n in names if n]) or conversation.exporter
    others = [p for p in conversation.participants if p != me]
    customer = chat_import.guess_customer(session, actor, others, conversation.title)
    stored = chat_import.store_conversation(session, actor, conversation.messages, fmt=conversation.format,
                                            title=conversation.title, me=me, customer=customer,
                                            note_parser=parse_note, now=now, tz=tz or actor.timezone)
    if stored.interaction is None:
        return ImportView(None, conversation.format, 0, stored.duplicates, stored.first, stored.last,
                          _ref(customer), me, tuple(conversation.participants[:MAX_PARTICIPANTS]))
    interaction = stored.interaction
    interaction.details = {**interaction.details, "participants": conversation.participants[:MAX_PARTICIPANTS]}
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="import", entity=interaction,
                 after={"format": conversation.format, "messages": stored.added, "duplicates": stored.duplicates,
                        "proposals": len(stored.proposals)})
    _name_the_chat(uow, actor, interaction, conversation.title or (others[0] if len(others) == 1 else None))
    return _view(uow, actor, interaction)


def import_conversations(uow: UnitOfWork, actor: Actor, now: datetime, conversations: Sequence[ParsedConversation],
                         *, tz: str | None = None, also_known_as: Sequence[str] = ()) -> tuple[ImportView, ...]:
    """Each chat of an account export as its own conversation (on its own customer, or unfiled)."""
    return tuple(import_conversation(uow, actor, now, conversation, tz=tz, also_known_as=also_known_as)
                 for conversation in conversations)


def _name_the_chat(uow: UnitOfWork, actor: Actor, interaction: Interaction, mention: str | None) -> None:
    """Remember the name the chat goes by and the customers it may mean (asked while the record is unfiled)."""
    candidates = customer_service.resolve_customer(uow.session, actor, mention).candidates if mention else ()
    interaction.details = {**interaction.details, "mention": mention,
                           "candidates": [c.id for c in candidates][:MAX_CANDIDATES]}
    uow.session.add(interaction)
    uow.session.flush()


def import_view(uow: UnitOfWork, actor: Actor, interaction_id: int) -> ImportView:
    """The stored import as it stands now."""
    return _view(uow, actor, interactions.get_own(uow.session, actor, interaction_id))


def accept_proposal(uow: UnitOfWork, actor: Actor, interaction_id: int, index: int) -> ImportView | None:
    """Schedule proposal `index` as a follow-up; pressing it again schedules nothing more.

    None when the record has no such proposal (a button from an older message)."""
    interaction = interactions.get_own(uow.session, actor, interaction_id)
    proposals = interaction.details.get("proposals") or []
    if interaction.deleted_at is not None:
        return _view(uow, actor, interaction)
    if not 0 <= index < len(proposals):
        return None
    accepted = list(interaction.details.get("accepted") or [])
    if index not in accepted:
        proposal = proposals[index]
        followups.schedule(uow.session, actor, due_at=datetime.fromisoformat(proposal["due"]),
                           action=proposal["action"], customer_id=interaction.customer_id,
                           source_interaction_id=interaction.id)
        interaction.details = {**interaction.details, "accepted": [*accepted, index]}
        uow.session.add(interaction)
        uow.publish(FollowUpsChanged())
    return _view(uow, actor, interaction)


def set_member_side(uow: UnitOfWork, actor: Actor, interaction_id: int, participant: int | str) -> ImportView | None:
    """Mark which participant (by index in the view's `participants`, or by name) is the member; an unfiled
    two-person chat is then known to be with the other one (its name is offered as the new customer's).

    None when there is no such participant."""
    interaction = interactions.get_own(uow.session, actor, interaction_id)
    if interaction.deleted_at is not None:
        return _view(uow, actor, interaction)
    people = list(interaction.details.get("participants") or [])
    name = participant if isinstance(participant, str) else (
        people[participant] if 0 <= participant < len(people) else None)
    if name is None or name not in people:
        return None
    chat_import.set_member_side(uow.session, actor, interaction_id, name)
    audit.record(uow.session, team_id=actor.team_id, actor_id=actor.member_id, action="import.me", entity=interaction,
                 after={"me": name})
    others = [p for p in people if p != name]
    if interaction.customer_id is None and not interaction.details.get("mention") and len(others) == 1:
        _name_the_chat(uow, actor, interaction, others[0])  # now the chat is known to be with the other one
    return _view(uow, actor, interaction)


def file_import(uow: UnitOfWork, actor: Actor, interaction_id: int, customer_id: int) -> ImportView:
    """Put an unfiled import on a customer (as the chat's customer buttons do: the chat's name becomes an alias);
    messages the customer already has are dropped."""
    note_filing.file_note(uow, actor, interaction_id, customer_id)
    return import_view(uow, actor, interaction_id)


def file_on_new_customer(uow: UnitOfWork, actor: Actor, interaction_id: int) -> ImportView:
    """File an import on a new customer named like the chat ("New customer" in the chat)."""
    note_filing.file_under_new_customer(uow, actor, interaction_id)
    return import_view(uow, actor, interaction_id)


def file_on_typed_name(uow: UnitOfWork, actor: Actor, interaction_id: int, name: str) -> ImportView:
    """File an import on the customer a typed name means, or a new one ("Type a name" in the chat).

    A name that fits several customers files nothing: the view is still unfiled."""
    note_filing.file_under_typed_name(uow, actor, interaction_id, name)
    return import_view(uow, actor, interaction_id)


def _view(uow: UnitOfWork, actor: Actor, interaction: Interaction) -> ImportView:
    session = uow.session
    details = interaction.details
    info = details.get("import") or {}
    iid = interaction.id or 0
    count = chat_import.message_count(session, iid)
    first, last = chat_import.message_range(session, iid)
    customer = session.get(Customer, interaction.customer_id) if interaction.customer_id else None
    accepted = set(details.get("accepted") or [])
    proposals = tuple(ProposalView(i, datetime.fromisoformat(p["due"]), p["action"], p["quote"], i in accepted)
                      for i, p in enumerate(details.get("proposals") or []))
    candidates = tuple(CustomerRef(c.id or 0, c.name) for cid in details.get("candidates") or []
                       if (c := session.get(Customer, cid)) and actor.can_see(c) and c.merged_into_id is None)
    return ImportView(iid, info.get("format", ""), count, max(int(info.get("total", count)) - count, 0),
                      first, last, _ref(customer), info.get("me"), tuple(details.get("participants") or ()),
                      proposals, details.get("mention"), candidates, interaction.deleted_at is not None)


def _ref(customer: Customer | None) -> CustomerRef | None:
    return CustomerRef(customer.id or 0, customer.name) if customer is not None else None

