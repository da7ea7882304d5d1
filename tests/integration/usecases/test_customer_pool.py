"""The customer pool (公海) on both databases: off by default, the warning then the return at the right times,
a job run twice or on two processes at once doing each thing once, claims with their limit and their race,
assigning, another team's pool out of reach, and migration 0013 down and up with rows in place."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import col, select

from core.db import alembic_config, session_scope
from core.events import Tell
from core.models import AuditEvent, Customer, Deal, FollowUp, Member, Role, Team
from core.services import customers as customer_service
from core.services import followups, interactions, teams
from core.services.actor import Actor
from core.services.errors import InvalidInput, NotAllowed, NotFound
from core.uow import unit_of_work
from core.usecases import customer_pool, customers
from core.usecases.customer_pool import ClaimStatus, SettingChange

T0 = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)  # 10:00 in Taipei; 60 idle days later: 31 Oct 10:00
DUE = T0 + timedelta(days=60)


def taipei(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour - 8, minute, tzinfo=UTC)


def team(engine) -> tuple[Actor, Actor, Actor]:
    """An owner and two salespeople of one team."""
    with session_scope(engine) as session:
        owner = Actor.of(teams.found_team(session, teams.Newcomer("test", "owner", "dm1", "Amy Lin")))
        people = []
        for user, name in (("s1", "陳小姐"), ("s2", "Bob")):
            code = teams.create_invite(session, owner).code
            people.append(Actor.of(teams.join(session, code, teams.Newcomer("test", user, f"dm-{user}", name))))
        return owner, people[0], people[1]


def customer(engine, actor: Actor, name: str, *, at: datetime = T0, important: bool = False) -> int:
    with session_scope(engine) as session:
        row = customer_service.create_customer(session, actor, name)
        row.created_at = row.last_interaction_at = at
        row.important = important
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def pool_on(engine, manager: Actor, text: str = "on 60") -> None:
    with unit_of_work(engine) as uow:
        customer_pool.change_settings(uow, manager, text)


def run(engine, now: datetime) -> tuple[int, list]:
    with unit_of_work(engine) as uow:
        done = customer_pool.run(uow, now)
        return done, list(uow.events)


def get(engine, customer_id: int) -> Customer:
    with session_scope(engine) as session:
        row = session.get(Customer, customer_id)
        assert row is not None
        return row


def actions(engine, action: str) -> list[AuditEvent]:
    with session_scope(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_pool_is_off_by_default_and_nothing_returns(engine):
    _owner, sales, _ = team(engine)
    acme = customer(engine, sales, "Acme")
    with unit_of_work(engine) as uow:
        settings = customer_pool.settings_of(uow, sales)
    assert (settings.enabled, settings.days, settings.warn_days, settings.claim_limit) == (False, 60, 3, 5)
    assert run(engine, DUE + timedelta(days=100)) == (0, [])
    assert get(engine, acme).owner_id == sales.member_id


def test_the_owner_is_warned_once_then_the_customer_returns_with_its_follow_ups_and_deals(engine):
    owner, sales, _ = team(engine)
    acme, _datong = customer(engine, sales, "Acme"), customer(engine, sales, "大同五金行")
    with session_scope(engine) as session:
        followups.schedule(session, sales, due_at=DUE + timedelta(days=5), action="call back", customer_id=acme)
        session.add(Deal(team_id=sales.team_id, customer_id=acme, owner_id=sales.member_id, title="A100"))
    pool_on(engine, owner)

    assert run(engine, taipei(10, 28, 8, 59)) == (0, [])  # before 09:00: the day has not turned yet
    done, events = run(engine, taipei(10, 28, 9, 5))  # due back on 31 Oct: warned 3 days before, in one message
    assert done == 2
    assert events == [Tell.of(sales.member_id, "pool.warn_owner", customers="• Acme\n• 大同五金行",
                              date="2026-10-31", days=60)]
    assert run(engine, taipei(10, 29, 9, 5)) == (0, [])  # once per idle period
    assert run(engine, taipei(10, 31, 9, 59)) == (0, [])  # not idle for 60 days yet
    done, events = run(engine, taipei(10, 31, 10, 1))
    assert done == 2
    assert events == [Tell.of(sales.member_id, "pool.returned_owner", customers="• Acme\n• 大同五金行", days=60)]
    row = get(engine, acme)
    assert (row.owner_id, row.pooled_from_id, row.pooled_at) == (None, sales.member_id, taipei(10, 31, 10, 1))
    with session_scope(engine) as session:
        follow_up = session.exec(select(FollowUp).where(FollowUp.customer_id == acme)).one()
        deal = session.exec(select(Deal).where(Deal.customer_id == acme)).one()
    assert follow_up.status == "cancelled" and deal.owner_id is None
    assert len(actions(engine, "pool_warn")) == 2 and len(actions(engine, "pool_return")) == 3  # 2 customers, 1 deal
    cancelled = actions(engine, "cancel")  # in the customer's history, with what was cancelled
    assert [(e.entity_id, e.customer_id, e.before["action"], e.after["reason"]) for e in cancelled] == [
        (follow_up.id, acme, "call back", "pool_return")]
    assert run(engine, taipei(11, 5, 10, 0)) == (0, [])  # in the pool: nothing more to do
    with unit_of_work(engine) as uow:
        page = customer_pool.pool_page(uow, sales)
    assert [(e.customer.name, e.previous_owner) for e in page.entries] == [("大同五金行", "陳小姐"), ("Acme", "陳小姐")]


def test_a_note_after_the_warning_keeps_the_customer_and_a_new_idle_period_warns_again(engine):
    owner, sales, _ = team(engine)
    acme = customer(engine, sales, "Acme")
    pool_on(engine, owner)
    assert run(engine, taipei(10, 28, 9, 5))[0] == 1
    with session_scope(engine) as session:
        interactions.log_interaction(session, sales, text="visited Acme", customer_id=acme,
                                     occurred_at=taipei(10, 30, 15))
    assert run(engine, taipei(10, 31, 10, 1)) == (0, [])
    assert get(engine, acme).owner_id == sales.member_id
    assert run(engine, taipei(12, 25, 9, 5))[0] == 0  # due back on 29 Dec: too early to warn
    assert run(engine, taipei(12, 26, 9, 5))[0] == 1  # warned again for the new idle period


def test_important_customers_never_return(engine):
    owner, sales, _ = team(engine)
    vip = customer(engine, sales, "VIP", important=True)
    pool_on(engine, owner)
    for day in (28, 31):
        assert run(engine, taipei(10, day, 12))[0] == 0
    assert run(engine, taipei(12, 31, 12))[0] == 0
    assert get(engine, vip).owner_id == sales.member_id


def test_turned_on_late_every_long_idle_customer_gets_the_full_warning_first(engine):
    owner, sales, _ = team(engine)
    old = customer(engine, sales, "Old Co", at=T0 - timedelta(days=300))
    pool_on(engine, owner, "on 30")
    now = taipei(10, 1, 14)
    assert run(engine, now)[0] == 1
    assert run(engine, now + timedelta(days=3) - timedelta(minutes=1))[0] == 0  # three days' notice, in full
    assert run(engine, now + timedelta(days=3))[0] == 1
    assert get(engine, old).owner_id is None


def test_a_job_run_on_two_processes_at_once_warns_and_returns_once(engine):
    owner, sales, other = team(engine)
    names = [f"Customer {i}" for i in range(6)]
    for i, name in enumerate(names):
        customer(engine, sales if i % 2 else other, name)
    pool_on(engine, owner)

    def both(now: datetime) -> list[tuple[int, list]]:
        start, results, errors = threading.Barrier(2), [], []

        def work() -> None:
            try:
                start.wait()
                results.append(run(engine, now))
            except Exception as exc:  # pragma: no cover - shown by the assertion below
                errors.append(exc)
        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        return results

    warned = both(taipei(10, 28, 9, 5))
    assert sum(done for done, _ in warned) == 6
    told = sorted(name for _, events in warned for event in events
                  for name in dict(event.values)["customers"].split("\n"))
    assert told == sorted(f"• {name}" for name in names)
    returned = both(taipei(10, 31, 10, 1))
    assert sum(done for done, _ in returned) == 6
    assert len(actions(engine, "pool_warn")) == 6 and len(actions(engine, "pool_return")) == 6
    with session_scope(engine) as session:
        assert session.exec(select(Customer).where(col(Customer.owner_id).is_not(None))).all() == []


def test_claiming_makes_the_member_the_owner_with_the_open_deals_and_a_new_idle_period(engine):
    owner, sales, other = team(engine)
    acme = customer(engine, other, "Acme")
    with session_scope(engine) as session:
        session.add(Deal(team_id=other.team_id, customer_id=acme, owner_id=other.member_id, title="A100"))
    pool_on(engine, owner)
    run(engine, taipei(10, 28, 9, 5))
    run(engine, taipei(10, 31, 10, 1))
    claimed_at = taipei(11, 2, 11)
    with unit_of_work(engine) as uow:
        result = customer_pool.claim(uow, sales, claimed_at, acme)
    assert (result.status, result.customer.name) == (ClaimStatus.CLAIMED, "Acme")
    row = get(engine, acme)
    assert (row.owner_id, row.assigned_at, row.claimed_by_id) == (sales.member_id, claimed_at, sales.member_id)
    with session_scope(engine) as session:
        assert session.exec(select(Deal.owner_id).where(Deal.customer_id == acme)).one() == sales.member_id
        history = customer_pool.history(unit_of_work_of(session), row)
    assert history is not None and not history.in_pool
    assert (history.returned_from, history.assigned_to, history.claimed) == ("Bob", "陳小姐", True)
    with unit_of_work(engine) as uow:
        assert customer_pool.claim(uow, sales, claimed_at, acme).status is ClaimStatus.YOURS
        taken = customer_pool.claim(uow, other, claimed_at, acme)
    assert (taken.status, taken.owner) == (ClaimStatus.TAKEN, "陳小姐")
    assert len(actions(engine, "claim")) == 1
    assert run(engine, claimed_at + timedelta(days=55))[0] == 0  # the idle period starts at the claim


def unit_of_work_of(session):
    from core.uow import UnitOfWork
    return UnitOfWork(session)


def pooled(engine, manager: Actor, owner: Actor, count: int) -> list[int]:
    ids = [customer(engine, owner, f"Pool {i}") for i in range(count)]
    pool_on(engine, manager)
    run(engine, taipei(10, 28, 9, 5))
    run(engine, taipei(10, 31, 10, 1))
    return ids


def test_the_claim_limit_counts_seven_days_and_says_when_claiming_is_possible_again(engine):
    owner, sales, other = team(engine)
    ids = pooled(engine, owner, other, 3)
    pool_on(engine, owner, "limit 2")
    first, second = taipei(11, 1, 10), taipei(11, 3, 10)
    with unit_of_work(engine) as uow:
        assert customer_pool.claim(uow, sales, first, ids[0]).status is ClaimStatus.CLAIMED
        assert customer_pool.claim(uow, sales, second, ids[1]).status is ClaimStatus.CLAIMED
        refused = customer_pool.claim(uow, sales, second, ids[2])
    assert (refused.status, refused.limit, refused.next_at) == (ClaimStatus.LIMIT, 2, first + timedelta(days=7))
    assert get(engine, ids[2]).owner_id is None
    with unit_of_work(engine) as uow:
        assert customer_pool.claim(uow, sales, first + timedelta(days=7, minutes=1), ids[2]).status \
            is ClaimStatus.CLAIMED
    with unit_of_work(engine) as uow:  # assigning is not claiming: no limit
        assert customer_pool.settings_of(uow, owner).claim_limit == 2


def test_two_members_claiming_at_once_one_wins_and_the_other_is_told(engine):
    owner, sales, other = team(engine)
    [acme] = pooled(engine, owner, owner, 1)
    first_claimed, results = threading.Event(), {}

    def claim_and_hold(actor: Actor, wait: threading.Event | None) -> None:
        with unit_of_work(engine) as uow:
            results[actor.name] = customer_pool.claim(uow, actor, taipei(11, 2, 11), acme)
            if wait is None:
                first_claimed.set()
                threading.Event().wait(0.3)  # hold the row until the other claim is waiting for it
    winner = threading.Thread(target=claim_and_hold, args=(sales, None))
    winner.start()
    first_claimed.wait(10)
    loser = threading.Thread(target=claim_and_hold, args=(other, first_claimed))
    loser.start()
    winner.join()
    loser.join()
    assert results["陳小姐"].status is ClaimStatus.CLAIMED
    assert (results["Bob"].status, results["Bob"].owner) == (ClaimStatus.TAKEN, "陳小姐")
    assert get(engine, acme).owner_id == sales.member_id
    assert len(actions(engine, "claim")) == 1


def test_owners_and_managers_assign_from_the_pool_and_the_member_hears_of_it(engine):
    owner, sales, other = team(engine)
    [acme] = pooled(engine, owner, other, 1)
    with unit_of_work(engine) as uow, pytest.raises(NotAllowed):
        customer_pool.assign(uow, sales, taipei(11, 2, 11), acme, sales.member_id)
    with unit_of_work(engine) as uow:
        _ref, choices = customer_pool.assign_choices(uow, owner, acme)
        assert [c.name for c in choices] == ["Amy Lin", "陳小姐", "Bob"]
        result = customer_pool.assign(uow, owner, taipei(11, 2, 11), acme, sales.member_id)
        events = list(uow.events)
    assert (result.status, result.owner) == (ClaimStatus.ASSIGNED, "陳小姐")
    assert events == [Tell.of(sales.member_id, "pool.assigned_to_you", customer="Pool 0", by="Amy Lin")]
    row = get(engine, acme)
    assert (row.owner_id, row.claimed_by_id) == (sales.member_id, None)


def test_another_teams_pool_is_out_of_reach_even_with_forged_ids(engine):
    owner, _sales, other = team(engine)
    [acme] = pooled(engine, owner, other, 1)
    with session_scope(engine) as session:
        rival_team = Team(name="Rival")
        session.add(rival_team)
        session.flush()
        rival_member = Member(team_id=rival_team.id, name="Eve", role=Role.owner.value)
        session.add(rival_member)
        session.flush()
        rival = Actor.of(rival_member)
    with unit_of_work(engine) as uow:
        assert customer_pool.pool_page(uow, rival).entries == ()
        assert customer_pool.pooled_in_team(uow, rival, acme) is None
        with pytest.raises(NotFound):
            customer_pool.claim(uow, rival, taipei(11, 2, 11), acme)
        with pytest.raises(NotFound):
            customer_pool.assign(uow, rival, taipei(11, 2, 11), acme, rival.member_id)
        with pytest.raises(NotFound):
            customer_pool.assign(uow, owner, taipei(11, 2, 11), acme, rival.member_id)  # not a member of the team
    assert get(engine, acme).owner_id is None


def test_settings_are_for_owners_and_managers_and_read_numbers_in_any_script(engine):
    owner, sales, _ = team(engine)
    with unit_of_work(engine) as uow:
        with pytest.raises(NotAllowed):
            customer_pool.change_settings(uow, sales, "on 30")
        assert customer_pool.change_settings(uow, sales, "").change is SettingChange.SHOWN
    for text, expected in (("on ６０", (True, 60, 3, 5)), ("開 四十五天", (True, 45, 3, 5)), ("limit ٣", (True, 45, 3, 3)),
                           ("提醒 5", (True, 45, 5, 3)), ("off", (False, 45, 5, 3)), ("90", (True, 90, 5, 3))):
        with unit_of_work(engine) as uow:
            settings = customer_pool.change_settings(uow, owner, text).settings
        assert (settings.enabled, settings.days, settings.warn_days, settings.claim_limit) == expected, text
    for text in ("on 3", "on 1000", "limit -1", "warn 90", "maybe", "on sixty"):
        with unit_of_work(engine) as uow, pytest.raises(InvalidInput):
            customer_pool.change_settings(uow, owner, text)


def test_the_pool_card_is_open_to_the_team_read_only(engine):
    owner, sales, other = team(engine)
    [acme] = pooled(engine, owner, other, 1)
    with unit_of_work(engine) as uow:
        card = customers.customer_card(uow, sales, acme)
        assert card.pool is not None and card.pool.in_pool and card.pool.returned_from == "Bob"
        assert not card.may_manage
        assert customers.find_customer(uow, sales, "Pool 0").customer is not None
        with pytest.raises(NotFound):
            customers.set_important(uow, sales, acme, True)


def test_migration_0013_goes_down_and_up_with_rows_in_place(engine):
    owner, sales, _ = team(engine)
    acme = customer(engine, sales, "Acme")
    config = alembic_config(engine)
    command.downgrade(config, "0012")
    with engine.connect() as connection:
        assert "pooled_at" not in {c["name"] for c in sa.inspect(connection).get_columns("customer")}
    command.upgrade(config, "head")
    row = get(engine, acme)
    assert (row.owner_id, row.pooled_at, row.assigned_at) == (sales.member_id, None, None)
    with session_scope(engine) as session:
        assert session.get(Team, owner.team_id).pool_enabled is False
