"""Short nudge leases renewed by a heartbeat (controlled clock): a crashed process's nudges move on within
one lease; a live process keeps its claims as long as it beats; closing hands claims back at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core.scheduling import Dispatcher
from core.scheduling.dispatch import LEASE
from core.scheduling.limits import Pacer
from tests.integration.scheduling.test_dispatch import WED_10, Sender, dispatcher, row, schedule, setup


def test_the_default_lease_is_seconds_not_minutes():
    assert timedelta(seconds=15) <= LEASE <= timedelta(seconds=30)


async def test_a_crashed_process_s_nudge_moves_on_within_one_lease(engine, clock):
    clock.current = WED_10
    actor = setup(engine)
    fid = schedule(engine, actor, WED_10, explicit=True)
    dead = dispatcher(engine, Sender(), clock, worker="dead")
    assert [c.follow_up_id for c in dead.claim()] == [fid]  # claimed, then the process died (no heartbeat)
    other = Sender()
    clock.advance(seconds=LEASE.total_seconds() - 1)
    await dispatcher(engine, other, clock, worker="other").run_once()
    assert other.sent == []  # still within the dead process's lease
    clock.advance(seconds=2)
    await dispatcher(engine, other, clock, worker="other").run_once()
    assert other.sent == [fid]


async def test_the_heartbeat_keeps_a_live_claim_and_stops_when_the_process_dies(engine, clock):
    clock.current = WED_10
    actor = setup(engine)
    fid = schedule(engine, actor, WED_10, explicit=True)
    alive = dispatcher(engine, Sender(), clock, worker="alive")
    claimed = alive.claim()
    alive._queued.update(c.follow_up_id for c in claimed)  # working on it (e.g. waiting for the pacer)
    for _ in range(5):  # five beats, each a third of a lease apart: well past the first lease
        clock.advance(seconds=LEASE.total_seconds() / 3)
        assert alive.renew() == 1
    assert row(engine, fid).claimed_until == clock.now() + LEASE
    other = Sender()
    await dispatcher(engine, other, clock, worker="other").run_once()
    assert other.sent == []  # the live process still holds it
    clock.advance(seconds=LEASE.total_seconds() + 1)  # no beat for a whole lease: the process is gone
    await dispatcher(engine, other, clock, worker="other").run_once()
    assert other.sent == [fid]
    assert alive.renew() == 0  # a late beat does not take the claim back


async def test_the_heartbeat_runs_while_a_delivery_waits(engine, clock):
    clock.current = WED_10
    actor = setup(engine)
    fid = schedule(engine, actor, WED_10, explicit=True)
    gate = asyncio.Event()
    beats: list[int] = []

    class SlowSender(Sender):
        async def send_nudge(self, claimed):
            await gate.wait()
            return await super().send_nudge(claimed)

    worker = Dispatcher(engine, SlowSender(), clock, lease=timedelta(seconds=0.3), pacer=Pacer({}))
    renew = worker.renew

    def counted() -> int:
        beats.append(renew())
        return beats[-1]

    worker.renew = counted  # type: ignore[method-assign]
    await worker.pump()
    while len(beats) < 2:  # the heartbeat renews the in-flight claim (sentinel: two beats seen)
        await asyncio.sleep(0.02)
    assert beats[:2] == [1, 1]
    gate.set()
    await worker.drain()
    assert row(engine, fid).status == "sent" and row(engine, fid).claimed_by is None
    await worker.close()


async def test_closing_hands_unsent_claims_back_at_once(engine, clock):
    clock.current = WED_10
    actor = setup(engine)
    fid = schedule(engine, actor, WED_10, explicit=True)
    worker = Dispatcher(engine, Sender(), clock, pacer=Pacer({"test": (30.0, 1.0)}))
    worker.pacer.back_off("test", 3600)  # the platform said wait: the claim sits in the queue
    await worker.pump()
    assert row(engine, fid).claimed_by == worker.worker
    await worker.close(timeout=0.1)
    saved = row(engine, fid)
    assert saved.claimed_by is None and saved.status == "pending"
    other = Sender()
    await dispatcher(engine, other, clock, worker="other").run_once()
    assert other.sent == [fid]  # taken over at once, no lease to wait out
