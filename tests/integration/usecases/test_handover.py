"""core.usecases.handover on both databases: rights, all or chosen customers, what moves and what stays,
idempotency, the audit, the receiver's summary event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from core.db import session_scope
from core.events import Tell
from core.models import AuditEvent, Customer, Deal, FollowUp, Member
from core.services import customers, followups, teams
from core.services.actor import Actor
from core.services.errors import NotAllowed, NotFound
from core.uow import unit_of_work
from core.usecases import handover

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


def team(engine) -> tuple[Actor, Actor, Actor]:
    with session_scope(engine) as session:
        owner = teams.found_team(session, teams.Newcomer("test", "1", "dm1", "Amy"))
        people = []
        for name in ("Chen", "Wang"):
            member = Member(team_id=owner.team_id, name=name, role="sales")
            session.add(member)
            session.flush()
            people.append(Actor.of(member))
        return Actor.of(owner), people[0], people[1]


def seed(engine, chen: Actor) -> dict[str, int]:
    with session_scope(engine) as session:
        ids = {}
        for name in ("Acme", "Globex"):
            customer = customers.create_customer(session, chen, name)
            ids[name] = customer.id
            followups.schedule(session, chen, due_at=NOW + timedelta(days=1), action="call", customer_id=customer.id)
        sent = followups.schedule(session, chen, due_at=NOW, action="quote", customer_id=ids["Acme"])
        sent.status, sent.message_id, sent.sent_at = "sent", "m1", NOW
        done = followups.schedule(session, chen, due_at=NOW, action="old", customer_id=ids["Acme"])
        done.status = "done"
        session.add(Deal(team_id=chen.team_id, customer_id=ids["Acme"], owner_id=chen.member_id, title="open"))
        session.add(Deal(team_id=chen.team_id, customer_id=ids["Acme"], owner_id=chen.member_id, title="won",
                         closed_at=NOW, won_at=NOW))
        ids["sent"], ids["done"] = sent.id, done.id
        return ids


def test_all_customers_move_with_open_follow_ups_and_deals_once(engine):
    owner, chen, wang = team(engine)
    ids = seed(engine, chen)
    with unit_of_work(engine) as uow:
        result = handover.hand_over(uow, owner, NOW, chen.member_id, wang.member_id)
        events = list(uow.events)
    assert result.status is handover.HandoverStatus.MOVED
    assert [c.name for c in result.customers] == ["Acme", "Globex"] and result.follow_ups == 3 and result.deals == 1
    summary = next(e for e in events if isinstance(e, handover.HandedOver))
    assert summary.member_id == wang.member_id and summary.giver == "Chen" and summary.by == "Amy"
    assert [line.action for line in summary.follow_ups] == ["quote", "call", "call"]
    assert [d.title for d in summary.deals] == ["open"]
    assert any(isinstance(e, Tell) and e.member_id == chen.member_id for e in events)
    with session_scope(engine) as session:
        assert {c.owner_id for c in session.exec(select(Customer))} == {wang.member_id}
        rows = {f.id: f for f in session.exec(select(FollowUp))}
        assert rows[ids["sent"]].member_id == wang.member_id and rows[ids["sent"]].status == "sent"
        assert rows[ids["sent"]].message_id == "m1"  # delivery bookkeeping kept: not nudged again
        assert rows[ids["done"]].member_id == chen.member_id  # closed follow-ups stay in the history as they were
        deals = {d.title: d.owner_id for d in session.exec(select(Deal))}
        assert deals == {"open": wang.member_id, "won": chen.member_id}
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "handover")).all()
    assert sorted(e.customer_id for e in audit) == sorted([ids["Acme"], ids["Globex"]])
    assert all(e.actor_id == owner.member_id and e.after["from"] == "Chen" and e.after["to"] == "Wang" for e in audit)
    with unit_of_work(engine) as uow:
        again = handover.hand_over(uow, owner, NOW, chen.member_id, wang.member_id)
        assert again.status is handover.HandoverStatus.ALREADY and not uow.events


def test_chosen_customers_only_and_the_rules(engine):
    owner, chen, wang = team(engine)
    ids = seed(engine, chen)
    with unit_of_work(engine) as uow:
        plan = handover.plan(uow, owner, chen.member_id, wang.member_id, (ids["Globex"],))
        assert [c.name for c in plan.customers] == ["Globex"] and plan.follow_ups == 1 and plan.deals == 0
        result = handover.hand_over(uow, owner, NOW, chen.member_id, wang.member_id, (ids["Globex"],))
        assert [c.name for c in result.customers] == ["Globex"]
        assert handover.hand_over(uow, owner, NOW, chen.member_id, chen.member_id).status is handover.HandoverStatus.SAME
        with pytest.raises(NotAllowed):
            handover.hand_over(uow, wang, NOW, chen.member_id, wang.member_id)
        with pytest.raises(NotFound):
            handover.hand_over(uow, owner, NOW, chen.member_id, 999999)
        assert [c.member.name for c in handover.givers(uow, owner)] == ["Chen", "Wang"]
    with session_scope(engine) as session:
        assert session.get(Customer, ids["Acme"]).owner_id == chen.member_id


def test_member_names_match_width_case_and_script(engine):
    owner, chen, _ = team(engine)
    with unit_of_work(engine) as uow:
        assert handover.member_named(uow, owner, "chen").id == chen.member_id
        assert handover.member_named(uow, owner, "Nobody") is None


def test_the_cli_hands_over_once(engine, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from bot.cli import build_app

    _, chen, _ = team(engine)
    seed(engine, chen)
    monkeypatch.chdir(tmp_path)
    url = engine.url.render_as_string(hide_password=False)
    env = {"DATABASE_URL": url, "DEFAULT_LANGUAGE": "en"}
    first = CliRunner().invoke(build_app(), ["handover", "--from", "Chen", "--to", "Wang", "--customer", "Acme",
                                             "--json"], env=env)
    assert first.exit_code == 0, first.output
    import json
    assert json.loads(first.output) == {"status": "moved", "from": "Chen", "to": "Wang", "customers": ["Acme"],
                                        "follow_ups": 2, "deals": 1}
    second = CliRunner().invoke(build_app(), ["handover", "--from", "Chen", "--to", "Wang", "--customer", "Acme"],
                                env=env)
    assert second.exit_code == 0 and "Already handed over" in second.output
    bad = CliRunner().invoke(build_app(), ["handover", "--from", "Nobody", "--to", "Wang"], env=env)
    assert bad.exit_code == 2


def test_a_handed_over_customer_starts_a_new_idle_period_in_the_pool(engine):
    from core.models import Team
    from core.services import customer_pool as pool

    owner, chen, wang = team(engine)
    ids = seed(engine, chen)
    long_ago = NOW - timedelta(days=90)
    with session_scope(engine) as session:
        row = session.get(Team, owner.team_id)
        row.pool_enabled, row.pool_days = True, 30
        acme = session.get(Customer, ids["Acme"])  # claimed by Chen from the pool long ago, quiet since
        acme.created_at = acme.last_interaction_at = acme.pooled_at = acme.assigned_at = long_ago
        acme.claimed_by_id = chen.member_id
        session.add_all([row, acme])
    with session_scope(engine) as session:
        row = session.get(Team, owner.team_id)
        assert ids["Acme"] in [c.id for c in pool.due_for_warning(session, row, NOW - timedelta(days=30))]
    with unit_of_work(engine) as uow:
        handover.hand_over(uow, owner, NOW, chen.member_id, wang.member_id, (ids["Acme"],))
    with session_scope(engine) as session:
        row = session.get(Team, owner.team_id)
        acme = session.get(Customer, ids["Acme"])
        assert acme.owner_id == wang.member_id and acme.assigned_at == NOW and acme.claimed_by_id is None
        assert ids["Acme"] not in [c.id for c in pool.due_for_warning(session, row, NOW - timedelta(days=30))]
        # the clock restarted, it did not stop: 30 days after the handover it is idle again
        assert ids["Acme"] in [c.id for c in pool.due_for_warning(session, row, NOW + timedelta(minutes=1))]
        assert pool.claims_since(session, chen.member_id, NOW - pool.CLAIM_WINDOW) == []
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "handover")).one()
        assert event.customer_id == ids["Acme"] and event.after["assigned_at"] == NOW.isoformat()


def test_a_member_s_unfiled_follow_ups_move_with_an_event_each(engine):
    owner, chen, wang = team(engine)
    with session_scope(engine) as session:
        loose = followups.schedule(session, chen, due_at=NOW + timedelta(days=1), action="call back",
                                   customer_id=None)
        loose_id = loose.id
    with unit_of_work(engine) as uow:
        result = handover.hand_over(uow, owner, NOW, chen.member_id, wang.member_id)
    assert result.status is handover.HandoverStatus.MOVED and result.follow_ups == 1
    with session_scope(engine) as session:
        assert session.get(FollowUp, loose_id).member_id == wang.member_id
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "handover")).one()
        assert (event.entity, event.entity_id, event.customer_id) == ("followup", loose_id, None)
        assert event.before == {"member_id": chen.member_id} and event.after["member_id"] == wang.member_id
