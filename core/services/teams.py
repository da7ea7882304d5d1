"""Onboarding: who may found a team, joining with an invite code, re-joining after a removal.

Any number of teams share a deployment. A Slack workspace's first user founds that workspace's team; on a
platform without workspaces (Telegram, the console) the first person founds the first team, and later strangers
found teams of their own only when `open_signup` is on. Everyone else joins with an invite code of one team.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session, col, select

from core.models import ChatIdentity, Invite, Member, Role, Team, utcnow
from core.services import audit
from core.services.actor import Actor
from core.services.customers import MAX_SILENT_DAYS
from core.services.errors import AlreadyMember, InvalidInput, InvalidInvite, NotAllowed, NotFound
from core.settings import LANGUAGES

INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
INVITE_DAYS = 7
FOUND_LOCK = 0x63726D7465616D  # a PostgreSQL transaction lock: two first /starts found one team, not two


@dataclass(frozen=True, slots=True)
class Newcomer:
    """A chat user as the platform describes them."""

    platform: str
    platform_user_id: str
    chat_id: str
    name: str
    workspace_id: str | None = None
    language: str = "zh-Hant"
    timezone: str = "Asia/Taipei"
    country: str = "TW"


def member_for(session: Session, platform: str, platform_user_id: str) -> Member | None:
    query = (select(Member).join(ChatIdentity, col(ChatIdentity.member_id) == col(Member.id))
             .where(ChatIdentity.platform == platform, ChatIdentity.platform_user_id == platform_user_id))
    return session.exec(query).first()


def identity_of(session: Session, member_id: int, platform: str | None = None) -> ChatIdentity | None:
    query = select(ChatIdentity).where(ChatIdentity.member_id == member_id)
    if platform:
        query = query.where(ChatIdentity.platform == platform)
    return session.exec(query.order_by(col(ChatIdentity.id).desc())).first()


def any_team(session: Session) -> bool:
    return session.exec(select(Team.id).limit(1)).first() is not None


def workspace_team(session: Session, workspace_id: str) -> Team | None:
    """The team a Slack workspace belongs to: the one it founded, else the first one a user of it joined."""
    team = session.exec(select(Team).where(Team.workspace_id == workspace_id).order_by(col(Team.id))).first()
    if team is not None:
        return team
    team_id = session.exec(select(ChatIdentity.team_id).where(ChatIdentity.workspace_id == workspace_id)
                           .order_by(col(ChatIdentity.id))).first()
    return session.get(Team, team_id) if team_id is not None else None


def may_found(session: Session, who: Newcomer, *, open_signup: bool = False) -> bool:
    """Whether `who`, with no invite code, founds a new team: the first user of a Slack workspace, the first
    person on a fresh deployment, or anyone without a workspace when sign-up is open."""
    if who.workspace_id:
        return workspace_team(session, who.workspace_id) is None
    return open_signup or not any_team(session)


def found_team(session: Session, who: Newcomer, team_name: str | None = None, *,
               open_signup: bool = False) -> Member:
    """Create a team with `who` as its owner, when `may_found` allows it (else InvalidInvite)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FOUND_LOCK})
    if not may_found(session, who, open_signup=open_signup):
        raise InvalidInvite("a team exists; joining needs an invite code")
    team = Team(name=team_name or f"{who.name}'s team", timezone=who.timezone, language=who.language,
                country=who.country, workspace_id=who.workspace_id)
    session.add(team)
    session.flush()
    return _enrol(session, team, who, Role.owner.value, actor_id=None)


def create_invite(session: Session, actor: Actor, role: str = Role.sales.value,
                  now: datetime | None = None) -> Invite:
    if not actor.sees_whole_team:
        raise NotAllowed("only owners and managers invite")
    if role not in (Role.sales.value, Role.manager.value):
        raise InvalidInput("role must be sales or manager")
    now = now or utcnow()
    code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(8))
    invite = Invite(team_id=actor.team_id, code=code, role=role, created_by=actor.member_id,
                    created_at=now, expires_at=now + timedelta(days=INVITE_DAYS))
    session.add(invite)
    session.flush()
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="create", entity=invite,
                 after={"role": role, "expires_at": invite.expires_at.isoformat()})
    return invite


