"""Claimers racing over one inbox table, with their own engines (as separate processes would be), and the
PostgreSQL wake-ups (LISTEN/NOTIFY).

The rule under test: one chat's rows are never held by two claimers at once and never taken out of order, by
any number of claimers; a dead claimer's rows are taken over once its lease runs out.

How "held at once" is checked without timing: a shared counter is read before each claim call, after it returns
and before each finish call. A row is held from its claim's commit (after the call started, before it returned)
to its finish's commit (after the finish call started). If the next row of the chat was claimed correctly, its
claim committed after the previous row's finish call started, so its claim call returned after that. A claim
returning before the previous row's finish even started is two rows of one chat held at once.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from core.db import make_engine
from core.models import InboxItem
from core.services import inbox

CHATS, PER_CHAT = 6, 30  # fewer chats than rows in flight at once: claimers meet on the same chats


class Journal:
    """What every claimer did, in one order (a counter under a lock)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ticks = itertools.count()
        self.claimed: dict[str, list[tuple[int, int]]] = defaultdict(list)  # chat → [(row id, tick claim returned)]
        self.finishing: dict[int, int] = {}  # row id → tick its finish call started
        self.by_worker: dict[str, list[int]] = defaultdict(list)

    def tick(self) -> int:
        with self.lock:
            return next(self.ticks)

    def took(self, worker: str, claims: list[inbox.Claim]) -> None:
        with self.lock:
            at = next(self.ticks)
            for claim in claims:
                self.claimed[claim.chat_key].append((claim.id, at))
                self.by_worker[worker].append(claim.id)

    def check(self, ids_per_chat: dict[str, list[int]]) -> None:
        for chat, ids in ids_per_chat.items():
            taken = self.claimed[chat]
            assert [row for row, _ in taken] == ids, f"{chat}: taken out of order or not exactly once"
            for (previous, _), (_, claimed_at) in itertools.pairwise(taken):
                assert claimed_at > self.finishing[previous], f"{chat}: two rows held at once"


def store_all(engine: Engine, start: int = 0, chats: int = CHATS, per_chat: int = PER_CHAT) -> None:
    """Rows of many chats interleaved, in batches, as a receiver stores them."""
    items = [(f"u:{start + i}", f"telegram:{i % chats}", {"n": start + i}) for i in range(chats * per_chat)]
    for offset in range(0, len(items), 25):
        with Session(engine) as session:
            inbox.store(session, "telegram", items[offset:offset + 25], datetime.now(UTC))
            session.commit()


def ids_per_chat(engine: Engine) -> dict[str, list[int]]:
    with Session(engine) as session:
        rows = session.exec(select(InboxItem.chat_key, InboxItem.id).order_by(col(InboxItem.id))).all()
    grouped: dict[str, list[int]] = defaultdict(list)
    for chat, row_id in rows:
        grouped[chat].append(row_id or 0)
    return grouped


def statuses(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        found: dict[str, int] = defaultdict(int)
        for status in session.exec(select(InboxItem.status)).all():
            found[status] += 1
        return dict(found)


def claimer(url: str, name: str, journal: Journal, stop: threading.Event, *, lease: float = 30.0,
            die_after_claim: bool = False) -> None:
    """Claim, hold each row briefly, finish it; until `stop` and nothing is left. With `die_after_claim`, claim
    once and vanish without finishing or renewing (a killed process)."""
    engine = make_engine(url)
    try:
        while True:
            try:
                with Session(engine) as session:
                    claims = inbox.claim(session, name, datetime.now(UTC), lease=lease, limit=4)
                    session.commit()
            except OperationalError:  # SQLite: another writer held the database past the busy timeout
                continue
            if claims:
                journal.took(name, claims)
            if die_after_claim and claims:
                return
            if not claims:
                if stop.is_set() and not any(s in statuses(engine) for s in inbox.OPEN):
                    return
                stop.wait(0.01)
                continue
            for claim in claims:
                for _ in range(3):  # a little work while the row is held: other claimers race meanwhile
                    with Session(engine) as session:
                        session.exec(select(InboxItem.id).where(InboxItem.chat_key == claim.chat_key)).all()
                journal.finishing[claim.id] = journal.tick()
                while True:
                    try:
                        with Session(engine) as session:
                            inbox.finish(session, name, claim.id)
                            session.commit()
                        break
                    except OperationalError:
                        continue
    finally:
        engine.dispose()


def run_claimers(engine: Engine, journal: Journal, names: list[str], *, store_while_running: bool = True,
                 lease: float = 30.0) -> None:
    url = engine.url.render_as_string(hide_password=False)
    stop = threading.Event()
    threads = [threading.Thread(target=claimer, args=(url, name, journal, stop), kwargs={"lease": lease})
               for name in names]
    for thread in threads:
        thread.start()
    if store_while_running:
        store_all(engine, start=10_000)  # more rows of the same chats arrive while they claim
    stop.set()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)


