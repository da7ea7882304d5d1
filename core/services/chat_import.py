"""Store an exported conversation on a customer's timeline, once, and propose follow-ups from it.

The messages are written at once (nothing is lost while the bot asks questions), on an interaction
that may still be unfiled; filing it under a customer re-keys the messages so that re-importing
the same or an overlapping export adds nothing twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import case, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from core.models import ChatIdentity, ConversationMessage, Customer, Interaction, InteractionKind, Member
from core.services import customers as customer_service
from core.services import interactions
from core.services.actor import Actor
from core.text import match_key

CHUNK = 2000
SCAN_FOR_PROMISES = 400  # the most recent text messages searched for promises
MAX_PROPOSALS = 5
SUMMARY_CHARS = 12_000
MAX_QUOTES = 2000  # quoted blocks kept on the record (by message), the most recent first to go
QUOTE_CHARS = 500
_PROMISE_HINT = re.compile(
    r"\d|[明後后下週周星禮礼月號号日天點点]|tomorrow|next|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|week|month|\b(mon|tue|wed|thu|fri|sat|sun)\b|[ap]\.?m\b", re.I)


class ExportedMessage(Protocol):
    @property
    def sender(self) -> str | None: ...
    @property
    def timestamp(self) -> datetime: ...
    @property
    def text(self) -> str: ...
    @property
    def kind(self) -> str: ...

@dataclass
class Proposal:
    due: datetime
    action: str
    quote: str

    def as_json(self) -> dict[str, str]:
        return {"due": self.due.isoformat(), "action": self.action, "quote": self.quote}


@dataclass
class ImportResult:
    interaction: Interaction | None
    added: int
    duplicates: int
    first: datetime | None = None
    last: datetime | None = None
    proposals: list[Proposal] = field(default_factory=list)


def quoted_by_message(interaction: Interaction) -> dict[str, str]:
    """What the record's messages quote, by message `dedup_key` (WeChat replies' 引用 blocks)."""
    quotes = interaction.details.get("quoted")
    return dict(quotes) if isinstance(quotes, dict) else {}


def dedup_key(message: ExportedMessage) -> str:
    raw = f"{message.sender or ''}\x1f{message.timestamp.isoformat()}\x1f{message.text}"
    return hashlib.sha1(raw.encode("utf-8", "surrogatepass")).hexdigest()


def known_names(session: Session, member: Member) -> list[str]:
    """The names a member goes by: their own and those of their chat accounts."""
    names = [member.name, *session.exec(select(ChatIdentity.display_name)
                                        .where(ChatIdentity.member_id == member.id)).all()]
    return [name for name in names if name]


def member_side(participants: Sequence[str], member_names: Iterable[str]) -> str | None:
    """The participant who is the salesperson, when exactly one matches one of their names."""
    keys = {match_key(name) for name in member_names if match_key(name)}
    matches = [p for p in participants if match_key(p) in keys]
    return matches[0] if len(matches) == 1 else None


def guess_customer(session: Session, actor: Actor, others: Sequence[str], title: str | None) -> Customer | None:
    """The customer whose contact is one of the other participants, or whose name is the chat title."""
    found: set[int] = set()
    for name in others:
        found.update(c.customer_id for c in customer_service.contacts_named(session, actor, name))
    if len(found) == 1:
        return customer_service.get_visible(session, actor, found.pop())
    for mention in (title, *others):
        if mention:
            resolution = customer_service.resolve_customer(session, actor, mention)
            if resolution.customer is not None:
                return resolution.customer
    return None


def _insert(session: Session) -> Any:
    return sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert


def store_conversation(session: Session, actor: Actor, messages: Iterable[ExportedMessage], *, fmt: str,
                       title: str | None, me: str | None, customer: Customer | None,
                       note_parser: Any = None, now: datetime | None = None, tz: str = "UTC") -> ImportResult:
    """Write the messages (skipping ones this customer already has) on one interaction."""
    interaction, _ = interactions.log_interaction(
        session, actor, text="", kind=InteractionKind.message.value,
        customer_id=customer.id if customer else None,
        details={"import": {"format": fmt, "title": title, "me": me}})
    key = str(customer.id) if customer else f"i{interaction.id}"
    total = 0
    first = last = None
    summary: list[str] = []
    summary_chars = 0
    recent: list[ExportedMessage] = []
    quotes: dict[str, str] = {}  # dedup key → what the message quotes (kept apart from its text)
    batch: list[dict[str, Any]] = []
    insert = _insert(session)
    for message in messages:
        first = message.timestamp if first is None or message.timestamp < first else first
        last = message.timestamp if last is None or message.timestamp > last else last
        digest = dedup_key(message)
        batch.append({"team_id": actor.team_id, "interaction_id": interaction.id, "customer_key": key,
                      "sender": message.sender, "from_member": bool(me and message.sender == me),
                      "sent_at": message.timestamp, "kind": message.kind, "text": message.text,
                      "dedup_key": digest})
        quoted = getattr(message, "quoted", None)  # what a reply quotes (WeChat), kept apart from its text
        if quoted and len(quotes) < MAX_QUOTES:
            quotes[digest] = str(quoted)[:QUOTE_CHARS]
        if message.kind == "text":
            if summary_chars < SUMMARY_CHARS:
                summary.append(f"{message.sender or ''}: {message.text}")
                summary_chars += len(summary[-1])
            recent.append(message)
            if len(recent) > SCAN_FOR_PROMISES * 2:
                recent = recent[-SCAN_FOR_PROMISES:]
        total += 1
        if len(batch) >= CHUNK:
            _flush(session, insert, batch)
            batch = []
    if batch:
        _flush(session, insert, batch)
    added = message_count(session, interaction.id or 0)
    duplicates = total - added
    if added == 0:
        session.delete(interaction)
        session.flush()
        return ImportResult(None, 0, duplicates, first, last)
    interaction.text = "\n".join(summary)
    interaction.search_text = _search_text(interaction.text)
    if last is not None:
        interaction.occurred_at = last
    proposals = _promises(recent[-SCAN_FOR_PROMISES:], note_parser, now, tz) if note_parser else []
    interaction.details = {**interaction.details,
                           "import": {**interaction.details["import"], "messages": added, "total": total},
                           "proposals": [p.as_json() for p in proposals],
                           **({"quoted": quotes} if quotes else {})}
    session.add(interaction)
    session.flush()
    return ImportResult(interaction, added, duplicates, first, last, proposals)


def _search_text(text: str) -> str:
    from core.text import search_form

    return search_form(text)


def _flush(session: Session, insert: Any, rows: list[dict[str, Any]]) -> None:
    """Insert a chunk, skipping messages the customer already has.

    One prepared single-row statement run as executemany: compiling a multi-row VALUES for
    thousands of rows costs more than the inserts themselves."""
    statement = insert(ConversationMessage.__table__).on_conflict_do_nothing(  # type: ignore[attr-defined]
        index_elements=["team_id", "customer_key", "dedup_key"])
    session.connection().execute(statement, rows)


def _promises(messages: Sequence[ExportedMessage], parse: Any, now: datetime | None, tz: str) -> list[Proposal]:
    """Future promises in the conversation, newest first, as proposals (never scheduled silently)."""
    found: list[Proposal] = []
    for message in reversed(messages):
        if not _PROMISE_HINT.search(message.text):
            continue
        draft = parse(message.text, now=message.timestamp, tz=tz)
        follow_up = getattr(draft, "follow_up", None)
        if follow_up is None or (now is not None and follow_up.due <= now):
            continue
        found.append(Proposal(follow_up.due, follow_up.action or message.text[:40], message.text[:120]))
        if len(found) >= MAX_PROPOSALS:
            break
    return found


def message_count(session: Session, interaction_id: int) -> int:
    count: int = session.execute(sa_select(func.count()).select_from(ConversationMessage)
                                 .where(col(ConversationMessage.interaction_id) == interaction_id)).scalar_one()
    return count


def message_range(session: Session, interaction_id: int) -> tuple[datetime | None, datetime | None]:
    """When the record's first and last stored messages were sent."""
    sent_at = col(ConversationMessage.sent_at)
    row = session.execute(sa_select(func.min(sent_at), func.max(sent_at))
                          .where(col(ConversationMessage.interaction_id) == interaction_id)).one()
    return row[0], row[1]


def file_conversation(session: Session, actor: Actor, interaction_id: int, customer: Customer) -> int:
    """Put an unfiled import on `customer`; messages the customer already has are dropped. Returns kept count."""
    interaction = interactions.file_under(session, actor, interaction_id, customer.id or 0)
    return message_count(session, interaction.id or 0)


def set_member_side(session: Session, actor: Actor, interaction_id: int, me: str) -> None:
    """Mark the member's messages; system lines (no sender) are nobody's (`sender = me` is NULL for them, and
    `from_member` is NOT NULL: hence the CASE)."""
    interaction = interactions.get_own(session, actor, interaction_id)
    session.execute(update(ConversationMessage).where(col(ConversationMessage.interaction_id) == interaction.id)
                    .values(from_member=case((col(ConversationMessage.sender) == me, True), else_=False))
                    .execution_options(synchronize_session=False))
    details = dict(interaction.details)
    details["import"] = {**details.get("import", {}), "me": me}
    interaction.details = details
    session.add(interaction)
