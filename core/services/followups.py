"""Follow-ups: schedule, list, complete, snooze, reschedule, cancel. Every change is idempotent."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from core.models import Customer, FollowUp, FollowUpStatus, utcnow
from core.services import audit, handover, rows
from core.services.actor import Actor
from core.services.errors import InvalidInput, NotFound

OPEN = (FollowUpStatus.pending.value, FollowUpStatus.sent.value, FollowUpStatus.snoozed.value)
MAX_ACTION = 300


def schedule(session: Session, actor: Actor, *, due_at: datetime, action: str, customer_id: int | None,
             source_interaction_id: int | None = None, explicit_time: bool = False) -> FollowUp:
    if due_at.tzinfo is None:
        raise InvalidInput("due time needs a time zone")
    now = utcnow()
    follow_up = FollowUp(team_id=actor.team_id, member_id=actor.member_id, customer_id=customer_id,
                         due_at=due_at, action=action.strip()[:MAX_ACTION], explicit_time=explicit_time,
                         source_interaction_id=source_interaction_id, created_at=now, updated_at=now)
    rows.insert_loaded(session, follow_up)  # its id in one round trip; the audit rows pending wait for the next flush
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="create", entity=follow_up,
                 after=audit.snapshot(follow_up))
    return follow_up


def get_own(session: Session, actor: Actor, follow_up_id: int) -> FollowUp:
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None or follow_up.team_id != actor.team_id:
        raise NotFound("no such follow-up")
    if follow_up.member_id != actor.member_id and not actor.sees_whole_team and not handover.covers_for(
            session, actor.member_id, follow_up.member_id):  # a cover acts on the nudges they get
        raise NotFound("no such follow-up")
    return follow_up


def for_interaction(session: Session, interaction_id: int) -> FollowUp | None:
    return session.exec(select(FollowUp).where(FollowUp.source_interaction_id == interaction_id,
                                               col(FollowUp.status).in_(OPEN))
                        .order_by(col(FollowUp.id).desc())).first()


def open_for(session: Session, actor: Actor, *, member_id: int | None = None,
             limit: int = 50) -> list[tuple[FollowUp, Customer | None]]:
    """The actor's open follow-ups (or another member's, for managers), soonest first."""
    member_id = member_id if (member_id and actor.sees_whole_team) else actor.member_id
    query = (select(FollowUp, Customer).join(Customer, col(Customer.id) == col(FollowUp.customer_id), isouter=True)
             .where(FollowUp.team_id == actor.team_id, FollowUp.member_id == member_id,
                    col(FollowUp.status).in_(OPEN))
             .order_by(col(FollowUp.due_at)).limit(limit))
    return [(f, c) for f, c in session.exec(query)]


def _change(session: Session, actor: Actor, follow_up: FollowUp, action: str, **values: object) -> FollowUp:
    before = audit.snapshot(follow_up)
    for name, value in values.items():
        setattr(follow_up, name, value)
    follow_up.updated_at = utcnow()
    session.add(follow_up)
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action=action, entity=follow_up,
                 before=before, after=audit.snapshot(follow_up))
    return follow_up


def complete(session: Session, actor: Actor, follow_up_id: int) -> tuple[FollowUp, bool]:
    """Mark done; False when it was already done or cancelled (a second press does nothing)."""
    follow_up = get_own(session, actor, follow_up_id)
    if follow_up.status not in OPEN:
        return follow_up, False
    return _change(session, actor, follow_up, "done", status=FollowUpStatus.done.value, done_at=utcnow()), True


def cancel(session: Session, actor: Actor, follow_up_id: int) -> tuple[FollowUp, bool]:
    follow_up = get_own(session, actor, follow_up_id)
    if follow_up.status not in OPEN:
        return follow_up, False
    return _change(session, actor, follow_up, "cancel", status=FollowUpStatus.cancelled.value), True


def snooze(session: Session, actor: Actor, follow_up_id: int, until: datetime, *,
           explicit_time: bool = False, action: str = "snooze") -> tuple[FollowUp, bool]:
    """Move an open follow-up to `until`; False when it is closed or already due then (a repeat press)."""
    follow_up = get_own(session, actor, follow_up_id)
    if follow_up.status not in OPEN or follow_up.due_at == until:
        return follow_up, False
    return _change(session, actor, follow_up, action, due_at=until, status=FollowUpStatus.snoozed.value,
                   explicit_time=explicit_time, sent_at=None, attempts=0, next_attempt_at=None,
                   last_error=None, last_failure=None, claimed_by=None, claimed_until=None, sent_late=False,
                   message_id=None, message_ref=None), True


def reschedule(session: Session, actor: Actor, follow_up_id: int, due_at: datetime,
               explicit_time: bool = True) -> tuple[FollowUp, bool]:
    return snooze(session, actor, follow_up_id, due_at, explicit_time=explicit_time, action="reschedule")
