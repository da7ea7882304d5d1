"""Nudges on real SQLite and PostgreSQL with a controllable clock: once, on time, in working hours."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import holidays
import pytest
from sqlmodel import select

from core.db import session_scope
from core.models import FollowUp, Member
from core.ports import DeliveryError, DeliveryUncertain, RateLimited, Unreachable
from core.scheduling import Claimed, Dispatcher
from core.scheduling.dispatch import MAX_ATTEMPTS, mark_reachable
from core.scheduling.limits import Pacer
from core.services import customers, followups, teams
from core.services.actor import Actor

WED_10 = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Taipei


class Sender:
    """Records deliveries; can fail the next sends with given errors."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.failures: list[BaseException] = []

    async def destination(self, claimed: Claimed):
        return ("test", f"chat-{claimed.member_id}")

    async def send_nudge(self, claimed: Claimed):
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(claimed.follow_up_id)
        return f"test:chat-{claimed.member_id}", f"m{len(self.sent)}"


def setup(engine, *, tz="Asia/Taipei", country="TW") -> Actor:
    with session_scope(engine) as session:
        member = teams.found_team(session, teams.Newcomer("test", "1", "dm1", "Amy", timezone=tz, country=country))
        return Actor.of(member)


def schedule(engine, actor: Actor, due: datetime, *, explicit=False, action="send quote") -> int:
    with session_scope(engine) as session:
        customer = customers.resolve_customer(session, actor, "Acme").customer or customers.create_customer(
            session, actor, "Acme")
        return followups.schedule(session, actor, due_at=due, action=action, customer_id=customer.id,
                                  explicit_time=explicit).id


def dispatcher(engine, sender, clock, **options) -> Dispatcher:
    return Dispatcher(engine, sender, clock, pacer=Pacer({}), **options)


def row(engine, follow_up_id: int) -> FollowUp:
    with session_scope(engine) as session:
        return session.get(FollowUp, follow_up_id)


async def test_sent_at_the_due_minute_and_not_before(engine, clock):
    clock.current = WED_10
    actor = setup(engine)
    fid = schedule(engine, actor, WED_10 + timedelta(hours=3))
    sender = Sender()
    worker = dispatcher(engine, sender, clock)
    assert await worker.run_once() == 0
    clock.advance(hours=3)
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    saved = row(engine, fid)
    assert sender.sent == [fid] and saved.status == "sent" and saved.message_id == "m1" and not saved.sent_late


async def test_outside_working_hours_waits_for_the_next_start_unless_the_time_was_explicit(engine, clock):
    clock.current = datetime(2026, 11, 18, 13, 0, tzinfo=UTC)  # Wed 21:00 Taipei
    actor = setup(engine)
    default_time = schedule(engine, actor, clock.current - timedelta(minutes=1))
    explicit = schedule(engine, actor, clock.current - timedelta(minutes=1), explicit=True)
    sender = Sender()
    worker = dispatcher(engine, sender, clock)
    await worker.run_once()
    assert sender.sent == [explicit]
    assert row(engine, default_time).next_attempt_at == datetime(2026, 11, 19, 1, 0, tzinfo=UTC)  # Thu 09:00
    clock.current = datetime(2026, 11, 19, 1, 0, tzinfo=UTC)
    await worker.run_once()
    assert sender.sent == [explicit, default_time]


async def test_weekends_and_public_holidays_are_days_off(engine, clock):
    weekday_holiday = next(day for day in sorted(holidays.country_holidays("TW", years=2026))
                           if day.weekday() < 4 and day > date(2026, 1, 2))
    clock.current = datetime.combine(weekday_holiday, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)
    actor = setup(engine)
    fid = schedule(engine, actor, clock.current - timedelta(minutes=5))
    sender = Sender()
    await dispatcher(engine, sender, clock).run_once()
    assert sender.sent == []
    assert row(engine, fid).next_attempt_at.date() > weekday_holiday


@pytest.mark.parametrize(("tz", "country"), [("Asia/Hong_Kong", "HK"), ("Asia/Shanghai", "CN"), ("Europe/London", "GB")])
async def test_member_zone_decides_the_working_day(engine, clock, tz, country):
    clock.current = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # 10:00 in HK/Shanghai, 02:00 in London
    actor = setup(engine, tz=tz, country=country)
    schedule(engine, actor, clock.current - timedelta(minutes=1))
    sender = Sender()
    await dispatcher(engine, sender, clock).run_once()
    assert (len(sender.sent) == 1) == (tz != "Europe/London")


async def test_snooze_and_reschedule_move_the_nudge(engine, clock):
    clock.current = WED_10
    actor = setup(engine)
    fid = schedule(engine, actor, WED_10)
    sender = Sender()
    worker = dispatcher(engine, sender, clock)
    await worker.run_once()
    with session_scope(engine) as session:
        followups.snooze(session, actor, fid, WED_10 + timedelta(hours=1), explicit_time=True)
    await worker.run_once()
    assert sender.sent == [fid]
    clock.advance(hours=1)
    await worker.run_once()
    assert sender.sent == [fid, fid]
    with session_scope(engine) as session:
        followups.complete(session, actor, fid)
    clock.advance(days=3)
    await worker.run_once()
    assert sender.sent == [fid, fid]


async def test_catch_up_after_downtime_sends_each_once_oldest_first_marked_late(engine, clock):
    clock.current = WED_10
    actor = setup(engine)
    ids = [schedule(engine, actor, WED_10 - timedelta(hours=h), explicit=True) for h in (1, 5, 3)]
    sender = Sender()
    await dispatcher(engine, sender, clock, worker="after-restart").run_once()
    assert sender.sent == [ids[1], ids[2], ids[0]]
    assert all(row(engine, i).sent_late for i in ids)
    await dispatcher(engine, sender, clock, worker="another").run_once()
    assert len(sender.sent) == 3


