"""The reply outbox (issue 17): the replies to an inbox update, stored in the update's own transaction.

`store` writes one `ReplyOutbox` row per reply, before the commit; after it the adapter sends each reply and its
`Receipt` (carried in `Reply.extra[RECEIPT]`) marks the row sent — one small UPDATE that also clears the stored
text and bytes. A reply whose retries were spent is marked `lost` (the member is told at their next message,
core.usecases.lost_replies). An update taken again after its effects committed (its worker was killed before or
while sending) finds its rows here (`unsent`) and sends the ones still pending instead of doing anything twice.

Guarantee: at least once. A kill between the platform taking a reply and the mark-sent UPDATE sends that
reply again when the update is taken again; from an inbox `Worker` the marks of an update's replies go with
the UPDATE that finishes its row (one transaction per update, not one per reply), so a kill while an update's
replies are being sent repeats those already sent (one each, per kill). A reply is never silently dropped: it
is sent, or counted as lost and owned up to.

Images and files are stored as bytes (`data`) rather than regenerated: a report or export regenerated later
would not be the answer the committed transaction gave (data changes, an erasure in between), and the bytes are
cleared as soon as the reply is sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.chat import Button, OutFile, Reply
from core.models import ReplyOutbox, utcnow
from core.services import inbox

log = logging.getLogger(__name__)
RECEIPT = "outbox_receipt"  # Reply.extra key: the Receipt an adapter calls once the reply is sent
PENDING, SENT, LOST, TOLD = "pending", "sent", "lost", "told"


def has_content(reply: Reply) -> bool:
    """A reply that becomes a message (a toast-only reply answers a button press and is never sent again)."""
    return bool(reply.text or reply.image is not None or reply.file is not None)


def encode(reply: Reply) -> tuple[dict[str, Any], bytes | None]:
    """A reply as JSON (its image or file apart, as bytes)."""
    out = reply.image if reply.image is not None else reply.file
    extra = {key: value for key, value in reply.extra.items() if key != RECEIPT and _jsonable(value)}
    encoded: dict[str, Any] = {"text": reply.text, "buttons": [[[b.label, b.payload] for b in row] for row in reply.buttons],
                               "edit": reply.edit, "notice": reply.notice, "private": reply.private,
                               "private_unreachable": reply.private_unreachable, "extra": extra}
    if out is not None:
        encoded["out"] = {"kind": "image" if reply.image is not None else "file", "name": out.name,
                          "mime_type": out.mime_type}
    return encoded, out.data if out is not None else None


def decode(encoded: dict[str, Any], data: bytes | None) -> Reply:
    out = encoded.get("out")
    attached = OutFile(out["name"], data or b"", out.get("mime_type") or "application/octet-stream") if out else None
    return Reply(encoded.get("text") or "",
                 buttons=tuple(tuple(Button(label, payload) for label, payload in row) for row in encoded.get("buttons") or ()),
                 image=attached if out and out.get("kind") == "image" else None,
                 file=attached if out and out.get("kind") == "file" else None,
                 edit=bool(encoded.get("edit")), notice=encoded.get("notice"), extra=dict(encoded.get("extra") or {}),
                 private=bool(encoded.get("private")), private_unreachable=encoded.get("private_unreachable"))


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def store(session: Session, platform: str, update_key: str, replies: Sequence[Reply], *, team_id: int | None,
          member_id: int | None, now: datetime) -> dict[int, int]:
    """Write the replies with content in the caller's transaction, in one INSERT (no flush of the session's
    other pending changes: they go at the commit); {index in `replies`: row id}."""
    rows: dict[int, dict[str, Any]] = {}
    for index, reply in enumerate(replies):
        if not has_content(reply):
            continue
        encoded, data = encode(reply)
        rows[index] = {"platform": platform, "update_key": update_key[:250], "position": index, "team_id": team_id,
                       "member_id": member_id, "reply": encoded, "data": data, "status": PENDING,
                       "created_at": now, "sent_at": None}
    if not rows:
        return {}
    ids = session.connection().execute(_INSERT, list(rows.values())).scalars().all()
    return {index: row_id or 0 for index, row_id in zip(rows, ids, strict=True)}


_INSERT = insert(ReplyOutbox).returning(col(ReplyOutbox.id), sort_by_parameter_order=True)  # ids in rows' order


def unsent(session: Session, platform: str, update_key: str) -> list[tuple[int, Reply]] | None:
    """The pending replies of an update, oldest first; None when the update stored no reply at all."""
    rows = session.exec(select(ReplyOutbox).where(ReplyOutbox.platform == platform,
                                                  ReplyOutbox.update_key == update_key[:250])
                        .order_by(col(ReplyOutbox.position))).all()
    if not rows:
        return None
    return [(row.id or 0, decode(row.reply or {}, row.data)) for row in rows if row.status == PENDING and row.reply]


def mark_sent(session: Session, ids: Sequence[int], now: datetime) -> int:
    return _settle(session, ids, SENT, now)


def mark_lost(session: Session, ids: Sequence[int], now: datetime) -> int:
    return _settle(session, ids, LOST, now)


def _settle(session: Session, ids: Sequence[int], status: str, now: datetime) -> int:
    if not ids:
        return 0
    result = session.connection().execute(
        update(ReplyOutbox).where(col(ReplyOutbox.id).in_(list(ids)), col(ReplyOutbox.status) == PENDING)
        .values(status=status, sent_at=now if status == SENT else None, reply=None, data=None))
    return int(getattr(result, "rowcount", 0) or 0)


def record_lost(session: Session, platform: str, update_key: str, *, team_id: int, member_id: int,
                now: datetime) -> bool:
    """Replies lost that were never stored (an update not from the inbox): one `lost` row for the update."""
    key = update_key[:250]
    if session.exec(select(ReplyOutbox.id).where(ReplyOutbox.platform == platform,
                                                 ReplyOutbox.update_key == key)).first() is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ReplyOutbox(platform=platform, update_key=key, position=0, team_id=team_id,
                                    member_id=member_id, status=LOST, created_at=now))
    except IntegrityError:
        return False
    return True


_LOST = select(func.count(func.distinct(ReplyOutbox.update_key))).where(
    col(ReplyOutbox.member_id) == bindparam("member"), col(ReplyOutbox.status) == LOST)  # built once


def take_lost(session: Session, member_id: int, now: datetime) -> int:
    """How many updates' answers this member lost since they were last told; marked told."""
    count: int = session.execute(_LOST, {"member": member_id}).scalar_one()
    if count:
        lost = (col(ReplyOutbox.member_id) == member_id, col(ReplyOutbox.status) == LOST)
        session.connection().execute(update(ReplyOutbox).where(*lost).values(status=TOLD))
    return int(count)


