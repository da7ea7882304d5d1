"""Belonging to a team: /start (found a team or join with an invite code), invites, language.

Many teams share a deployment (`core.services.teams`): a Slack workspace's first user founds its team; elsewhere
a stranger founds one only on a fresh deployment or with `OPEN_SIGNUP=true`. A chat identity belongs to one team.

Also the console's local owner, who is enrolled without an invite (`chatcrm run` on a terminal, the
local import CLI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.models import Member, Role, Team
from core.services import teams
from core.services.actor import Actor
from core.services.errors import AlreadyMember, InvalidInvite
from core.services.teams import Newcomer
from core.settings import LANGUAGES
from core.uow import UnitOfWork

__all__ = [
    "InviteView",
    "Newcomer",
    "StartOutcome",
    "StartResult",
    "create_invite",
    "invite_role",
    "local_owner",
    "parse_language",
    "person_name",
    "set_language",
    "start",
    "team_name",
]

TEAM_NAMES = {"zh-Hant": "{name}的團隊", "zh-Hans": "{name}的团队", "en": "{name}'s team"}
_CJK = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af·・]+$")
MANAGER_WORDS = frozenset({"manager", "經理", "经理"})
LANGUAGE_ALIASES = {"繁體": "zh-Hant", "繁体": "zh-Hant", "简体": "zh-Hans", "簡體": "zh-Hans", "english": "en"}


class StartOutcome(StrEnum):
    FOUNDED = "founded"  # a team was created, the newcomer owns it
    JOINED = "joined"  # the invite code was used
    REJOINED = "rejoined"  # a removed member used a new invite and is a member again
    ALREADY_MEMBER = "already_member"  # nothing changed
    OTHER_TEAM = "other_team"  # an active member used another team's invite: refused, nothing changed
    NEED_INVITE = "need_invite"  # a team exists and no code was given
    BAD_INVITE = "bad_invite"  # unknown, used, expired or another workspace's code
    GROUP_REFUSED = "group_refused"  # signing up happens in a private chat


@dataclass(frozen=True, slots=True)
class StartResult:
    outcome: StartOutcome
    actor: Actor | None = None  # the member after /start (None when nobody is enrolled)
    team_name: str = ""  # the member's team (OTHER_TEAM: the team they stay in)
    other_team: str = ""  # OTHER_TEAM: the team whose invite was refused

    @property
    def enrolled(self) -> bool:
        """A member was created or re-activated by this /start."""
        return self.outcome in (StartOutcome.FOUNDED, StartOutcome.JOINED, StartOutcome.REJOINED)


@dataclass(frozen=True, slots=True)
class InviteView:
    code: str
    role: str
    expires_at: datetime


def _team_name(uow: UnitOfWork, team_id: int) -> str:
    team = uow.session.get(Team, team_id)
    return team.name if team else ""


def start(uow: UnitOfWork, actor: Actor | None, now: datetime, who: Newcomer, *, code: str = "",
          in_group: bool = False, open_signup: bool = False) -> StartResult:
    """/start [code]: an active member is told their team (or, with another team's valid invite, that one chat
    account belongs to one team); a stranger or a removed member joins with a code; without a code a stranger
    founds a team when `teams.may_found` allows it (`open_signup`: the OPEN_SIGNUP setting)."""
    code = code.strip().split()[0] if code.strip() else ""
    existing = teams.member_for(uow.session, who.platform, who.platform_user_id)
    if existing is not None and existing.active:
        current = Actor.of(existing)
        invite = teams.valid_invite(uow.session, code, now) if code else None
        if invite is not None and invite.team_id != existing.team_id:
            return StartResult(StartOutcome.OTHER_TEAM, current, _team_name(uow, existing.team_id),
                               _team_name(uow, invite.team_id))
        return StartResult(StartOutcome.ALREADY_MEMBER, current, _team_name(uow, existing.team_id))
    if in_group:
        return StartResult(StartOutcome.GROUP_REFUSED)
    who = replace(who, name=person_name(who.name))
    try:
        if code:
            member = teams.join(uow.session, code, who, now=now)
            outcome = StartOutcome.REJOINED if existing is not None else StartOutcome.JOINED
        elif existing is None and teams.may_found(uow.session, who, open_signup=open_signup):
            member = teams.found_team(uow.session, who, team_name(who.name, who.language), open_signup=open_signup)
            outcome = StartOutcome.FOUNDED
        else:
            return StartResult(StartOutcome.NEED_INVITE)
    except InvalidInvite:
        return StartResult(StartOutcome.BAD_INVITE)
    except AlreadyMember:  # enrolled by a concurrent /start since this update was read
        return StartResult(StartOutcome.ALREADY_MEMBER)
    return StartResult(outcome, Actor.of(member), _team_name(uow, member.team_id))


def is_time_zone(name: str) -> bool:
    """An IANA zone name this machine knows (`Asia/Taipei`; not `Mars/Base`)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def person_name(display_name: str) -> str:
    """A name as its own language writes it: Chinese (or Japanese, Korean) names family first with no space
    (Telegram's "志明 林", first then last, becomes "林志明"); any other name as it is."""
    parts = display_name.split()
    if len(parts) == 2 and all(_CJK.match(part) for part in parts):
        return parts[1] + parts[0]
    if len(parts) > 2 and all(_CJK.match(part) for part in parts):
        return "".join(reversed(parts))
    return display_name.strip()


def team_name(founder: str, language: str) -> str:
    """A new team's name, in the founder's language: 林志明的團隊, 林志明的团队, Lin Zhiming's team."""
    template = TEAM_NAMES.get(language, TEAM_NAMES["en"])
    return template.format(name=person_name(founder))


def invite_role(text: str) -> str:
    """`/invite manager` (經理, 经理) invites a manager; anything else a salesperson."""
    return Role.manager.value if text.strip().lower() in MANAGER_WORDS else Role.sales.value


def create_invite(uow: UnitOfWork, actor: Actor, now: datetime, role: str = Role.sales.value) -> InviteView:
    """A single-use code for a new salesperson or manager (owners and managers only; audited)."""
    invite = teams.create_invite(uow.session, actor, role, now=now)
    return InviteView(invite.code, invite.role, invite.expires_at)


def parse_language(text: str) -> str | None:
    """`en`, `zh-hant`, `繁體`, `简体`, `English` → one of our languages; None when it is none of them."""
    wanted = text.strip().lower()
    if not wanted:
        return None
    return next((code for code in LANGUAGES if code.lower() == wanted), None) or LANGUAGE_ALIASES.get(wanted)


def set_language(uow: UnitOfWork, actor: Actor, language: str) -> Actor:
    """Change the member's language (audited); returns the member as they are now."""
    return Actor.of(teams.set_language(uow.session, actor, language))


def local_owner(uow: UnitOfWork, who: Newcomer) -> Actor:
    """The terminal's user: founds the team on the first run, or is linked to the team's first owner."""
    member: Member = teams.ensure_local_owner(uow.session, who)
    return Actor.of(member)
