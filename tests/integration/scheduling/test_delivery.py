"""Concurrent delivery on real SQLite and PostgreSQL: chats do not wait for each other, limits hold,
claims fit the lease, and the APScheduler clock wakes at the due time, on demand and on start."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlmodel import select

from core.db import session_scope
from core.models import FollowUp, Member
from core.ports import SystemClock
from core.scheduling import Claimed, Dispatcher, FollowUpScheduler
from core.scheduling.limits import Pacer
from core.scheduling.notices import undeliverable
from core.services import customers, followups, teams
from core.services.actor import Actor

WED_10 = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Taipei


class TimedSender:
    """Records (follow-up, member, monotonic time) for every send; one chat per member."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int, float]] = []

    async def destination(self, claimed: Claimed):
        return ("test", f"chat-{claimed.member_id}")

    async def send_nudge(self, claimed: Claimed):
        self.sent.append((claimed.follow_up_id, claimed.member_id, time.monotonic()))
        await asyncio.sleep(0.005)  # a platform round trip
        return f"test:chat-{claimed.member_id}", f"m{claimed.follow_up_id}"

    def ids(self) -> list[int]:
        return [fid for fid, _, _ in self.sent]

    def times(self, member_id: int) -> list[float]:
        return [at for _, member, at in self.sent if member == member_id]


def team(engine, members: int) -> list[Actor]:
    with session_scope(engine) as session:
        owner = teams.found_team(session, teams.Newcomer("test", "1", "dm1", "Amy"))
        others = [Member(team_id=owner.team_id, name=f"Sales {i}") for i in range(members - 1)]
        session.add_all(others)
        session.flush()
        return [Actor.of(owner)] + [Actor.of(m) for m in others]


def schedule(engine, actor: Actor, due: datetime, n: int = 1) -> list[int]:
    with session_scope(engine) as session:
        customer = customers.create_customer(session, actor, f"Acme {actor.member_id}")
        return [followups.schedule(session, actor, due_at=due + timedelta(seconds=i), action=f"call {i}",
                                   customer_id=customer.id, explicit_time=True).id for i in range(n)]