def valid_invite(session: Session, code: str, now: datetime) -> Invite | None:
    """The unused, unexpired invite with this code (any case, surrounding spaces ignored)."""
    invite = session.exec(select(Invite).where(Invite.code == code.strip().upper())).first()
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        return None
    return invite


def join(session: Session, code: str, who: Newcomer, now: datetime | None = None) -> Member:
    """Use an invite code: single use, expires after a week, refused from another Slack workspace.

    A chat identity belongs to one member, so one team: an active member is refused (AlreadyMember, with the
    name of their team as `details["team"]`). A removed member comes back: re-activated with the invite's role
    when it is their old team's invite, or their identity moves to a new member of the inviting team (their old
    team keeps the removed member and its history)."""
    now = now or utcnow()
    existing = member_for(session, who.platform, who.platform_user_id)
    if existing is not None and existing.active:
        raise AlreadyMember(team=_name_of(session, existing.team_id))
    invite = valid_invite(session, code, now)
    if invite is None:
        raise InvalidInvite("unknown, used or expired invite code")
    team = session.get(Team, invite.team_id)
    assert team is not None
    if who.workspace_id:
        home = workspace_team(session, who.workspace_id)
        if (team.workspace_id and team.workspace_id != who.workspace_id) or (home is not None and home.id != team.id):
            raise InvalidInvite("invite belongs to another workspace")
    if existing is not None and existing.team_id == team.id:
        member = _reactivate(session, existing, invite)
    elif existing is not None:
        member = _move_identity(session, existing, team, who, invite)
    else:
        member = _enrol(session, team, who, invite.role, actor_id=invite.created_by)
    invite.used_by, invite.used_at = member.id, now
    session.add(invite)
    return member


def _enrol(session: Session, team: Team, who: Newcomer, role: str, actor_id: int | None) -> Member:
    assert team.id is not None
    member = Member(team_id=team.id, name=who.name, role=role, timezone=who.timezone,
                    language=who.language, country=who.country)
    session.add(member)
    session.flush()
    assert member.id is not None
    session.add(ChatIdentity(team_id=team.id, member_id=member.id, platform=who.platform,
                             platform_user_id=who.platform_user_id, chat_id=who.chat_id,
                             workspace_id=who.workspace_id, display_name=who.name))
    audit.record(session, team_id=team.id, actor_id=actor_id or member.id, action="join", entity=member,
                 after=audit.snapshot(member))
    return member


def _name_of(session: Session, team_id: int) -> str:
    team = session.get(Team, team_id)
    return team.name if team is not None else ""


def _reactivate(session: Session, member: Member, invite: Invite) -> Member:
    """A removed member back in their team with the invite's role (audited)."""
    before = {"active": member.active, "role": member.role}
    member.active, member.role = True, invite.role
    for cleared in ("removed_at", "removed_by"):  # set by a removal, when the schema has them
        if hasattr(member, cleared):
            setattr(member, cleared, None)
    session.add(member)
    audit.record(session, team_id=member.team_id, actor_id=invite.created_by, action="rejoin", entity=member,
                 before=before, after={"active": True, "role": invite.role, "invite": invite.id})
    return member


def _move_identity(session: Session, old: Member, team: Team, who: Newcomer, invite: Invite) -> Member:
    """A member removed from one team joins another: a new member there, and the chat identity moves to it."""
    assert team.id is not None
    member = Member(team_id=team.id, name=who.name, role=invite.role, timezone=who.timezone,
                    language=who.language, country=who.country)
    session.add(member)
    session.flush()
    identity = session.exec(select(ChatIdentity).where(ChatIdentity.platform == who.platform,
                                                       ChatIdentity.platform_user_id == who.platform_user_id)).one()
    identity.team_id, identity.member_id, identity.chat_id = team.id, member.id or 0, who.chat_id
    identity.workspace_id, identity.display_name = who.workspace_id, who.name
    session.add(identity)
    audit.record(session, team_id=old.team_id, actor_id=old.id or 0, action="unlink", entity="chatidentity",
                 entity_id=identity.id, before={"member_id": old.id, "platform": who.platform}, after={"moved_to_another_team": True})
    audit.record(session, team_id=team.id, actor_id=invite.created_by, action="join", entity=member,
                 after=audit.snapshot(member))
    return member