async def test_a_crash_between_sending_and_recording_does_not_send_twice(engine, clock):
    clock.current = WED_10
    actor = setup(engine)
    fid = schedule(engine, actor, WED_10, explicit=True)

    class CrashingSender(Sender):
        async def send_nudge(self, claimed):
            self.sent.append(claimed.follow_up_id)  # the platform accepted it…
            raise asyncio.CancelledError  # …and the process died before recording the message id

    crashing = CrashingSender()
    with pytest.raises(asyncio.CancelledError):
        await dispatcher(engine, crashing, clock, worker="dead").run_once()
    clock.advance(minutes=10)  # the dead worker's lease is long over
    survivor = Sender()
    await dispatcher(engine, survivor, clock, worker="survivor").run_once()
    assert crashing.sent == [fid] and survivor.sent == []
    saved = row(engine, fid)
    assert saved.status == "sent" and saved.message_id is None  # shown as "may not have arrived" on /status


async def test_a_crash_after_claiming_releases_the_claim_when_the_lease_ends(engine, clock):
    clock.current = WED_10
    actor = setup(engine)
    fid = schedule(engine, actor, WED_10, explicit=True)
    dead = dispatcher(engine, Sender(), clock, worker="dead")
    assert [c.follow_up_id for c in dead.claim()] == [fid]  # claimed, then the process died
    sender = Sender()
    await dispatcher(engine, sender, clock, worker="other").run_once()
    assert sender.sent == []
    clock.advance(minutes=3)
    await dispatcher(engine, sender, clock, worker="other").run_once()
    assert sender.sent == [fid]


async def test_rate_limits_and_failures_are_retried_never_dropped(engine, clock):
    clock.current = WED_10
    actor = setup(engine)
    fid = schedule(engine, actor, WED_10, explicit=True)
    sender = Sender()
    sender.failures = [RateLimited(7), DeliveryError("502 bad gateway"), ConnectionRefusedError()]
    worker = dispatcher(engine, sender, clock)
    await worker.run_once()
    assert row(engine, fid).next_attempt_at == WED_10 + timedelta(seconds=7)
    assert row(engine, fid).attempts == 0  # a 429 is not the nudge's fault
    clock.advance(seconds=7)
    await worker.run_once()
    assert row(engine, fid).attempts == 1 and "502" in row(engine, fid).last_error
    clock.advance(seconds=30)
    await worker.run_once()
    assert row(engine, fid).attempts == 2 and row(engine, fid).status == "pending"
    clock.advance(minutes=1)
    await worker.run_once()
    assert sender.sent == [fid] and row(engine, fid).status == "sent" and row(engine, fid).message_id == "m1"


@pytest.mark.parametrize("error", [DeliveryUncertain("timed out"), TimeoutError()])
async def test_a_timeout_is_never_resent_and_is_reported_as_maybe_not_arrived(engine, clock, error):
    clock.current = WED_10
    actor = setup(engine)
    fid = schedule(engine, actor, WED_10, explicit=True)
    sender = Sender()
    sender.failures = [error]
    worker = dispatcher(engine, sender, clock)
    assert await worker.run_once() == 0
    clock.advance(hours=7)
    assert await worker.run_once() == 0
    saved = row(engine, fid)
    assert saved.status == "sent" and saved.message_id is None and saved.claimed_by is None
    assert "may not have arrived" in saved.last_error and worker.uncertain == 1 and sender.sent == []


async def test_after_repeated_failure_the_nudge_stays_pending_and_flagged(engine, clock):
    clock.current = WED_10
    actor = setup(engine)
    fid = schedule(engine, actor, WED_10, explicit=True)
    sender = Sender()
    sender.failures = [DeliveryError("500")] * (MAX_ATTEMPTS + 1)
    worker = dispatcher(engine, sender, clock)
    for _ in range(MAX_ATTEMPTS):
        await worker.run_once()
        clock.advance(hours=1)
    saved = row(engine, fid)
    assert saved.status == "pending" and saved.attempts == MAX_ATTEMPTS and saved.last_error == "500"
    assert saved.next_attempt_at >= clock.current + timedelta(hours=4)  # slowly from now on, not dropped


async def test_unreachable_member_pauses_until_they_write_again(engine, clock):
    clock.current = WED_10
    actor = setup(engine)
    first = schedule(engine, actor, WED_10, explicit=True)
    second = schedule(engine, actor, WED_10, explicit=True)
    sender = Sender()
    sender.failures = [Unreachable("bot was blocked by the user")]
    worker = dispatcher(engine, sender, clock)
    await worker.run_once()
    assert sender.sent == []
    with session_scope(engine) as session:
        assert session.get(Member, actor.member_id).unreachable_since == WED_10
    clock.advance(hours=2)
    await worker.run_once()
    assert sender.sent == []
    with session_scope(engine) as session:
        mark_reachable(session, actor.member_id)
    await worker.run_once()
    assert sorted(sender.sent) == sorted([first, second])


async def test_done_while_claimed_is_not_sent(engine, clock):
    clock.current = WED_10
    actor = setup(engine)
    fid = schedule(engine, actor, WED_10, explicit=True)
    sender = Sender()
    worker = dispatcher(engine, sender, clock)
    worker.claim()
    with session_scope(engine) as session:
        followups.complete(session, actor, fid)
    await worker._deliver(Claimed(fid, actor.member_id, WED_10, False))
    assert sender.sent == []
    with session_scope(engine) as session:
        assert session.exec(select(FollowUp.status)).one() == "done"
