"""Erasing a customer's or a contact person's personal data, irreversibly (a privacy request, issue 16).

A customer's erasure leaves an **anonymous shell**: the customer row stays under its id with a neutral name
(`Erased customer #12` in the team's language), `erased_at` set and every other field blank, so the team's counts
and reports still add up (its notes keep their kind, time and author; its deals their stage and amount; its
follow-ups their times). Everything that names or describes the customer goes:

- names: the customer's name, aliases and their lookup rows, the names of customers merged into it (their
  tombstones become shells too), its contacts (deleted);
- phones, e-mails, address, region, tags and free notes;
- its notes' texts, transcripts, search terms and details (parse drafts, forward origins, audio hashes);
- stored voice clips, imported and forwarded conversation messages, attached files (rows and bytes);
- deal titles (the shell's name instead) and lost reasons, follow-up actions (open ones are cancelled);
- wherever else the team's rows mention one of its names, phone numbers or e-mail addresses (an unfiled note,
  another customer's notes, a follow-up, a deal, a file name, an audit snapshot): the words are replaced by
  `REDACTED` and the note's search terms rebuilt;
- the before/after snapshots of every audit event about these rows (the events stay: who did what, when);
- awaited answers (`chatstate`) and finished raw updates (`inboxitem`, which keep message texts) of the team's
  chats that mention it or carried one of its notes; an update being handled (the confirm press, which quotes the
  preview) keeps its row with the words redacted;
- the search index: SQLite's FTS5 table follows the rows by trigger and is then optimised, so no segment keeps
  a deleted term; PostgreSQL's GIN index follows the rows (dead row versions go at the next vacuum); the name
  index of every process is rebuilt (the erasure's audit event, entity `erasure`, tells them).

A contact person's erasure removes the contact, blanks the notes linked to them (their texts, transcripts,
messages and voice clips), deletes the conversation messages they sent, and redacts their name within their
customer's rows (and unfiled notes) and their phone numbers and e-mail addresses anywhere in the team; the
customer itself stays.

A person's phone numbers and e-mail addresses are also taken off every customer and contact person of the team
that still lists them (a customer list copies a contact's e-mail and phone onto the customer).

One audit event records the erasure (who, when, the reason with any erased words redacted, how many rows),
without the erased data. On SQLite `secure_delete` is switched on first, so freed pages are zeroed, and once the
erasure commits the WAL is checkpointed and truncated (`PRAGMA wal_checkpoint(TRUNCATE)`): the zeroed pages
reach the database file and no WAL frame keeps the old bytes. On PostgreSQL the old row versions stay in the
table's files as dead tuples until (auto)vacuum reclaims them.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import phonenumbers
from sqlalchemy import Text, cast, delete, event, func, or_, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel, col, select

from core.models import (
    AudioClip,
    AuditEvent,
    ChatIdentity,
    ChatState,
    Contact,
    ConversationMessage,
    Customer,
    CustomerAlias,
    CustomerFile,
    Deal,
    FollowUp,
    FollowUpStatus,
    InboxItem,
    Interaction,
    Team,
)
from core.services import audit
from core.services.actor import Actor
from core.services.name_index import name_index
from core.services.personal_data import merged_into
from core.text import match_key, search_form

T = TypeVar("T")
log = logging.getLogger(__name__)
CHECKPOINT = "chatcrm_erasure_checkpoint"  # session.info: checkpoint SQLite's WAL once this commits
CHECKPOINT_WAIT_MS = 2000  # how long the checkpoint waits for other connections' readers and writers
REDACTED = "[…]"
MIN_TERM = 2  # shorter words are not redacted elsewhere (they would hit unrelated text)
CHUNK = 500
SHELL_NAMES = {"zh-Hant": "已刪除個資的客戶 #{id}", "zh-Hans": "已删除个人信息的客户 #{id}",
               "en": "Erased customer #{id}"}
OPEN = (FollowUpStatus.pending.value, FollowUpStatus.sent.value, FollowUpStatus.snoozed.value)
FINISHED_INBOX = ("done", "parked")
IN_FLIGHT = "processing"  # an update being handled: its keys are recorded, so it is never handled again
ERASED_DETAILS = {"erased": True}


def shell_name(language: str, customer_id: int) -> str:
    return SHELL_NAMES.get(language, SHELL_NAMES["en"]).format(id=customer_id)


# -- words ---------------------------------------------------------------------------------------------------------


def phone_forms(phone: str) -> set[str]:
    """The ways a stored number is written: as stored, E.164, national and international, with and without
    spaces or dashes (`+886912345678`, `0912 345 678`, `0912-345-678`, `0912345678`, `+886 912 345 678`)."""
    forms = {phone.strip()}
    try:
        number = phonenumbers.parse(phone, None if phone.strip().startswith("+") else "TW")
    except phonenumbers.NumberParseException:
        number = None
    if number is not None:
        for style in (phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.NATIONAL,
                      phonenumbers.PhoneNumberFormat.INTERNATIONAL):
            written = phonenumbers.format_number(number, style)
            forms |= {written, written.replace(" ", "-"), re.sub(r"[^\d+]", "", written)}
    return {f for f in forms if len(re.sub(r"\D", "", f)) >= 6}


def _words(values: Iterable[str | None]) -> list[str]:
    found = {" ".join(v.split()) for v in values if v and len(" ".join(v.split())) >= MIN_TERM}
    return sorted(found, key=len, reverse=True)


def _forms(term: str) -> set[str]:
    """A term as it may be stored: as typed and as JSON escapes it (`\\u5927`), lower-cased."""
    return {term.lower(), json.dumps(term)[1:-1].lower()}


def mentions(columns: Iterable[Any], terms: list[str]) -> Any:
    """SQL: any of `columns` (text or JSON) contains any of `terms`, case-insensitively."""
    clauses = [func.lower(cast(column, Text)).contains(form, autoescape=True)
               for column in columns for term in terms for form in _forms(term)]
    return or_(*clauses) if clauses else text("1 = 0")


def _pattern(terms: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE) if terms else None


def redact(value: Any, pattern: re.Pattern[str] | None) -> Any:
    """`value` (text, or JSON: dicts, lists) with every match of `pattern` replaced by REDACTED."""
    if pattern is None or value is None:
        return value
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, list):
        return [redact(v, pattern) for v in value]
    if isinstance(value, dict):
        return {k: redact(v, pattern) for k, v in value.items()}
    return value


def _chunks(ids: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _bulk(session: Session, statement: Any) -> int:
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


# -- the erasures ----------------------------------------------------------------------------------------------


def erase_customer(session: Session, actor: Actor, customer: Customer, reason: str, now: datetime) -> dict[str, int]:
    """Erase `customer` (and the tombstones merged into it), leaving the anonymous shell; returns the counts."""
    _secure(session)
    team_id = actor.team_id
    ids = merged_into(session, customer.id or 0)
    customers = [c for c in session.exec(select(Customer).where(col(Customer.id).in_(ids)))]
    contacts = list(session.exec(select(Contact).where(col(Contact.customer_id).in_(ids))))
    aliases = list(session.exec(select(CustomerAlias.alias).where(col(CustomerAlias.customer_id).in_(ids))))
    phones = [p for c in customers for p in c.phones] + [p for c in contacts for p in c.phones]
    emails = [e for c in customers for e in [c.email, *c.emails]] + [c.email for c in contacts]
    strong = _words([*(c.name for c in customers), *(a for c in customers for a in c.aliases), *aliases, *emails,
                     *(c.address for c in customers), *(f for p in phones for f in phone_forms(p))])
    weak = _words(c.name for c in contacts)
    notes = [i for i in session.exec(select(Interaction.id).where(col(Interaction.customer_id).in_(ids)))
             if i is not None]
    counts: dict[str, int] = {"interactions": len(notes), "contacts": len(contacts)}
    sources = _blank_notes(session, notes)
    counts["conversation"] = _bulk(session, delete(ConversationMessage).where(
        col(ConversationMessage.team_id) == team_id,
        or_(col(ConversationMessage.customer_key).in_([str(i) for i in ids]),
            col(ConversationMessage.interaction_id).in_(notes) if notes else text("1 = 0"))))
    counts["files"] = _bulk(session, delete(CustomerFile).where(col(CustomerFile.customer_id).in_(ids)))
    contact_ids = [c.id for c in contacts if c.id is not None]
    if contact_ids:
        _bulk(session, update(Interaction).where(col(Interaction.contact_id).in_(contact_ids)).values(contact_id=None))
    _bulk(session, delete(Contact).where(col(Contact.customer_id).in_(ids)))
    _bulk(session, delete(CustomerAlias).where(col(CustomerAlias.customer_id).in_(ids)))
    follow_ups = [f for f in session.exec(select(FollowUp.id).where(col(FollowUp.customer_id).in_(ids)))]
    counts["follow_ups"] = len(follow_ups)
    _bulk(session, update(FollowUp).where(col(FollowUp.customer_id).in_(ids), col(FollowUp.status).in_(OPEN))
          .values(status=FollowUpStatus.cancelled.value, claimed_by=None, claimed_until=None, updated_at=now))
    _bulk(session, update(FollowUp).where(col(FollowUp.customer_id).in_(ids)).values(action="", last_error=None))
    deals = [d for d in session.exec(select(Deal.id).where(col(Deal.customer_id).in_(ids)))]
    counts["deals"] = len(deals)
    team = session.get(Team, team_id)
    language = team.language if team else "en"
    shell = shell_name(language, customer.id or 0)
    _bulk(session, update(Deal).where(col(Deal.customer_id).in_(ids)).values(title=shell, lost_reason=None))
    for row in customers:
        row.name, row.name_key = shell_name(language, row.id or 0), ""
        row.aliases, row.phones, row.emails, row.tags = [], [], [], []
        row.email = row.address = row.region = row.notes = None
        row.important, row.silent_days, row.erased_at, row.updated_at = False, None, now, now
        session.add(row)
    session.flush()
    counts["redacted"] = _drop_details(session, team_id, phones, emails)
    counts["redacted"] += _redact_team(session, team_id, strong, None)
    counts["redacted"] += _redact_team(session, team_id, weak, [])  # contact names: unfiled notes only
    entities: dict[str, list[int]] = {"customer": ids, "contact": contact_ids, "interaction": notes,
                                      "followup": [f for f in follow_ups if f is not None],
                                      "deal": [d for d in deals if d is not None]}
    counts["audit"] = _scrub_audit(session, team_id, ids, entities, strong + weak)
    counts["chat_states"] = _drop_chat_states(session, team_id, strong + weak, ids)
    counts["inbox"] = _drop_inbox(session, team_id, strong + weak, sources, actor.member_id)
    _record(session, actor, "customer", customer.id or 0, customer.id or 0, reason, strong + weak, counts)
    _after(session, team_id)
    return counts


def erase_contact(session: Session, actor: Actor, contact: Contact, reason: str, now: datetime) -> dict[str, int]:
    """Erase one contact person: the contact goes, the notes linked to them are blanked, their words redacted."""
    _secure(session)
    team_id, customer_id = actor.team_id, contact.customer_id
    phones, emails = list(contact.phones), [contact.email]
    strong = _words([contact.email, *(f for p in contact.phones for f in phone_forms(p))])
    weak = _words([contact.name])
    notes = [i for i in session.exec(select(Interaction.id).where(Interaction.contact_id == contact.id))
             if i is not None]
    counts: dict[str, int] = {"interactions": len(notes), "contacts": 1}
    sources = _blank_notes(session, notes)
    counts["conversation"] = _bulk(session, delete(ConversationMessage).where(
        col(ConversationMessage.interaction_id).in_(notes))) if notes else 0
    key = match_key(contact.name)
    sent = [m for m in session.exec(select(ConversationMessage).where(
        ConversationMessage.team_id == team_id, ConversationMessage.customer_key == str(customer_id),
        col(ConversationMessage.sender).is_not(None))) if key and match_key(m.sender or "") == key]
    for message in sent:
        session.delete(message)
    counts["conversation"] += len(sent)
    session.flush()
    follow_ups = [f for f in session.exec(select(FollowUp.id).where(col(FollowUp.source_interaction_id).in_(notes)))
                  ] if notes else []
    counts["follow_ups"], counts["deals"], counts["files"] = len(follow_ups), 0, 0
    customer = session.get(Customer, customer_id)
    if customer is not None and key:
        _bulk(session, delete(CustomerAlias).where(col(CustomerAlias.customer_id) == customer_id,
                                                   col(CustomerAlias.key) == key))
        customer.aliases = [a for a in customer.aliases if match_key(a) != key]
        session.add(customer)
    _bulk(session, update(Interaction).where(col(Interaction.contact_id) == contact.id).values(contact_id=None))
    contact_id = contact.id or 0
    session.delete(contact)
    session.flush()
    counts["redacted"] = _drop_details(session, team_id, phones, emails)
    counts["redacted"] += _redact_team(session, team_id, strong, None)
    counts["redacted"] += _redact_team(session, team_id, weak, [customer_id])
    entities: dict[str, list[int]] = {"contact": [contact_id], "interaction": notes,
                                      "followup": [f for f in follow_ups if f is not None]}
    counts["audit"] = _scrub_audit(session, team_id, [], entities, strong + weak)
    counts["chat_states"] = _drop_chat_states(session, team_id, strong + weak, [])
    counts["inbox"] = _drop_inbox(session, team_id, strong + weak, sources, actor.member_id)
    _record(session, actor, "contact", contact_id, customer_id, reason, strong + weak, counts)
    _after(session, team_id)
    return counts


# -- steps ---------------------------------------------------------------------------------------------------------


def _secure(session: Session) -> None:
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("PRAGMA secure_delete = ON")


def _blank_notes(session: Session, notes: list[int]) -> list[tuple[str | None, str | None, str | None]]:
    """Blank these notes (text, transcript, search terms, details); delete their voice clips. Returns their
    sources (platform, chat, message id), whose raw updates are dropped from the inbox."""
    sources: list[tuple[str | None, str | None, str | None]] = []
    for chunk in _chunks(notes):
        sources += [tuple(r) for r in session.execute(  # type: ignore[misc]
            sa_select(col(Interaction.source_platform), col(Interaction.source_chat),
                      col(Interaction.source_message_id)).where(col(Interaction.id).in_(chunk)))]
        _bulk(session, update(Interaction).where(col(Interaction.id).in_(chunk))
              .values(text="", transcript=None, search_text="", details=ERASED_DETAILS))
        _bulk(session, delete(AudioClip).where(col(AudioClip.interaction_id).in_(chunk)))
    session.expire_all()
    return sources


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def _drop_details(session: Session, team_id: int, phones: Iterable[str], emails: Iterable[str | None]) -> int:
    """Remove these phone numbers (in any of their written forms) and e-mail addresses (in any case) from every
    customer and contact person of the team that still lists them (a customer list gives a customer its contact's
    e-mail and phone; colleagues copy them). Returns how many rows changed."""
    forms = sorted({f for p in phones for f in phone_forms(p)})
    digits = {_digits(f) for f in forms}
    addresses = sorted({e.strip().lower() for e in emails if e and e.strip()})
    if not forms and not addresses:
        return 0
    terms = forms + addresses

    def kept_phones(values: list[str]) -> list[str]:
        return [p for p in values if _digits(p) not in digits]

    def kept_emails(values: Iterable[str | None]) -> list[str]:
        return [e for e in values if e and e.strip().lower() not in addresses]

    changed = 0
    customers = select(Customer).where(Customer.team_id == team_id,
                                       mentions([Customer.phones, Customer.emails, Customer.email], terms))
    for customer in session.exec(customers).all():
        phones_left, emails_left = kept_phones(customer.phones), kept_emails(customer.emails)
        email = customer.email if kept_emails([customer.email]) else (emails_left[0] if emails_left else None)
        if (phones_left, emails_left, email) != (customer.phones, customer.emails, customer.email):
            customer.phones, customer.emails, customer.email = phones_left, emails_left, email
            session.add(customer)
            changed += 1
    contacts = select(Contact).where(Contact.team_id == team_id, mentions([Contact.phones, Contact.email], terms))
    for other in session.exec(contacts).all():
        phones_left, email = kept_phones(other.phones), other.email if kept_emails([other.email]) else None
        if (phones_left, email) != (other.phones, other.email):
            other.phones, other.email = phones_left, email
            session.add(other)
            changed += 1
    session.flush()
    return changed


# model, text columns, JSON columns, the column naming the row's customer (None: the model's own id)
_REDACTABLE: tuple[tuple[type[SQLModel], tuple[str, ...], tuple[str, ...], str | None], ...] = (
    (Interaction, ("text", "transcript"), ("details",), "customer_id"),
    (FollowUp, ("action", "last_error"), (), "customer_id"),
    (Deal, ("title", "lost_reason"), (), "customer_id"),
    (Customer, ("notes", "address"), (), None),
    (Contact, ("notes", "title"), (), "customer_id"),
    (CustomerFile, ("file_name",), (), "customer_id"),
    (ConversationMessage, ("text", "sender"), (), "customer_key"),
)


def _redact_team(session: Session, team_id: int, terms: list[str], scope: list[int] | None) -> int:
    """Redact `terms` in the team's rows: everywhere (`scope` None) or in these customers' rows and unfiled
    notes. Returns how many rows changed."""
    pattern = _pattern(terms)
    if pattern is None:
        return 0
    changed = 0
    for model, texts, jsons, owner in _REDACTABLE:
        columns = [getattr(model, name) for name in (*texts, *jsons)]
        query = select(model).where(col(model.team_id) == team_id, mentions(columns, terms))  # type: ignore[attr-defined]
        if scope is not None:
            if owner is None:
                query = query.where(col(model.id).in_(scope or [-1]))  # type: ignore[attr-defined]
            elif owner == "customer_key":
                query = query.where(col(getattr(model, owner)).in_([str(i) for i in scope] + [""]))
            else:
                query = query.where(or_(col(getattr(model, owner)).in_(scope or [-1]),
                                        col(getattr(model, owner)).is_(None)))
        for row in session.exec(query).all():
            for name in (*texts, *jsons):
                setattr(row, name, redact(getattr(row, name), pattern))
            if isinstance(row, Interaction):
                row.search_text = search_form(" ".join(filter(None, [row.text, row.transcript])))
            session.add(row)
            changed += 1
    session.flush()
    return changed


def _scrub_audit(session: Session, team_id: int, customer_ids: list[int], entities: dict[str, list[int]],
                 terms: list[str]) -> int:
    """Audit events about the erased rows lose their snapshots; any other of the team's events that mentions an
    erased word has it redacted."""
    scrubbed = 0
    for chunk in _chunks(customer_ids):
        scrubbed += _bulk(session, update(AuditEvent).where(col(AuditEvent.team_id) == team_id,
                                                            col(AuditEvent.customer_id).in_(chunk))
                          .values(before=None, after=None))
    for entity, ids in entities.items():
        for chunk in _chunks(ids):
            scrubbed += _bulk(session, update(AuditEvent).where(col(AuditEvent.team_id) == team_id,
                                                                col(AuditEvent.entity) == entity,
                                                                col(AuditEvent.entity_id).in_(chunk))
                              .values(before=None, after=None))
    session.expire_all()
    pattern = _pattern(terms)
    if pattern is not None:
        for event in session.exec(select(AuditEvent).where(
                AuditEvent.team_id == team_id, mentions([AuditEvent.before, AuditEvent.after], terms))).all():
            event.before, event.after = redact(event.before, pattern), redact(event.after, pattern)
            session.add(event)
            scrubbed += 1
        session.flush()
    return scrubbed


def _drop_chat_states(session: Session, team_id: int, terms: list[str], customer_ids: list[int]) -> int:
    """Awaited answers that mention an erased word or point at an erased customer are dropped."""
    dropped = 0
    for row in session.exec(select(ChatState).where(ChatState.team_id == team_id)).all():
        about = any(isinstance(v, int) and v in customer_ids for k, v in row.payload.items() if "customer" in k)
        if about or (terms and _pattern(terms).search(json.dumps(row.payload, ensure_ascii=False))):  # type: ignore[union-attr]
            session.delete(row)
            dropped += 1
    session.flush()
    return dropped


def _drop_inbox(session: Session, team_id: int, terms: list[str],
                sources: list[tuple[str | None, str | None, str | None]], member_id: int) -> int:
    """Finished raw updates of the team's chats that carried an erased note or mention an erased word are
    dropped; the eraser's updates being handled now (the confirm press) keep their row, the words redacted."""
    identities = session.exec(select(ChatIdentity.platform, ChatIdentity.chat_id, ChatIdentity.member_id)
                              .where(ChatIdentity.team_id == team_id)).all()
    keys = {f"{p}:{c}" for p, c, _m in identities}
    own = sorted({f"{p}:{c}" for p, c, m in identities if m == member_id})
    by_chat: dict[str, set[str]] = {}
    for platform, chat, message_id in sources:
        if platform and chat and message_id:
            by_chat.setdefault(f"{platform}:{chat}", set()).add(message_id)
    keys |= set(by_chat)
    dropped = 0
    for chunk in _chunks(sorted(keys)):
        finished = (col(InboxItem.chat_key).in_(chunk), col(InboxItem.status).in_(FINISHED_INBOX))
        if terms:
            dropped += _bulk(session, delete(InboxItem).where(*finished, mentions([InboxItem.payload], terms)))
        for key in chunk:
            wanted = by_chat.get(key)
            if not wanted:
                continue
            rows = session.exec(select(InboxItem).where(InboxItem.chat_key == key,
                                                        col(InboxItem.status).in_(FINISHED_INBOX),
                                                        mentions([InboxItem.payload], sorted(wanted)))).all()
            for row in rows:
                if _message_ids(row.payload) & wanted:
                    session.delete(row)
                    dropped += 1
    pattern = _pattern(terms)
    if pattern is not None and own:  # in flight (this very press, whose message quotes the preview): redacted
        for row in session.exec(select(InboxItem).where(col(InboxItem.chat_key).in_(own),
                                                        InboxItem.status == IN_FLIGHT,
                                                        mentions([InboxItem.payload], terms))).all():
            row.payload = redact(row.payload, pattern)
            session.add(row)
            dropped += 1
    session.flush()
    return dropped


