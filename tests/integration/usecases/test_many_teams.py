"""Many teams on one deployment (core.usecases.team on SQLite and PostgreSQL): who founds a team without a code
(the first person; with OPEN_SIGNUP anyone; a Slack workspace's first user), invites bound to their team and
workspace, one team per chat identity, a removed member re-joining, the console owner."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import col, select

from core.models import AuditEvent, ChatIdentity, Invite, Member, Role, Team
from core.uow import unit_of_work
from core.usecases import team
from core.usecases.team import Newcomer, StartOutcome

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


def person(user: str, name: str, workspace: str | None = None, platform: str = "test") -> Newcomer:
    return Newcomer(platform, user, f"dm{user}", name, workspace_id=workspace, language="en")


def start(engine, who: Newcomer, code: str = "", *, open_signup: bool = False) -> team.StartResult:
    with unit_of_work(engine) as uow:
        return team.start(uow, None, NOW, who, code=code, open_signup=open_signup)


def invite(engine, result: team.StartResult, role: str = Role.sales.value) -> str:
    assert result.actor is not None
    with unit_of_work(engine) as uow:
        return team.create_invite(uow, result.actor, NOW, role).code


def teams_and_members(engine) -> list[tuple[str, list[str]]]:
    with unit_of_work(engine) as uow:
        rows = uow.session.exec(select(Team).order_by(col(Team.id))).all()
        return [(row.name, [m.name for m in uow.session.exec(select(Member).where(Member.team_id == row.id)
                                                             .order_by(col(Member.id)))]) for row in rows]


def remove(engine, member_id: int) -> None:
    """What removing a member does to the row (the removal itself is another use case's)."""
    with unit_of_work(engine) as uow:
        member = uow.session.get(Member, member_id)
        member.active = False
        uow.session.add(member)


def test_without_open_signup_only_the_first_start_founds_and_strangers_need_an_invite(engine):
    assert start(engine, person("1", "Amy")).outcome is StartOutcome.FOUNDED
    assert start(engine, person("2", "Bob")).outcome is StartOutcome.NEED_INVITE
    assert teams_and_members(engine) == [("Amy's team", ["Amy"])]


def test_with_open_signup_each_stranger_founds_a_team_and_an_invite_joins_its_own_team(engine):
    amy = start(engine, person("1", "Amy"), open_signup=True)
    ben = start(engine, person("2", "Ben"), open_signup=True)
    assert (amy.outcome, ben.outcome) == (StartOutcome.FOUNDED, StartOutcome.FOUNDED)
    assert amy.actor.team_id != ben.actor.team_id and ben.actor.role == Role.owner.value
    joined = start(engine, person("3", "Cat"), invite(engine, ben), open_signup=True)
    assert joined.outcome is StartOutcome.JOINED and joined.team_name == "Ben's team"
    assert joined.actor.team_id == ben.actor.team_id
    assert teams_and_members(engine) == [("Amy's team", ["Amy"]), ("Ben's team", ["Ben", "Cat"])]


def test_each_slack_workspace_first_user_founds_its_team_and_the_rest_need_its_invite(engine):
    first = start(engine, person("U1", "Amy", "T1", "slack"))
    assert first.outcome is StartOutcome.FOUNDED
    assert start(engine, person("U2", "Bob", "T1", "slack")).outcome is StartOutcome.NEED_INVITE
    other = start(engine, person("U9", "Ben", "T2", "slack"))  # another company's workspace, no OPEN_SIGNUP
    assert other.outcome is StartOutcome.FOUNDED and other.actor.team_id != first.actor.team_id
    assert start(engine, person("5", "Tom")).outcome is StartOutcome.NEED_INVITE  # Telegram stays private
    # an invite of T1's team is refused in T2 and stays unused; in T1 it works
    code = invite(engine, first)
    assert start(engine, person("U8", "Eve", "T2", "slack"), code).outcome is StartOutcome.BAD_INVITE
    assert start(engine, person("U2", "Bob", "T1", "slack"), code).outcome is StartOutcome.JOINED
    with unit_of_work(engine) as uow:
        workspaces = {row.name: row.workspace_id for row in uow.session.exec(select(Team))}
    assert workspaces == {"Amy's team": "T1", "Ben's team": "T2"}
    assert teams_and_members(engine) == [("Amy's team", ["Amy", "Bob"]), ("Ben's team", ["Ben"])]


def test_a_workspace_that_joined_a_telegram_team_by_invite_belongs_to_it(engine):
    owner = start(engine, person("1", "Amy"))  # founded on Telegram: no workspace
    assert start(engine, person("U1", "Bob", "T1", "slack"), invite(engine, owner)).outcome is StartOutcome.JOINED
    assert start(engine, person("U2", "Cat", "T1", "slack")).outcome is StartOutcome.NEED_INVITE  # not a new team
    other = start(engine, person("U9", "Ben", "T2", "slack"))
    assert other.outcome is StartOutcome.FOUNDED
    # T1's people use T1's team: an invite of T2's team is refused there
    assert start(engine, person("U2", "Cat", "T1", "slack"), invite(engine, other)).outcome is StartOutcome.BAD_INVITE


def test_an_active_member_is_told_they_belong_to_one_team_and_the_other_invite_stays_usable(engine):
    amy = start(engine, person("1", "Amy"), open_signup=True)
    ben = start(engine, person("2", "Ben"), open_signup=True)
    code = invite(engine, ben)
    refused = start(engine, person("1", "Amy"), code)
    assert refused.outcome is StartOutcome.OTHER_TEAM and not refused.enrolled
    assert (refused.team_name, refused.other_team) == ("Amy's team", "Ben's team")
    assert refused.actor == amy.actor
    own = start(engine, person("1", "Amy"), invite(engine, amy))
    assert own.outcome is StartOutcome.ALREADY_MEMBER
    assert start(engine, person("3", "Cat"), code).outcome is StartOutcome.JOINED  # not used by the refusal
    assert teams_and_members(engine) == [("Amy's team", ["Amy"]), ("Ben's team", ["Ben", "Cat"])]


def test_a_removed_member_rejoins_their_team_with_the_new_invites_role_audited(engine):
    amy = start(engine, person("1", "Amy"))
    bob = start(engine, person("2", "Bob"), invite(engine, amy))
    remove(engine, bob.actor.member_id)
    assert start(engine, person("2", "Bob")).outcome is StartOutcome.NEED_INVITE
    back = start(engine, person("2", "Bob"), invite(engine, amy, Role.manager.value))
    assert back.outcome is StartOutcome.REJOINED and back.enrolled
    assert back.actor.member_id == bob.actor.member_id and back.actor.role == Role.manager.value
    with unit_of_work(engine) as uow:
        member = uow.session.get(Member, bob.actor.member_id)
        assert member.active and member.role == Role.manager.value
        [event] = uow.session.exec(select(AuditEvent).where(AuditEvent.action == "rejoin")).all()
        assert (event.entity, event.entity_id, event.actor_id) == ("member", member.id, amy.actor.member_id)
        assert event.before == {"active": False, "role": "sales"} and event.after["role"] == "manager"
        assert uow.session.exec(select(Invite).where(Invite.used_by == member.id)).all()[-1].used_at is not None
    assert teams_and_members(engine) == [("Amy's team", ["Amy", "Bob"])]


def test_a_member_removed_from_one_team_may_join_another_and_the_old_team_keeps_its_history(engine):
    amy = start(engine, person("1", "Amy"), open_signup=True)
    bob = start(engine, person("2", "Bob"), invite(engine, amy))
    ben = start(engine, person("3", "Ben"), open_signup=True)
    remove(engine, bob.actor.member_id)
    moved = start(engine, person("2", "Bob"), invite(engine, ben))
    assert moved.outcome is StartOutcome.REJOINED and moved.actor.team_id == ben.actor.team_id
    assert moved.actor.member_id != bob.actor.member_id
    with unit_of_work(engine) as uow:
        identity = uow.session.exec(select(ChatIdentity).where(ChatIdentity.platform_user_id == "2")).one()
        assert (identity.team_id, identity.member_id) == (ben.actor.team_id, moved.actor.member_id)
        assert not uow.session.get(Member, bob.actor.member_id).active
        unlinked = uow.session.exec(select(AuditEvent).where(AuditEvent.action == "unlink")).one()
        assert unlinked.team_id == amy.actor.team_id
    assert teams_and_members(engine) == [("Amy's team", ["Amy", "Bob"]), ("Ben's team", ["Ben", "Bob"])]


def test_the_console_owner_still_belongs_to_the_first_team(engine):
    amy = start(engine, person("1", "Amy"), open_signup=True)
    start(engine, person("2", "Ben"), open_signup=True)
    with unit_of_work(engine) as uow:
        local = team.local_owner(uow, Newcomer("console", "local", "local", "Me"))
    assert local.member_id == amy.actor.member_id
