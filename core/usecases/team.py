"""Belonging to the team: /start (found the first team or join with an invite code), invites, language.

Also the console's local owner, who is enrolled without an invite (`chatcrm run` on a terminal, the
local import CLI).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.models import Member, Role, Team
from core.services import teams
from core.services.actor import Actor
from core.services.errors import AlreadyMember, InvalidInvite
from core.services.teams import Newcomer
from core.settings import LANGUAGES
from core.uow import UnitOfWork

__all__ = ["InviteView", "Newcomer", "StartOutcome", "StartResult", "create_invite", "invite_role",
           "local_owner", "parse_language", "set_language", "start"]

MANAGER_WORDS = frozenset({"manager", "經理", "经理"})
LANGUAGE_ALIASES = {"繁體": "zh-Hant", "繁体": "zh-Hant", "简体": "zh-Hans", "簡體": "zh-Hans", "english": "en"}


class StartOutcome(StrEnum):
    FOUNDED = "founded"  # the first team was created, the newcomer owns it
    JOINED = "joined"  # the invite code was used
    ALREADY_MEMBER = "already_member"  # nothing changed
    NEED_INVITE = "need_invite"  # a team exists and no code was given
    BAD_INVITE = "bad_invite"  # unknown, used, expired or another workspace's code
    GROUP_REFUSED = "group_refused"  # signing up happens in a private chat


@dataclass(frozen=True, slots=True)
class StartResult:
    outcome: StartOutcome
    actor: Actor | None = None  # the member after /start (None when nobody is enrolled)
    team_name: str = ""

    @property
    def enrolled(self) -> bool:
        """A new member was created by this /start."""
        return self.outcome in (StartOutcome.FOUNDED, StartOutcome.JOINED)


@dataclass(frozen=True, slots=True)
class InviteView:
    code: str
    role: str
    expires_at: datetime


def _team_name(uow: UnitOfWork, team_id: int) -> str:
    team = uow.session.get(Team, team_id)
    return team.name if team else ""


def start(uow: UnitOfWork, actor: Actor | None, now: datetime, who: Newcomer, *, code: str = "",
          in_group: bool = False) -> StartResult:
    """/start [code]: an existing member is told their team; a stranger founds the first team or joins one."""
    if actor is not None:
        return StartResult(StartOutcome.ALREADY_MEMBER, actor, _team_name(uow, actor.team_id))
    if in_group:
        return StartResult(StartOutcome.GROUP_REFUSED)
    code = code.strip().split()[0] if code.strip() else ""
    try:
        if code:
            member, outcome = teams.join(uow.session, code, who, now=now), StartOutcome.JOINED
        elif not teams.any_team(uow.session):
            member, outcome = teams.found_team(uow.session, who), StartOutcome.FOUNDED
        else:
            return StartResult(StartOutcome.NEED_INVITE)
    except InvalidInvite:
        return StartResult(StartOutcome.BAD_INVITE)
    except AlreadyMember:  # enrolled by a concurrent /start since this update was read
        return StartResult(StartOutcome.ALREADY_MEMBER)
    return StartResult(outcome, Actor.of(member), _team_name(uow, member.team_id))


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