def _message_ids(payload: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key in ("message_id", "ts", "client_msg_id") and isinstance(value, int | str):
                found.add(str(value))
            else:
                found |= _message_ids(value)
    elif isinstance(payload, list):
        for value in payload:
            found |= _message_ids(value)
    return found


def _record(session: Session, actor: Actor, subject: str, subject_id: int, customer_id: int, reason: str,
            terms: list[str], counts: dict[str, int]) -> None:
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="erase", entity="erasure",
                 entity_id=subject_id, customer_id=customer_id,
                 after={"subject": subject, "id": subject_id, "reason": redact(reason, _pattern(terms)),
                        "removed": counts})


def _after(session: Session, team_id: int) -> None:
    session.flush()
    if session.get_bind().dialect.name == "sqlite":
        exists = session.connection().exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'interaction_fts'").first()
        if exists:  # merge every segment: no b-tree keeps a deleted term
            session.connection().exec_driver_sql("INSERT INTO interaction_fts(interaction_fts) VALUES ('optimize')")
    session.expire_all()
    name_index.invalidate(team_id)
    if session.get_bind().dialect.name == "sqlite" and not session.info.get(CHECKPOINT):
        session.info[CHECKPOINT] = True
        event.listen(session, "after_commit", _checkpoint, once=True)
        event.listen(session, "after_soft_rollback", _forget_checkpoint, once=True)


def _forget_checkpoint(session: Session, _previous: Any) -> None:
    session.info.pop(CHECKPOINT, None)


def _checkpoint(session: Session) -> None:
    """After an erasure commits on SQLite: copy the WAL into the database file and empty it, so the zeroed pages
    replace the erased bytes in the file and no WAL frame keeps an older copy of them. It waits at most
    CHECKPOINT_WAIT_MS for other connections' readers and writers (the caller's event loop waits with it);
    what a long reader holds back waits for the next checkpoint, and is logged."""
    if not session.info.pop(CHECKPOINT, False):
        return
    engine = session.get_bind()
    try:
        with engine.connect() as connection:  # type: ignore[union-attr]
            waits = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")  # the event loop waits too
            try:
                busy, frames, copied = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            finally:
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(waits or 0)}")
    except DBAPIError as exc:
        log.warning("erasure: the WAL checkpoint failed (%s); the erased bytes go at the next checkpoint", exc)
        return
    if busy:
        log.warning("erasure: the WAL checkpoint was blocked by a reader (%s of %s frames copied); the erased "
                    "bytes go at the next checkpoint", copied, frames)
