"""core.usecases.team_members on SQLite and PostgreSQL: the rights matrix (owner / manager / sales × promote /
demote / remove, the last owner), idempotent and stale changes, what a removal does and does not touch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from core.events import Tell
from core.models import AuditEvent, ChatIdentity, Customer, FollowUp, Interaction, Invite, Member, Team
from core.services.actor import Actor
from core.uow import unit_of_work
from core.usecases import members, team_members
from core.usecases.team_members import REMOVED, Change, Status

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
PEOPLE = {"O1": "owner", "M1": "manager", "M2": "manager", "S1": "sales", "S2": "sales"}


@pytest.fixture
def team(engine) -> dict[str, int]:
    """A team of one owner, two managers and two salespeople: name → member id."""
    with unit_of_work(engine) as uow:
        row = Team(name="Acme team")
        uow.session.add(row)
        uow.session.flush()
        ids = {}
        for name, role in PEOPLE.items():
            member = Member(team_id=row.id, name=name, role=role)
            uow.session.add(member)
            uow.session.flush()
            ids[name] = member.id
        ids["team"] = row.id
    return ids


def actor(engine, member_id: int) -> Actor:
    with unit_of_work(engine) as uow:
        return Actor.of(uow.session.get(Member, member_id))


def role_of(engine, member_id: int) -> str:
    with unit_of_work(engine) as uow:
        member = uow.session.get(Member, member_id)
        return member.role if member.active else REMOVED


def audits(engine) -> int:
    with unit_of_work(engine) as uow:
        return int(uow.session.exec(select(func.count()).select_from(AuditEvent)).one())


# who acts, on whom, which change → the status (OK means allowed; the change is then applied and checked)
MATRIX = [
    ("O1", "S1", Change.PROMOTE, Status.OK, "manager"),
    ("O1", "M1", Change.PROMOTE, Status.OK, "owner"),
    ("O1", "M1", Change.DEMOTE, Status.OK, "sales"),
    ("O1", "S1", Change.REMOVE, Status.OK, REMOVED),
    ("O1", "M1", Change.REMOVE, Status.OK, REMOVED),
    ("O1", "O1", Change.DEMOTE, Status.LAST_OWNER, "owner"),
    ("O1", "O1", Change.REMOVE, Status.LAST_OWNER, "owner"),
    ("O1", "S1", Change.DEMOTE, Status.ALREADY, "sales"),  # nothing below sales
    ("M1", "S1", Change.PROMOTE, Status.OK, "manager"),
    ("M1", "S1", Change.REMOVE, Status.OK, REMOVED),
    ("M1", "M2", Change.DEMOTE, Status.NOT_ALLOWED, "manager"),
    ("M1", "M2", Change.PROMOTE, Status.NOT_ALLOWED, "manager"),
    ("M1", "M2", Change.REMOVE, Status.NOT_ALLOWED, "manager"),
    ("M1", "M1", Change.PROMOTE, Status.NOT_ALLOWED, "manager"),
    ("M1", "O1", Change.DEMOTE, Status.NOT_ALLOWED, "owner"),
    ("M1", "O1", Change.REMOVE, Status.NOT_ALLOWED, "owner"),
    ("S1", "S2", Change.PROMOTE, Status.NOT_ALLOWED, "sales"),
    ("S1", "S2", Change.REMOVE, Status.NOT_ALLOWED, "sales"),
    ("S1", "S1", Change.PROMOTE, Status.NOT_ALLOWED, "sales"),
    ("S1", "M1", Change.DEMOTE, Status.NOT_ALLOWED, "manager"),
    ("S1", "O1", Change.REMOVE, Status.NOT_ALLOWED, "owner"),
]


@pytest.mark.parametrize(("who", "whom", "change", "expected", "after"), MATRIX,
                         ids=[f"{a}-{c.value}-{b}" for a, b, c, *_ in MATRIX])
def test_rights_matrix(engine, team, who, whom, change, expected, after):
    by, target = actor(engine, team[who]), team[whom]
    before = role_of(engine, target)
    with unit_of_work(engine) as uow:
        proposed = team_members.propose(uow, by, target, change)
    assert proposed.status is expected
    count = audits(engine)
    with unit_of_work(engine) as uow:  # the confirm button, pressed (or forged) anyway
        applied = team_members.apply(uow, by, NOW, target, before, proposed.after)
    if expected is Status.OK:
        assert proposed.after == after
        assert applied.status is Status.DONE and role_of(engine, target) == after
        assert audits(engine) == count + 1
    else:
        assert applied.status is expected and role_of(engine, target) == before == after
        assert audits(engine) == count


def test_the_last_owner_rule_counts_active_owners_only(engine, team):
    owner = actor(engine, team["O1"])
    with unit_of_work(engine) as uow:
        assert team_members.apply(uow, owner, NOW, team["M1"], "manager", "owner").status is Status.DONE
    new_owner = actor(engine, team["M1"])
    with unit_of_work(engine) as uow:  # two owners: one may step down or be removed
        assert team_members.apply(uow, new_owner, NOW, team["O1"], "owner", REMOVED).status is Status.DONE
    with unit_of_work(engine) as uow:  # M1 is the last active owner now
        result = team_members.apply(uow, new_owner, NOW, team["M1"], "owner", "manager")
        assert result.status is Status.LAST_OWNER
        roster = team_members.roster(uow, new_owner)
    assert [row.name for row in roster.members] == ["M1", "M2", "S1", "S2"]
    assert all(change is not Change.DEMOTE for row in roster.members if row.role == "owner" for change in row.changes)


def test_the_same_change_twice_is_already_done_and_a_stale_one_changes_nothing(engine, team):
    owner = actor(engine, team["O1"])
    with unit_of_work(engine) as uow:
        assert team_members.apply(uow, owner, NOW, team["S1"], "sales", "manager").status is Status.DONE
    count = audits(engine)
    with unit_of_work(engine) as uow:
        assert team_members.apply(uow, owner, NOW, team["S1"], "sales", "manager").status is Status.ALREADY
        stale = team_members.apply(uow, owner, NOW, team["S1"], "sales", REMOVED)
        assert stale.status is Status.STALE and stale.before == "manager"
        assert team_members.apply(uow, owner, NOW, team["S1"], "sales", "nobody").status is Status.GONE
        assert team_members.apply(uow, owner, NOW, 0, "sales", "manager").status is Status.GONE
    assert audits(engine) == count and role_of(engine, team["S1"]) == "manager"


def test_another_teams_member_is_gone(engine, team):
    with unit_of_work(engine) as uow:
        other = Team(name="Other")
        uow.session.add(other)
        uow.session.flush()
        stranger = Member(team_id=other.id, name="Zed", role="sales")
        uow.session.add(stranger)
        uow.session.flush()
        stranger_id = stranger.id
    owner = actor(engine, team["O1"])
    with unit_of_work(engine) as uow:
        assert team_members.propose(uow, owner, stranger_id, Change.REMOVE).status is Status.GONE
        result = team_members.apply(uow, owner, NOW, stranger_id, "sales", REMOVED)
        assert result.status is Status.GONE and result.member is None
        assert "Zed" not in [row.name for row in team_members.roster(uow, owner).members]
    assert role_of(engine, stranger_id) == "sales"


def test_a_removal_keeps_customers_and_follow_ups_expires_invites_and_tells_the_deciders(engine, team):
    with unit_of_work(engine) as uow:
        customer = Customer(team_id=team["team"], name="大同五金", name_key="大同五金", owner_id=team["S1"])
        uow.session.add(customer)
        uow.session.flush()
        uow.session.add(FollowUp(team_id=team["team"], customer_id=customer.id, member_id=team["S1"],
                                 due_at=NOW + timedelta(days=1), action="call back"))
        uow.session.add(Interaction(team_id=team["team"], customer_id=customer.id, member_id=team["S1"],
                                    occurred_at=NOW - timedelta(days=2), text="visited"))
        uow.session.add(Invite(team_id=team["team"], code="ABCDEFGH", created_by=team["S1"], created_at=NOW,
                               expires_at=NOW + timedelta(days=7)))
    manager = actor(engine, team["M1"])
    with unit_of_work(engine) as uow:
        before = team_members.roster(uow, manager)
        [row] = [r for r in before.members if r.name == "S1"]
        assert (row.customers, row.open_follow_ups, row.last_active_at) == (1, 1, NOW - timedelta(days=2))
        result = team_members.apply(uow, manager, NOW, team["S1"], "sales", REMOVED)
        assert result.status is Status.DONE and result.member is not None and result.member.customers == 1
        told = [event for event in uow.events if isinstance(event, Tell)]
    assert sorted(event.member_id for event in told) == [team["O1"], team["M2"]]  # not the manager who did it
    assert {event.key for event in told} == {"team.told_removed_with_customers"}
    assert dict(told[0].values)["n"] == "1" and dict(told[0].values)["member"] == "S1"
    with unit_of_work(engine) as uow:
        session = uow.session
        assert session.exec(select(Customer)).one().owner_id == team["S1"]  # waiting for a handover
        assert session.exec(select(FollowUp)).one().member_id == team["S1"]
        assert session.exec(select(Invite)).one().expires_at <= NOW
        member = session.get(Member, team["S1"])
        assert (member.active, member.removed_at, member.removed_by) == (False, NOW, team["M1"])
        roster = team_members.roster(uow, manager)
    assert "S1" not in [r.name for r in roster.members]
    assert [(r.name, r.customers) for r in roster.waiting] == [("S1", 1)]


def test_who_wrote_does_not_know_a_removed_member_and_former_member_names_their_team(engine, team):
    with unit_of_work(engine) as uow:
        uow.session.add(ChatIdentity(team_id=team["team"], member_id=team["S2"], platform="test",
                                     platform_user_id="s2", chat_id="dm-s2"))
    with unit_of_work(engine) as uow:
        assert members.who_wrote(uow, "test", "s2") is not None
        assert members.former_member(uow, "test", "s2") is None
        assert members.former_member(uow, "test", "nobody") is None
    with unit_of_work(engine) as uow:
        team_members.apply(uow, actor(engine, team["O1"]), NOW, team["S2"], "sales", REMOVED)
    with unit_of_work(engine) as uow:
        assert members.who_wrote(uow, "test", "s2") is None
        former = members.former_member(uow, "test", "s2")
        assert former is not None and former.team_name == "Acme team"
