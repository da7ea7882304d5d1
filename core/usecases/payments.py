"""Payments to collect (issue 15): a note such as `新光設計 尾款 3 萬 還沒收到,週五再催` makes its follow-up a
payment one (kind "payment", the amount and currency), shown as money owed on the customer card; done when
marked received.

`mark_from_note` is called by `core.usecases.notes.log_note` with what it has at hand (no query of its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from core.models import FollowUp, FollowUpStatus
from core.services import audit, followups
from core.services.actor import Actor
from core.services.errors import InvalidInput, NotFound
from core.uow import UnitOfWork
from core.usecases import deals

PAYMENT = "payment"
OPEN = (FollowUpStatus.pending.value, FollowUpStatus.sent.value, FollowUpStatus.snoozed.value)
WORDS = re.compile(
    r"尾款|貨款|货款|款項|款项|訂金|订金|定金|頭款|头款|餘款|余款|收款|催款|請款|请款|應收|应收|帳款|账款|欠款|"
    r"還沒收到|还没收到|未收|沒收到|没收到|還沒付|还没付|沒付|没付|未付|匯款|汇款"
    r"|\b(?:payment|invoice|overdue|deposit|balance due|unpaid|collect|owes?|owed|remittance)\b", re.I)


@dataclass(frozen=True, slots=True)
class Owed:
    follow_up_id: int
    amount: Decimal
    currency: str
    due_at: datetime
    action: str


def payment_amount(text: str, amounts: list[dict[str, Any]]) -> tuple[Decimal, str] | None:
    """The money a note says is still to collect: payment words and an amount with its currency."""
    if not WORDS.search(text or ""):
        return None
    for amount in amounts:
        if isinstance(amount, dict) and amount.get("currency") and amount.get("value"):
            try:
                return deals.parse_amount(amount["value"]), str(amount["currency"]).upper()
            except InvalidInput:
                continue
    return None


def mark_from_note(session: Session, actor: Actor, follow_up: FollowUp | None, text: str,
                   amounts: list[dict[str, Any]]) -> None:
    """Make the note's follow-up a payment to collect when the note speaks of money still owed."""
    if follow_up is None or (found := payment_amount(text, amounts)) is None:
        return
    follow_up.kind, (follow_up.amount, follow_up.currency) = PAYMENT, found
    session.add(follow_up)
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="payment", entity=follow_up,
                 after={"kind": PAYMENT, "amount": str(found[0]), "currency": found[1]})


def owed(uow: UnitOfWork, actor: Actor, customer_id: int) -> tuple[Owed, ...]:
    """A customer's payments still to collect (the actor's own; the team's for managers), soonest first."""
    query = select(FollowUp).where(FollowUp.team_id == actor.team_id, FollowUp.customer_id == customer_id,
                                   FollowUp.kind == PAYMENT, col(FollowUp.status).in_(OPEN))
    if not actor.sees_whole_team:
        query = query.where(FollowUp.member_id == actor.member_id)
    rows = uow.session.exec(query.order_by(col(FollowUp.due_at))).all()
    return tuple(Owed(f.id or 0, f.amount, f.currency, f.due_at, f.action) for f in rows
                 if f.amount is not None and f.currency)


def received(uow: UnitOfWork, actor: Actor, now: datetime, follow_up_id: int) -> tuple[Owed, bool]:
    """The payment came in: its follow-up is done (a second press changes nothing)."""
    row = followups.get_own(uow.session, actor, follow_up_id)
    if row.kind != PAYMENT or row.amount is None or not row.currency:
        raise NotFound("payment")
    _done, changed = followups.complete(uow.session, actor, follow_up_id)
    return Owed(row.id or 0, row.amount, row.currency, row.due_at, row.action), changed
