"""Follow-up use cases on real SQLite and PostgreSQL: done, snooze, reschedule, /todo, /done N, /status, cards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from core.delivery import FailureKind
from core.events import FollowUpsChanged
from core.models import AuditEvent, FollowUp, Interaction
from core.services import customers, followups, teams
from core.services.actor import Actor
from core.services.errors import NotFound
from core.uow import unit_of_work
from core.usecases import chat_state
from core.usecases import followups as usecase
from core.usecases.followup_cards import card_stamp

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Taipei


def taipei(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TAIPEI).astimezone(UTC)


@pytest.fixture
def owner(engine) -> Actor:
    with unit_of_work(engine) as uow:
        return Actor.of(teams.found_team(uow.session, teams.Newcomer("test", "1", "dm1", "Amy")))


def schedule(engine, actor: Actor, due: datetime, action: str, customer: str | None = None) -> int:
    with unit_of_work(engine) as uow:
        customer_id = customers.create_customer(uow.session, actor, customer).id if customer else None
        return followups.schedule(uow.session, actor, due_at=due, action=action, customer_id=customer_id).id or 0


def row(engine, follow_up_id: int) -> FollowUp:
    with unit_of_work(engine) as uow:
        found = uow.session.get(FollowUp, follow_up_id)
        assert found is not None
        uow.session.expunge(found)
        return found


def test_done_once_then_already_done(engine, owner):
    fid = schedule(engine, owner, NOW + timedelta(hours=1), "send the quote", "Acme")
    with unit_of_work(engine) as uow:
        first = usecase.complete(uow, owner, NOW, fid)
    with unit_of_work(engine) as uow:
        second = usecase.complete(uow, owner, NOW, fid)
    assert first.changed and not second.changed
    assert first.follow_up.action == "send the quote" and first.follow_up.customer.name == "Acme"
    assert row(engine, fid).status == "done"


def test_snooze_to_tomorrow_lands_on_the_working_morning_and_wakes_the_scheduler(engine, owner):
    fid = schedule(engine, owner, NOW, "call back", "Acme")
    stamp = card_stamp(NOW)
    with unit_of_work(engine) as uow:
        moved = usecase.snooze(uow, owner, NOW, fid, "tm", stamp)
        events = list(uow.events)
    assert moved.outcome == "moved" and moved.follow_up.due_at == taipei(19, 9)
    assert events == [FollowUpsChanged()]
    saved = row(engine, fid)
    assert (saved.status, saved.explicit_time, saved.last_failure) == ("snoozed", False, None)
    with unit_of_work(engine) as uow:  # the same button again: the card is older than the move
        again = usecase.snooze(uow, owner, NOW, fid, "tm", stamp)
        assert again.outcome == "stale" and again.follow_up.due_at == taipei(19, 9) and uow.events == []
    with unit_of_work(engine) as uow:  # from the new card, an hour: that exact time
        later = usecase.snooze(uow, owner, NOW, fid, "1h", moved.follow_up.stamp)
    assert later.outcome == "moved" and later.follow_up.due_at == NOW + timedelta(hours=1)
    assert row(engine, fid).explicit_time
    with unit_of_work(engine) as uow:
        assert usecase.snooze(uow, owner, NOW, fid, "someday", later.follow_up.stamp).outcome == "unknown"
    with unit_of_work(engine) as uow:
        actions = [e.action for e in uow.session.exec(select(AuditEvent).where(AuditEvent.entity_id == fid))]
    assert actions.count("snooze") == 2


def test_a_closed_follow_up_is_not_moved(engine, owner):
    fid = schedule(engine, owner, NOW, "call back")
    with unit_of_work(engine) as uow:
        usecase.complete(uow, owner, NOW, fid)
    with unit_of_work(engine) as uow:
        assert usecase.snooze(uow, owner, NOW, fid, "nw").outcome == "closed"
        assert usecase.reschedule(uow, owner, NOW, fid, "tomorrow 3pm").outcome == "closed"
        assert usecase.open_follow_up(uow, owner, fid).state == "closed"


def test_reschedule_to_a_typed_time_or_say_why_not(engine, owner):
    fid = schedule(engine, owner, NOW, "call back")
    with unit_of_work(engine) as uow:
        assert usecase.reschedule(uow, owner, NOW, fid, "whenever").outcome == "bad"
        assert usecase.reschedule(uow, owner, NOW, fid, "yesterday 3pm").outcome == "past"
        assert uow.events == []
    with unit_of_work(engine) as uow:
        moved = usecase.reschedule(uow, owner, NOW, fid, "tomorrow 3pm", card_stamp(NOW))
    assert moved.outcome == "moved" and moved.follow_up.due_at == taipei(19, 15)
    saved = row(engine, fid)
    assert saved.explicit_time and saved.due_at == taipei(19, 15)
    with unit_of_work(engine) as uow:
        assert usecase.reschedule(uow, owner, NOW, fid, "tomorrow 3pm").outcome == "unchanged"


def test_another_members_follow_up_is_not_found(engine, owner):
    fid = schedule(engine, owner, NOW, "call back")
    with unit_of_work(engine) as uow:
        invite = teams.create_invite(uow.session, owner)
        sales = Actor.of(teams.join(uow.session, invite.code, teams.Newcomer("test", "2", "dm2", "Bob")))
    with unit_of_work(engine) as uow, pytest.raises(NotFound):
        usecase.snooze(uow, sales, NOW, fid, "1h")


def test_todo_lists_open_ones_soonest_first_and_done_by_number(engine, owner):
    later = schedule(engine, owner, NOW + timedelta(days=2), "visit", "Globex")
    sooner = schedule(engine, owner, NOW + timedelta(hours=2), "quote", "Acme")
    with unit_of_work(engine) as uow:
        items = usecase.todo(uow, owner)
    assert [(i.id, i.customer.name if i.customer else None) for i in items] == [(sooner, "Acme"), (later, "Globex")]
    assert items[0].stamp == card_stamp(items[0].due_at)
    with unit_of_work(engine) as uow:
        assert usecase.done_by_number(uow, owner, NOW, "1", "telegram:100").outcome == "no_list"  # nothing shown
        assert [i.id for i in usecase.todo_shown(uow, owner, NOW, "telegram:100")] == [sooner, later]
    with unit_of_work(engine) as uow:
        assert usecase.done_by_number(uow, owner, NOW, "3", "telegram:100").outcome == "usage"
        assert usecase.done_by_number(uow, owner, NOW, "x", "telegram:100").shown == 2
    with unit_of_work(engine) as uow:
        done = usecase.done_by_number(uow, owner, NOW, " 2 ", "telegram:100")
    assert done.outcome == "done" and done.follow_up is not None and done.follow_up.id == later
    with unit_of_work(engine) as uow:
        assert [i.id for i in usecase.todo(uow, owner)] == [sooner]


def test_done_by_number_refers_to_the_list_shown_and_a_repeat_changes_nothing(engine, owner):
    first = schedule(engine, owner, NOW + timedelta(hours=1), "寄報價單", "大同五金行")
    second = schedule(engine, owner, NOW + timedelta(hours=3), "打电话确认交期", "美的集团")
    third = schedule(engine, owner, NOW + timedelta(days=1), "send the contract", "Globex")
    with unit_of_work(engine) as uow:
        usecase.todo_shown(uow, owner, NOW, "telegram:100")
    with unit_of_work(engine) as uow:
        done = usecase.done_by_number(uow, owner, NOW, "2", "telegram:100")
    assert (done.outcome, done.follow_up.id if done.follow_up else None) == ("done", second)
    with unit_of_work(engine) as uow:  # sent again: the same follow-up, not the one that is 2nd now
        again = usecase.done_by_number(uow, owner, NOW, "2", "telegram:100")
    assert (again.outcome, again.follow_up.id if again.follow_up else None) == ("already_done", second)
    with unit_of_work(engine) as uow:
        assert [i.id for i in usecase.todo(uow, owner)] == [first, third]
        # an awaited answer in the same chat does not replace the shown list
        chat_state.await_answer(uow, owner, "telegram:100", NOW, "note_date", {"interaction": 1})
    with unit_of_work(engine) as uow:
        assert usecase.done_by_number(uow, owner, NOW, "3", "telegram:100").follow_up.id == third
        assert chat_state.awaited(uow, owner, "telegram:100", NOW) is not None
        # another chat has its own list, and a list expires
        assert usecase.done_by_number(uow, owner, NOW, "1", "slack:D1").outcome == "no_list"
        later = NOW + timedelta(hours=usecase.SHOWN_HOURS, minutes=1)
        assert usecase.done_by_number(uow, owner, later, "1", "telegram:100").outcome == "no_list"


def test_status_counts_problems_by_failure_kind_and_shows_overdue_cards(engine, owner):
    blocked = schedule(engine, owner, NOW - timedelta(hours=3), "quote", "Acme")
    maybe = schedule(engine, owner, NOW - timedelta(hours=2), "price list", "Globex")
    upcoming = schedule(engine, owner, NOW + timedelta(days=1), "visit", "Initech")
    with unit_of_work(engine) as uow:
        acme = uow.session.get(FollowUp, blocked)
        acme.last_error, acme.last_failure = "Forbidden: bot was blocked by the user", FailureKind.unreachable.value
        globex = uow.session.get(FollowUp, maybe)
        globex.status, globex.sent_at = "sent", NOW
        uow.session.add(Interaction(team_id=owner.team_id, member_id=owner.member_id, customer_id=acme.customer_id,
                                    text="Visited   Acme,\nwants a quote " + "x" * 100, occurred_at=NOW - timedelta(days=1)))
        uow.session.add_all([acme, globex])
    with unit_of_work(engine) as uow:
        summary = usecase.status(uow, owner, NOW)
    assert (summary.pending, summary.overdue, summary.failed, summary.uncertain) == (2, 2, 1, 1)
    assert summary.next_due is not None and summary.next_due.id == upcoming
    assert [(p.follow_up.id, p.kind, p.uncertain) for p in summary.problems] == [
        (blocked, FailureKind.unreachable, False), (maybe, FailureKind.uncertain, True)]
    assert summary.paused
    first = summary.overdue_cards[0]
    assert first.follow_up.id == blocked and first.recipient.language == owner.language
    assert first.last_text.startswith("Visited Acme, wants a quote") and len(first.last_text) == 70
    assert not first.late and not first.held


def test_home_screen_for_a_member_and_nobody_else(engine, owner):
    schedule(engine, owner, NOW + timedelta(hours=2), "quote", "Acme")
    with unit_of_work(engine) as uow:
        screen = usecase.home_screen(uow, "test", "1")
        assert usecase.home_screen(uow, "test", "stranger") is None
    assert screen is not None and screen.actor.member_id == owner.member_id
    assert [f.action for f in screen.follow_ups] == ["quote"] and [c.name for c in screen.customers] == ["Acme"]


def test_a_removed_member_gets_no_home_screen(engine, owner):
    from core.models import Member

    schedule(engine, owner, NOW + timedelta(hours=2), "quote", "Acme")
    with unit_of_work(engine) as uow:
        member = uow.session.get(Member, owner.member_id)
        assert member is not None
        member.active = False
        uow.session.add(member)
    with unit_of_work(engine) as uow:
        assert usecase.home_screen(uow, "test", "1") is None