def test_claimers_never_hold_two_rows_of_a_chat_nor_take_them_out_of_order(engine):
    store_all(engine)
    journal = Journal()
    run_claimers(engine, journal, ["w1", "w2", "w3"])
    assert statuses(engine) == {"done": 2 * CHATS * PER_CHAT}
    journal.check(ids_per_chat(engine))
    assert sum(1 for rows in journal.by_worker.values() if rows) >= 2  # they really raced


def test_a_dead_claimers_rows_are_taken_over_after_its_lease(engine):
    store_all(engine)
    url = engine.url.render_as_string(hide_password=False)
    dead = Journal()
    claimer(url, "dead", dead, threading.Event(), lease=1.0, die_after_claim=True)
    held = dead.by_worker["dead"]
    assert held  # it died holding these rows, its lease running
    survivors = Journal()
    run_claimers(engine, survivors, ["w1", "w2"], store_while_running=False)
    assert statuses(engine) == {"done": CHATS * PER_CHAT}
    survivors.check(ids_per_chat(engine))  # every row once among the survivors, the dead one's included, in order
    with Session(engine) as session:
        attempts = {row.id: row.attempts for row in session.exec(select(InboxItem)).all()}
    assert {attempts[row] for row in held} == {2}


async def test_leases_hold_while_the_loop_is_held_longer_than_a_lease(engine):
    """The CRM's database calls block the event loop; the heartbeat (a thread) still renews every claimed row."""
    store_all(engine, chats=2, per_chat=1)
    done = {"u:0": asyncio.Event(), "u:1": asyncio.Event()}
    seen: dict[str, list[inbox.Claim]] = {}

    async def process(claim: inbox.Claim) -> None:
        if not seen:
            time.sleep(2.5)  # synchronous work holding the loop for 2.5 leases, the other row waiting behind it
            with Session(engine) as session:  # another process tries to take over
                seen["other"] = inbox.claim(session, "w2", datetime.now(UTC))
                session.commit()
        done[claim.key].set()

    worker = inbox.Inbox(engine, "w1", lease=1.0).processor("telegram", process, concurrency=2, idle_seconds=0.05)
    await worker.start()
    try:
        async with asyncio.timeout(60):
            for event in done.values():
                await event.wait()
    finally:
        await worker.stop()
    assert seen["other"] == []  # both rows were still leased to w1: neither is processed twice
    assert statuses(engine) == {"done": 2}


# -- wake-ups (PostgreSQL) --------------------------------------------------------------------------

def postgres_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite runs one process, woken in process")


async def test_a_row_stored_by_another_process_wakes_the_listener(engine):
    postgres_only(engine)
    woken = asyncio.Event()
    subscription = inbox.Wakeups.subscribe(engine, "telegram", woken.set)
    other = make_engine(engine.url.render_as_string(hide_password=False))  # another process's engine
    try:
        async with asyncio.timeout(30):
            await subscription.ready.wait()
            woken.clear()  # connecting wakes every subscriber once
            with Session(other) as session:
                inbox.store(session, "slack", [("e:1", "slack:T:U", {})], datetime.now(UTC))
                session.commit()
            with Session(other) as session:
                inbox.store(session, "telegram", [("u:1", "telegram:1", {})], datetime.now(UTC))
                session.commit()
            await woken.wait()
        assert subscription.wakeups.subscribers == {"telegram": [woken.set]}
    finally:
        await subscription.close()
        other.dispose()
    assert subscription.wakeups.task is not None and subscription.wakeups.task.done()


async def test_a_worker_with_an_hour_long_poll_takes_a_row_stored_elsewhere(engine):
    postgres_only(engine)
    done: dict[str, asyncio.Event] = {"u:1": asyncio.Event(), "u:2": asyncio.Event()}

    async def process(claim: inbox.Claim) -> None:
        done[claim.key].set()

    worker = inbox.Inbox(engine, "w1").processor("telegram", process, idle_seconds=3600)
    other = inbox.Inbox(make_engine(engine.url.render_as_string(hide_password=False)), "receiver")
    await worker.start()
    try:
        async with asyncio.timeout(30):
            assert worker.wakeups is not None
            await worker.wakeups.ready.wait()
            await other.store("telegram", [("u:1", "telegram:1", {})])
            await done["u:1"].wait()
            await other.store("telegram", [("u:2", "telegram:1", {})])
            await done["u:2"].wait()
    finally:
        await worker.stop()
        other.engine.dispose()
    assert worker.wakeups is None
    assert statuses(engine) == {"done": 2}
