"""The team in chat: the roster (/team), promoting, demoting and removing members.

Rules (every change re-checked here, whatever a button says):
- owners change anyone, and may make a manager an owner; the team always keeps one active owner (the last
  owner cannot be demoted or removed);
- managers promote salespeople to manager and remove salespeople, nothing else;
- salespeople change nobody;
- a member of another team, or an unknown id, is `GONE` (nothing is said about them).

A change is asked as its end state from a known start (`apply(member, expected, to)`): the same press twice
is `ALREADY`, a press drawn before someone else changed that member is `STALE`; both change nothing.
Removing a member sets `active = False` (their chat identities are refused from their next message on,
`core.usecases.members`); their customers stay theirs until a handover, and the team's owners and managers are
told. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import col, select

from core.events import Tell
from core.models import Invite, Member, Role
from core.services import audit, membership
from core.services.actor import Actor
from core.uow import UnitOfWork

REMOVED = "removed"  # the end state of a removal, next to the roles
_UP = {Role.sales.value: Role.manager.value, Role.manager.value: Role.owner.value}
_DOWN = {Role.owner.value: Role.manager.value, Role.manager.value: Role.sales.value}


class Change(StrEnum):
    PROMOTE = "up"
    DEMOTE = "down"
    REMOVE = "rm"


class Status(StrEnum):
    OK = "ok"  # proposed: may be confirmed
    DONE = "done"  # applied now
    ALREADY = "already"  # the member is already in that state: nothing changed
    STALE = "stale"  # the member changed since the button was drawn: nothing changed
    NOT_ALLOWED = "not_allowed"
    LAST_OWNER = "last_owner"  # the team's only owner cannot be demoted or removed
    GONE = "gone"  # no such member on the actor's team


@dataclass(frozen=True, slots=True)
class MemberRow:
    id: int
    name: str
    role: str
    customers: int
    open_follow_ups: int
    last_active_at: datetime | None
    active: bool = True
    removed_at: datetime | None = None
    you: bool = False
    changes: tuple[Change, ...] = ()  # what the viewer may do to this member


@dataclass(frozen=True, slots=True)
class Roster:
    team_name: str
    members: tuple[MemberRow, ...]
    waiting: tuple[MemberRow, ...]  # removed members who still own customers (waiting for a handover)
    viewer_changes_roles: bool  # an owner or a manager


@dataclass(frozen=True, slots=True)
class ChangeResult:
    status: Status
    member: MemberRow | None = None
    before: str = ""  # the member's role before (or now, when nothing changed)
    after: str = ""  # the role asked for, or REMOVED


def roster(uow: UnitOfWork, actor: Actor) -> Roster:
    """Every active member of the actor's team with what they hold, and removed ones still holding customers."""
    session = uow.session
    members = membership.members_of(session, actor.team_id)
    held = membership.holdings(session, actor.team_id)
    owners = sum(1 for m in members if m.active and m.role == Role.owner.value)
    rows = [_row(m, held.get(m.id or 0, membership.Holding()), actor, owners) for m in members]
    team = membership.team_of(session, actor.team_id)
    return Roster(team.name if team else "", tuple(r for r in rows if r.active),
                  tuple(r for r in rows if not r.active and r.customers > 0), actor.sees_whole_team)


def propose(uow: UnitOfWork, actor: Actor, member_id: int, change: Change) -> ChangeResult:
    """Step one: may the actor make this change to this member, and what would it be? Changes nothing."""
    member = _member(uow, actor, member_id)
    if member is None:
        return ChangeResult(Status.GONE)
    row = _row(member, _holding(uow, member), actor, membership.owners_left(uow.session, actor.team_id))
    if not member.active:
        return ChangeResult(Status.ALREADY if change is Change.REMOVE else Status.GONE, row, REMOVED, REMOVED)
    to = _target(member.role, change)
    if to is None:
        return ChangeResult(Status.ALREADY, row, member.role, member.role)
    return ChangeResult(_check(uow, actor, member, to), row, member.role, to)