def set_language(session: Session, actor: Actor, language: str) -> Member:
    return update_settings(session, actor, language=language)


def team_members(session: Session, team_id: int) -> list[Member]:
    return list(session.exec(select(Member).where(Member.team_id == team_id, col(Member.active).is_(True))))


def ensure_local_owner(session: Session, who: Newcomer) -> Member:
    """The console user: founds the team on first run, or is linked to the first team's first active owner
    (with many teams on the deployment, the terminal belongs to the one founded first)."""
    member = member_for(session, who.platform, who.platform_user_id)
    if member is not None:
        return member
    if not any_team(session):
        return found_team(session, who, team_name="chatcrm")
    owner = session.exec(select(Member).where(Member.role == Role.owner.value, col(Member.active).is_(True))
                         .order_by(col(Member.team_id), col(Member.id))).first()
    assert owner is not None and owner.id is not None
    session.add(ChatIdentity(team_id=owner.team_id, member_id=owner.id, platform=who.platform,
                             platform_user_id=who.platform_user_id, chat_id=who.chat_id,
                             display_name=who.name))
    audit.record(session, team_id=owner.team_id, actor_id=owner.id, action="link", entity="chatidentity",
                 after={"platform": who.platform})
    return owner


MEMBER_SETTINGS = ("language", "timezone", "country", "work_start", "work_end", "work_days", "digest_time")


def _checked_setting(name: str, value: str) -> str:
    from zoneinfo import ZoneInfo

    from core.scheduling.workhours import DIGEST_OFF, is_supported_country, parse_clock

    if name == "language" and value not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}")
    if name == "timezone":
        try:
            ZoneInfo(value)
        except Exception as exc:
            raise InvalidInput("unknown time zone") from exc
    elif name == "country" and value and not is_supported_country(value):
        raise InvalidInput("no holiday calendar for that country")
    elif name in ("work_start", "work_end") and parse_clock(value) is None:
        raise InvalidInput("a time of day looks like 09:00")
    elif name == "digest_time" and value != DIGEST_OFF and parse_clock(value) is None:
        raise InvalidInput("a time of day looks like 08:30")
    elif name == "work_days" and (not value or not set(value) <= set("1234567")):
        raise InvalidInput("working days are ISO weekday numbers")
    return value


def update_settings(session: Session, actor: Actor, **values: str) -> Member:
    """Change the member's own zone, holiday country, working hours and days, or digest time (audited)."""
    member = session.get(Member, actor.member_id)
    assert member is not None
    unknown = set(values) - set(MEMBER_SETTINGS)
    if unknown:
        raise InvalidInput(f"not a member setting: {', '.join(sorted(unknown))}")
    before = {name: getattr(member, name) for name in values}
    for name, value in values.items():
        setattr(member, name, _checked_setting(name, value))
    start, end = member.work_start, member.work_end
    if start >= end:
        raise InvalidInput("working hours must end after they start")
    session.add(member)
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="update", entity=member,
                 before=before, after=dict(values))
    return member


def set_team_silent_days(session: Session, actor: Actor, days: int) -> Team:
    """The team default for silent-customer alerts; owners and managers only."""
    if not actor.sees_whole_team:
        raise NotAllowed("only owners and managers change the team default")
    if not 1 <= days <= MAX_SILENT_DAYS:
        raise InvalidInput(f"between 1 and {MAX_SILENT_DAYS} days")
    team = session.get(Team, actor.team_id)
    assert team is not None
    before = team.silent_days
    team.silent_days = days
    session.add(team)
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="update", entity=team,
                 before={"silent_days": before}, after={"silent_days": days})
    return team


def member_row(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("no such member")
    return member