class Receipt:
    """Marks one stored reply sent (or lost) once the adapter knows; each call one short transaction."""

    def __init__(self, engine: Engine, row_id: int) -> None:
        self.engine, self.id = engine, row_id

    def _run(self, status: str) -> None:
        with Session(self.engine) as session:
            _settle(session, [self.id], status, utcnow())
            session.commit()

    async def sent(self) -> None:
        """The platform took the reply. A failure here only means it may be sent again (at least once). While an
        inbox `Worker` processes the reply's row, marked in the transaction that finishes the row (`Claim.sent`):
        a kill before that sends this reply again when the row is taken again, as a kill before this call would."""
        claim = inbox.current()
        if claim is not None and claim.sent is not None:
            claim.sent.append(self.id)
            return
        try:
            await asyncio.to_thread(self._run, SENT)
        except Exception:
            log.warning("could not mark outbox reply %s sent; it may be sent again", self.id, exc_info=True)

    def __repr__(self) -> str:
        return f"Receipt({self.id})"


def receipt_of(reply: Reply) -> Receipt | None:
    receipt = reply.extra.get(RECEIPT)
    return receipt if isinstance(receipt, Receipt) else None


def with_receipt(reply: Reply, receipt: Receipt) -> Reply:
    from dataclasses import replace

    return replace(reply, extra={**reply.extra, RECEIPT: receipt})
