"""The janitor: what is kept only for a while is removed once it is old enough (issue 16, part 6).

- **Processed-update keys** (`processedupdate`) and **done inbox rows** (`inboxitem` with status `done`) older
  than `processed_update_days` (30 by default: long past any platform redelivery — Telegram keeps an update
  for 24 h, Slack retries within minutes). Inbox rows still `pending`, `processing` or `parked` are never
  touched.
- **Settled replies** (`replyoutbox` rows `sent` or `told`) created before the same cut-off: a reply still
  `pending` (its update not finished) or `lost` (the member not told yet) is never touched.
- **Stored audio** (`audioclip`) of interactions created more than `audio_keep_days` ago (0: kept forever). The
  interaction keeps its transcript and text; `details["audio_removed_at"]` says when its recording went.
- **Abandoned import spool files** (`import_spool_dir`): an export parked while the member chose the day/month
  order or the chat, untouched for a day and named by no awaited answer (`chatstate`) that is still open. A
  button pressed later answers "that file is gone, send it again" (`imports.expired`).

Rows go in batches of `batch` (5,000) per transaction, found by walking the primary key from the oldest row
(ids grow with time, so no index on the timestamps is needed and a run over nothing to do costs one short
query per table); a big backlog never holds locks for long. Several processes may run it at once: a row
another run deleted first is simply not counted twice, a file another run unlinked first is skipped.

Keys, inbox rows and spool files are bookkeeping and copies, not CRM data: they are only logged. A removed
recording changes a note (its audio is gone, the mark is set), so each such note gets an `audio_removed` audit
event by the bot (no actor), which the customer's history shows. Each run logs one INFO line per kind with the
count and the size removed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from core.models import AudioClip, ChatState, InboxItem, Interaction, ProcessedUpdate, ReplyOutbox
from core.services import audit
from core.uow import Database

log = logging.getLogger(__name__)

BATCH = 5_000
SPOOL_IDLE = timedelta(days=1)
DONE = "done"  # core.services.inbox.DONE
SETTLED = ("sent", "told")  # core.services.outbox: a reply that went out, or whose loss the member was told of
_SPOOLED = re.compile(r"^\d+-(?P<token>[0-9A-Za-z]+)\.(bin|json)$")  # chat_import_spool's names

PROCESSED_KEYS, INBOX_ROWS, AUDIO, SPOOL_FILES = "processed_update_keys", "inbox_rows", "audio", "spool_files"
REPLIES = "sent_replies"
KINDS = (PROCESSED_KEYS, INBOX_ROWS, REPLIES, AUDIO, SPOOL_FILES)


@dataclass(frozen=True, slots=True)
class Retention:
    """How long things are kept. `audio_days` 0 keeps recordings forever; no `spool_dir`, no spool to clean."""

    processed_update_days: float = 30.0
    audio_days: float = 180.0
    spool_dir: Path | None = None
    batch: int = BATCH

    @classmethod
    def of(cls, settings: Any) -> Retention:
        """From `core.settings.Settings` (PROCESSED_UPDATE_DAYS, AUDIO_KEEP_DAYS, IMPORT_SPOOL_DIR)."""
        return cls(settings.processed_update_days, settings.audio_keep_days, Path(settings.import_spool_dir))


@dataclass(frozen=True, slots=True)
class Removed:
    """What one kind lost in a run: how many rows or files, and their size in bytes when measured."""

    kind: str
    count: int
    bytes: int | None = None


@dataclass(frozen=True, slots=True)
class JanitorRun:
    removed: tuple[Removed, ...]

    @property
    def total(self) -> int:
        return sum(r.count for r in self.removed)

    def of(self, kind: str) -> Removed:
        return next((r for r in self.removed if r.kind == kind), Removed(kind, 0))


def run(database: Database, now: datetime, retention: Retention) -> JanitorRun:
    """Remove everything that is due (see the module); logs one INFO line per kind. Blocking: call off the loop."""
    keys_before = now - timedelta(days=retention.processed_update_days)
    removed = (
        processed_keys(database, keys_before, retention.batch),
        done_inbox_rows(database, keys_before, retention.batch),
        settled_replies(database, keys_before, retention.batch),
        old_audio(database, now, now - timedelta(days=retention.audio_days), retention.batch)
        if retention.audio_days > 0 else Removed(AUDIO, 0, 0),
        abandoned_spool_files(database, now, retention.spool_dir) if retention.spool_dir else Removed(SPOOL_FILES, 0, 0),
    )
    days = {PROCESSED_KEYS: retention.processed_update_days, INBOX_ROWS: retention.processed_update_days,
            REPLIES: retention.processed_update_days,
            AUDIO: retention.audio_days, SPOOL_FILES: SPOOL_IDLE.days}
    for item in removed:
        size = "" if item.bytes is None else f", {item.bytes} bytes"
        kept = "kept forever" if not days[item.kind] else f"older than {days[item.kind]:g} days"
        log.info("janitor: removed %d %s (%s%s)", item.count, item.kind.replace("_", " "), kept, size)
    return JanitorRun(removed)


def processed_keys(database: Database, before: datetime, batch: int = BATCH) -> Removed:
    """Delete the update keys recorded before `before`."""
    def one(session: Session, after: int) -> tuple[int, int | None, bool]:
        rows = session.exec(select(ProcessedUpdate.id, ProcessedUpdate.at).where(col(ProcessedUpdate.id) > after)
                            .order_by(col(ProcessedUpdate.id)).limit(batch)).all()
        old = [row_id for row_id, at in rows if at < before]
        gone = _deleted(session, delete(ProcessedUpdate).where(col(ProcessedUpdate.id).in_(old))) if old else 0
        return gone, _last(rows, batch), _more(rows, batch, before)
    return Removed(PROCESSED_KEYS, sum(n for n, _ in _batches(database, one)))


def done_inbox_rows(database: Database, before: datetime, batch: int = BATCH) -> Removed:
    """Delete the inbox rows that were done and received before `before` (never an open or parked row)."""
    def one(session: Session, after: int) -> tuple[int, int | None, bool]:
        rows = session.exec(select(InboxItem.id, InboxItem.received_at, InboxItem.status)
                            .where(col(InboxItem.id) > after).order_by(col(InboxItem.id)).limit(batch)).all()
        old = [row_id for row_id, at, status in rows if at < before and status == DONE]
        # the status again in the DELETE: a row is never taken from under a worker
        gone = _deleted(session, delete(InboxItem).where(col(InboxItem.id).in_(old), col(InboxItem.status) == DONE)
                        ) if old else 0
        return gone, _last(rows, batch), _more([(r[0], r[1]) for r in rows], batch, before)
    return Removed(INBOX_ROWS, sum(n for n, _ in _batches(database, one)))


def old_audio(database: Database, now: datetime, before: datetime, batch: int = BATCH) -> Removed:
    """Delete the recordings of interactions created before `before`; each interaction is marked
    `details["audio_removed_at"]`, keeps its transcript, and gets an `audio_removed` audit event (by the bot:
    no actor) in the same transaction."""
    stamp = now.isoformat()
    sizes: list[int] = []

    def one(session: Session, after: int) -> tuple[int, int | None, bool]:
        rows = session.exec(select(AudioClip.id, Interaction.created_at, AudioClip.interaction_id,
                                   func.length(AudioClip.data))
                            .join(Interaction, col(Interaction.id) == col(AudioClip.interaction_id))
                            .where(col(AudioClip.id) > after).order_by(col(AudioClip.id)).limit(batch)).all()
        old = [(clip_id, interaction_id, int(size or 0)) for clip_id, created, interaction_id, size in rows
               if created < before]
        gone: set[int] = set()
        if old:  # what this run deleted (not a concurrent run): the clips RETURNING says
            gone = set(session.execute(delete(AudioClip).where(col(AudioClip.id).in_([clip for clip, _, _ in old]))
                                       .returning(col(AudioClip.id))).scalars())
        freed: dict[int, int] = {}
        for clip_id, interaction_id, size in old:
            if clip_id in gone:
                freed[interaction_id] = freed.get(interaction_id, 0) + size
        if freed:
            notes = session.exec(select(Interaction.id, Interaction.team_id, Interaction.customer_id,
                                        Interaction.details).where(col(Interaction.id).in_(sorted(freed)))).all()
            session.execute(update(Interaction), [{"id": row_id, "details": {**(details or {}),
                                                                             "audio_removed_at": stamp}}
                                                  for row_id, _, _, details in notes])  # bulk UPDATE by primary key
            for row_id, team_id, customer_id, _ in notes:
                audit.record(session, team_id=team_id, actor_id=None, action="audio_removed", entity="interaction",
                             entity_id=row_id, customer_id=customer_id,
                             after={"kind": "voice", "audio_removed_at": stamp, "bytes": freed[row_id or 0]})
            sizes.extend(freed.values())
        return len(gone), _last(rows, batch), _more([(r[0], r[1]) for r in rows], batch, before)
    count = sum(n for n, _ in _batches(database, one))
    return Removed(AUDIO, count, sum(sizes))


def abandoned_spool_files(database: Database, now: datetime, spool_dir: Path) -> Removed:
    """Remove parked exports untouched for a day that no open awaited answer names (both files of an entry)."""
    if not spool_dir.is_dir():
        return Removed(SPOOL_FILES, 0, 0)
    entries: dict[str, list[Path]] = {}
    for path in spool_dir.iterdir():
        if (match := _SPOOLED.match(path.name)) is not None and path.is_file():
            entries.setdefault(match["token"], []).append(path)
    if not entries:
        return Removed(SPOOL_FILES, 0, 0)
    awaited = _awaited_strings(database, now)
    idle_since = (now - SPOOL_IDLE).timestamp()
    count = size = 0
    for token, paths in entries.items():
        if token in awaited:
            continue
        stats = [(path, stat) for path in paths if (stat := _stat(path)) is not None]
        if not stats or max(stat.st_mtime for _, stat in stats) > idle_since:
            continue
        for path, stat in stats:
            try:
                path.unlink()
            except FileNotFoundError:  # another process's janitor got there first
                continue
            count, size = count + 1, size + stat.st_size
    return Removed(SPOOL_FILES, count, size)


def _awaited_strings(database: Database, now: datetime) -> set[str]:
    """Every string (and alphanumeric part of one) that an open awaited answer holds: a spool token it names."""
    found: set[str] = set()
    with database.unit_of_work() as uow:
        for payload in uow.session.exec(select(ChatState.payload).where(col(ChatState.expires_at) > now)).all():
            found.update(_strings(payload))
    return found


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
        yield from (part for part in re.split(r"[^0-9A-Za-z]+", value) if part)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def settled_replies(database: Database, before: datetime, batch: int = BATCH) -> Removed:
    """Delete the outbox rows of replies sent (or told lost) and created before `before`."""
    def one(session: Session, after: int) -> tuple[int, int | None, bool]:
        rows = session.exec(select(ReplyOutbox.id, ReplyOutbox.created_at, ReplyOutbox.status)
                            .where(col(ReplyOutbox.id) > after).order_by(col(ReplyOutbox.id)).limit(batch)).all()
        old = [row_id for row_id, at, status in rows if at < before and status in SETTLED]
        gone = _deleted(session, delete(ReplyOutbox).where(col(ReplyOutbox.id).in_(old),
                                                           col(ReplyOutbox.status).in_(SETTLED))) if old else 0
        return gone, _last(rows, batch), _more([(r[0], r[1]) for r in rows], batch, before)
    return Removed(REPLIES, sum(n for n, _ in _batches(database, one)))


def _deleted(session: Session, statement: Any) -> int:
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def _stat(path: Path) -> Any:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


Batch = Callable[[Session, int], tuple[int, int | None, bool]]


def _batches(database: Database, one: Batch) -> Iterator[tuple[int, int]]:
    """Run `one(session, after_id)` in a transaction per batch until it says there is nothing older left."""
    after = 0
    while True:
        with database.unit_of_work() as uow:
            removed, last, more = one(uow.session, after)
        yield removed, after
        if last is None or not more:
            return
        after = last


def _last(rows: Any, batch: int) -> int | None:
    """The id to continue after, or None when this was the last (short) batch."""
    return rows[-1][0] if len(rows) == batch else None


def _more(rows: Any, batch: int, before: datetime) -> bool:
    """Whether the next batch may hold old rows too: this one was full and its newest row is still old."""
    return len(rows) == batch and rows[-1][1] < before