async def until(condition, timeout: float = 60.0) -> None:
    """Wait for the real scheduler to act; the bound is a timeout (far below the 10-minute sweep), not a target."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


def rows(engine) -> list[FollowUp]:
    with session_scope(engine) as session:
        return list(session.exec(select(FollowUp).order_by(FollowUp.id)))


async def test_other_chats_go_on_while_one_chat_waits_its_gap(engine, clock):
    clock.current = WED_10
    a, b, c = team(engine, 3)
    many = schedule(engine, a, WED_10 - timedelta(minutes=5), 3)
    [for_b] = schedule(engine, b, WED_10 - timedelta(minutes=1))
    [for_c] = schedule(engine, c, WED_10 - timedelta(minutes=1))
    sender = TimedSender()
    worker = Dispatcher(engine, sender, clock, pacer=Pacer({"test": (1000.0, 0.2)}))
    assert await worker.run_once() == 5
    assert sorted(sender.ids()) == sorted([*many, for_b, for_c])
    assert [fid for fid in sender.ids() if fid in many] == many  # one chat in order
    second_of_a = sender.ids().index(many[1])
    assert {for_b, for_c} <= set(sender.ids()[:second_of_a])  # b and c did not wait behind a
    gaps = [later - earlier for earlier, later in pairwise(sender.times(a.member_id))]
    assert all(gap >= 0.2 for gap in gaps)  # a's chat never got two within its gap
    assert all(r.status == "sent" and r.message_id == f"m{r.id}" and r.claimed_by is None for r in rows(engine))


async def test_the_platform_rate_holds_across_chats(engine, clock):
    clock.current = WED_10
    actors = team(engine, 12)
    for actor in actors:
        schedule(engine, actor, WED_10 - timedelta(minutes=1))
    sender = TimedSender()
    assert await Dispatcher(engine, sender, clock, pacer=Pacer({"test": (5.0, 1.0)})).run_once() == 12
    departures = sorted(at for _, _, at in sender.sent)
    busiest = max(sum(1 for later in departures if 0 <= later - at < 1.0) for at in departures)
    assert busiest <= 5  # never more than 5 in any one second, however the loop was scheduled


async def test_a_chat_claims_only_what_it_can_send_within_the_lease(engine, clock):
    clock.current = WED_10
    [a] = team(engine, 1)
    ids = schedule(engine, a, WED_10 - timedelta(hours=1), 8)
    sender = TimedSender()
    worker = Dispatcher(engine, sender, clock, lease=timedelta(seconds=1), pacer=Pacer({"test": (1000.0, 0.1)}))
    assert await worker.run_once() == 5  # half the lease / the chat's gap
    assert sender.ids() == ids[:5]
    assert all(r.status == "pending" and r.claimed_by is None for r in rows(engine) if r.id in ids[5:])
    assert await worker.run_once() == 3
    assert sender.ids() == ids


async def test_a_member_with_a_nudge_in_flight_elsewhere_waits_for_that_process(engine, clock):
    clock.current = WED_10
    a, b = team(engine, 2)
    first, second = schedule(engine, a, WED_10 - timedelta(minutes=2), 2)
    [for_b] = schedule(engine, b, WED_10 - timedelta(minutes=1))
    dead = Dispatcher(engine, TimedSender(), clock, worker="dead", batch=1)
    assert [c.follow_up_id for c in dead.claim()] == [first]  # then the process died
    sender = TimedSender()
    other = Dispatcher(engine, sender, clock, worker="other")
    assert await other.run_once() == 1 and sender.ids() == [for_b]  # a's chat belongs to "dead" for now
    clock.advance(minutes=3)
    assert await other.run_once() == 2 and sender.ids() == [for_b, first, second]


async def test_on_start_everything_overdue_is_sent_once_oldest_first_marked_late(engine, clock):
    clock.current = WED_10
    a, b = team(engine, 2)
    old = schedule(engine, a, WED_10 - timedelta(days=3))
    older = schedule(engine, b, WED_10 - timedelta(days=5))
    future = schedule(engine, a, WED_10 + timedelta(days=1), 50)
    sender = TimedSender()
    scheduler = FollowUpScheduler(Dispatcher(engine, sender, clock), None, clock, interval=60)
    await scheduler.start()
    try:
        await until(lambda: len(sender.sent) >= 2)
        assert len(scheduler._scheduler.get_jobs()) <= 3  # the sweep and one wake-up, never a job per reminder
    finally:
        await scheduler.stop()
    assert sender.ids() == older + old
    sent = {r.id: r for r in rows(engine)}
    assert all(sent[i].sent_late and sent[i].status == "sent" for i in old + older)
    assert all(sent[i].status == "pending" for i in future)


async def test_the_clock_wakes_at_the_due_time_and_on_demand_not_on_the_next_sweep(engine):
    clock = SystemClock()
    [a] = team(engine, 1)
    [soon] = schedule(engine, a, clock.now() + timedelta(seconds=1))
    sender = TimedSender()
    scheduler = FollowUpScheduler(Dispatcher(engine, sender, clock), None, clock, interval=600)
    await scheduler.start()
    try:
        await until(lambda: bool(sender.sent))
        assert sender.ids() == [soon]  # woken at the due time: the sweep would come only after 10 minutes
        [now] = schedule(engine, a, clock.now())
        scheduler.wake()
        await until(lambda: len(sender.sent) == 2)
        assert sender.ids() == [soon, now]
    finally:
        await scheduler.stop()
    sent = {r.id: r for r in rows(engine)}
    assert sent[soon].sent_at >= sent[soon].due_at


async def test_stopping_gives_unsent_claims_back_at_once(engine, clock):
    clock.current = WED_10
    [a] = team(engine, 1)
    ids = schedule(engine, a, WED_10 - timedelta(minutes=1), 5)
    sender = TimedSender()
    worker = Dispatcher(engine, sender, clock, pacer=Pacer({"test": (1000.0, 0.5)}))
    assert await worker.pump() == 5
    while not sender.sent:
        await asyncio.sleep(0.01)
    await worker.close(timeout=0.1)
    saved = {r.id: r for r in rows(engine)}
    assert sender.ids() == ids[:1] and saved[ids[0]].status == "sent"
    assert all(saved[i].status == "pending" and saved[i].claimed_by is None for i in ids[1:])  # no lease to wait out


class GatedSender(TimedSender):
    """Holds every platform call until the test lets it finish, with an answer or a timeout."""

    def __init__(self) -> None:
        super().__init__()
        self.on_wire = asyncio.Event()
        self.answer = asyncio.Event()
        self.fail_with: BaseException | None = None

    async def send_nudge(self, claimed: Claimed):
        self.on_wire.set()
        await self.answer.wait()
        if self.fail_with is not None:
            raise self.fail_with
        return await super().send_nudge(claimed)


@pytest.mark.parametrize("outcome", ["answered", "timed out"])
async def test_a_snooze_while_the_call_is_out_is_not_overwritten_by_its_outcome(engine, clock, outcome):
    clock.current = WED_10
    [amy] = team(engine, 1)
    [fid] = schedule(engine, amy, WED_10 - timedelta(minutes=1))
    sender = GatedSender()
    if outcome == "timed out":
        sender.fail_with = TimeoutError()
    worker = Dispatcher(engine, sender, clock, pacer=Pacer({}))
    delivery = asyncio.create_task(worker.run_once())
    await asyncio.wait_for(sender.on_wire.wait(), 10)
    with session_scope(engine) as session:  # Snooze pressed (e.g. from /todo) while the nudge is on the wire
        followups.snooze(session, amy, fid, WED_10 + timedelta(hours=1), explicit_time=True)
    sender.answer.set()
    await asyncio.wait_for(delivery, 10)
    [row] = rows(engine)
    assert (row.status, row.message_id, row.last_error) == ("snoozed", None, None)
    with session_scope(engine) as session:
        assert undeliverable(session, amy.member_id, clock.now()) == []


def test_while_one_process_claims_a_member_another_skips_that_member(engine, clock):
    """PostgreSQL: the claim locks the member row too, so a second process cannot serve the same chat."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has a single writer: claims never overlap")
    clock.current = WED_10
    amy, bob = team(engine, 2)
    schedule(engine, amy, WED_10 - timedelta(minutes=2), 2)
    [for_bob] = schedule(engine, bob, WED_10 - timedelta(minutes=1))
    first = Dispatcher(engine, TimedSender(), clock, worker="A")
    second = Dispatcher(engine, TimedSender(), clock, worker="B")
    with engine.connect() as connection, connection.begin():
        # process A's claim statement has run and is not committed yet: the same statement, one row
        taken = connection.execute(first.claim_statement(clock.now(), 1)).all()
        assert [row.member_id for row in taken] == [amy.member_id]
        assert [c.follow_up_id for c in second.claim()] == [for_bob]  # not Amy's second nudge


async def test_periodic_jobs_run_at_start_and_a_failing_run_does_not_stop_the_next(engine, clock):
    from core.scheduling import PeriodicJob

    runs: list[datetime] = []
    two_runs = asyncio.Event()

    async def flaky(now: datetime) -> int:
        runs.append(now)
        if len(runs) == 1:
            raise RuntimeError("the first run fails")
        two_runs.set()
        return 1

    scheduler = FollowUpScheduler(Dispatcher(engine, TimedSender(), clock), None, clock, interval=600)
    scheduler.add_periodic(PeriodicJob("flaky", 0.05, flaky))
    await scheduler.start()
    try:
        await asyncio.wait_for(two_runs.wait(), 10)
    finally:
        await scheduler.stop()
    assert runs[0] == clock.now()  # the job gets the app's clock, not the wall clock
    assert await scheduler.run_periodic(PeriodicJob("ok", 60, flaky)) == 1