def apply(uow: UnitOfWork, actor: Actor, now: datetime, member_id: int, expected: str, to: str) -> ChangeResult:
    """Step two: move the member from role `expected` to role `to` (or REMOVED). Idempotent; audited."""
    member = _member(uow, actor, member_id)
    if member is None or to not in (*_ROLES, REMOVED) or expected not in _ROLES:
        return ChangeResult(Status.GONE)
    session = uow.session
    current = member.role if member.active else REMOVED
    row = _row(member, _holding(uow, member), actor, membership.owners_left(session, actor.team_id))
    if current == to:
        return ChangeResult(Status.ALREADY, row, current, to)
    if current != expected:
        return ChangeResult(Status.STALE, row, current, to)
    status = _check(uow, actor, member, to)
    if status is not Status.OK:
        return ChangeResult(status, row, current, to)
    if to == REMOVED:
        _remove(uow, actor, now, member)
    else:
        before = member.role
        member.role = to
        session.add(member)
        audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="role", entity=member,
                     before={"role": before}, after={"role": to})
        if member.id != actor.member_id:
            uow.publish(Tell.of(member.id or 0, f"team.told_role_{to}", by=actor.name))
    session.flush()
    changed = _row(member, _holding(uow, member), actor, membership.owners_left(session, actor.team_id))
    return ChangeResult(Status.DONE, changed, expected, to)


_ROLES = (Role.owner.value, Role.manager.value, Role.sales.value)


def _remove(uow: UnitOfWork, actor: Actor, now: datetime, member: Member) -> None:
    session = uow.session
    before = {"active": True, "role": member.role}
    membership.remove(session, member, by=actor.member_id, now=now)
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="remove", entity=member,
                 before=before, after={"active": False, "removed_at": now.isoformat(), "removed_by": actor.member_id})
    unused = session.exec(select(Invite).where(Invite.created_by == member.id, col(Invite.used_at).is_(None),
                                               Invite.expires_at > now))
    for invite in unused:  # codes they handed out stop working with them
        invite.expires_at = now
        session.add(invite)
        audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="expire", entity=invite,
                     after={"expires_at": now.isoformat(), "why": "creator removed"})
    customers = membership.customers_owned(session, member.id or 0)
    key = "team.told_removed_with_customers" if customers else "team.told_removed"
    for decider in membership.deciders(session, actor.team_id, besides=actor.member_id):
        uow.publish(Tell.of(decider.id or 0, key, member=member.name, by=actor.name, n=customers))


def _member(uow: UnitOfWork, actor: Actor, member_id: int) -> Member | None:
    member = uow.session.get(Member, member_id) if member_id > 0 else None
    return member if member is not None and member.team_id == actor.team_id else None


def _holding(uow: UnitOfWork, member: Member) -> membership.Holding:
    return membership.holdings(uow.session, member.team_id).get(member.id or 0, membership.Holding())


def _target(role: str, change: Change) -> str | None:
    if change is Change.REMOVE:
        return REMOVED
    return (_UP if change is Change.PROMOTE else _DOWN).get(role)


def _check(uow: UnitOfWork, actor: Actor, member: Member, to: str) -> Status:
    """May `actor` move the active `member` to `to`?"""
    if not _may(actor, member.role, to):
        return Status.NOT_ALLOWED
    if member.role == Role.owner.value and to != Role.owner.value \
            and membership.owners_left(uow.session, actor.team_id) <= 1:
        return Status.LAST_OWNER
    return Status.OK


def _may(actor: Actor, role: str, to: str) -> bool:
    if actor.role == Role.owner.value:
        return True
    if actor.role == Role.manager.value:
        return role == Role.sales.value and to in (Role.manager.value, REMOVED)
    return False


def _row(member: Member, held: membership.Holding, actor: Actor, owners: int) -> MemberRow:
    changes: tuple[Change, ...] = ()
    if member.active and member.id != actor.member_id:
        changes = tuple(change for change in Change
                        if (to := _target(member.role, change)) is not None and _may(actor, member.role, to)
                        and not (member.role == Role.owner.value and to != Role.owner.value and owners <= 1))
    return MemberRow(member.id or 0, member.name, member.role, held.customers, held.open_follow_ups,
                     held.last_active_at, member.active, member.removed_at, member.id == actor.member_id, changes)
