"""SharedPacer (core.scheduling.shared_limits): three pacers, each with its own engine and event loop in its own
thread (as three processes would be), on one PostgreSQL database, hold one platform rate and one per-chat gap
together; a 429 one of them saw holds the others back; a caller's slot is the messenger's (one reservation)."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import defaultdict
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from core.db import make_engine
from core.scheduling.limits import PLATFORM_LIMITS
from core.scheduling.shared_limits import SharedPacer
from tests.conftest import drop_postgres, fresh_postgres, postgres_url

pytestmark = pytest.mark.postgres
PACERS, MESSAGES, CHATS = 3, 120, 40
CAP, GAP = 30, 1.0  # Telegram: 30 in any one second, 1 s between two messages to one chat
LIMITS = {"telegram": PLATFORM_LIMITS["telegram"]}


@pytest.fixture
def database(postgres_template: str) -> Iterator[str]:
    engine, name = fresh_postgres(postgres_template)
    engine.dispose()
    yield postgres_url(name)
    drop_postgres(name)


def run_pacer(url: str, work, results: list, index: int) -> None:
    """One "process": its own engine, pacer and event loop; `work(pacer)` is awaited there."""
    engine = make_engine(url)
    pacer = SharedPacer(engine, LIMITS)
    try:
        results[index] = asyncio.run(work(pacer))
    except BaseException as error:  # reported by the test thread
        results[index] = error
    finally:
        pacer.close()
        engine.dispose()


def in_threads(url: str, works: list) -> list:
    results: list = [None] * len(works)
    threads = [threading.Thread(target=run_pacer, args=(url, work, results, i)) for i, work in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_three_pacers_hold_the_rate_and_the_chat_gap_together(database):
    def sender(offset: int):
        async def work(pacer: SharedPacer) -> list[tuple[float, str]]:
            departures: list[tuple[float, str]] = []

            async def send(n: int) -> None:
                chat = f"chat-{(n + offset) % CHATS}"
                await pacer.wait("telegram", chat)
                departures.append((time.monotonic(), chat))  # the request would leave now

            await asyncio.gather(*(send(n) for n in range(MESSAGES)))
            return departures
        return work

    results = in_threads(database, [sender(offset * 7) for offset in range(PACERS)])
    departures = [d for result in results for d in result]
    assert len(departures) == PACERS * MESSAGES
    assert most_in_one_second([moment for moment, _ in departures]) <= CAP
    per_chat: defaultdict[str, list[float]] = defaultdict(list)
    for moment, chat in departures:
        per_chat[chat].append(moment)
    shortest = min(b - a for moments in per_chat.values() for a, b in itertools.pairwise(sorted(moments)))
    assert shortest >= GAP
    assert {len(moments) for moments in per_chat.values()} == {PACERS * MESSAGES // CHATS}  # every chat shared


def test_a_back_off_holds_every_pacer(database):
    seen = threading.Event()
    backed_off = threading.Event()

    async def hit_429(pacer: SharedPacer) -> float:
        await pacer.wait("telegram", "chat-a")
        pacer.back_off("telegram", 2.0)  # Telegram said: retry after 2 s
        pacer.flush()
        at = time.monotonic()
        backed_off.set()
        return at

    async def other(pacer: SharedPacer) -> float:
        await pacer.wait("telegram", "chat-b")  # the rows exist; this pacer is warm
        seen.set()
        while not backed_off.is_set():
            await asyncio.sleep(0.01)
        await pacer.wait("telegram", "chat-c")  # a chat nobody used: only the platform's pause holds it
        return time.monotonic()

    paused_at, sent_at = in_threads(database, [hit_429, other])
    assert seen.is_set()
    assert sent_at >= paused_at + 2.0 - 0.05  # the database's clock and this one agree to well under 50 ms
    engine = make_engine(database)
    with engine.connect() as connection:
        chats = set(connection.execute(text("SELECT chat FROM sendslot WHERE platform = 'telegram'")).scalars())
    engine.dispose()
    assert {chat for chat in chats if not chat.startswith("#")} == {"", "chat-a", "chat-b", "chat-c"}
    assert {chat for chat in chats if chat.startswith("#")} == {f"#{n}" for n in range(29)}  # floor(29.5) lanes


def test_a_callers_slot_is_the_messengers(database):
    """The dispatcher reserves (wait with `then`), the messenger's limiter waits again: one slot, not two."""
    async def work(pacer: SharedPacer) -> tuple[int, int, float]:
        marked: list[str] = []

        async def mark() -> bool:
            marked.append("sent")
            return True

        async def deliver(chat: str) -> None:
            assert await pacer.wait("telegram", chat, then=mark)  # core.scheduling.dispatch
            await pacer.wait("telegram", chat, held=True)  # adapters.telegram.rate_limit, in the same task
            pacer.done("telegram", chat)  # answered

        await deliver("chat-a")
        once = pacer.reservations
        started = time.monotonic()
        await deliver("chat-a")  # the next nudge to that chat: its gap, one reservation again
        return once, pacer.reservations, time.monotonic() - started

    [(once, twice, waited)] = in_threads(database, [work])
    assert (once, twice) == (1, 2)
    assert waited >= GAP


def test_a_refused_slot_is_not_a_pass(database):
    """`then` returning False (the nudge was done meanwhile) leaves no pass: the next send reserves its own."""
    async def work(pacer: SharedPacer) -> int:
        async def refuse() -> bool:
            return False

        assert not await pacer.wait("telegram", "chat-a", then=refuse)
        await pacer.wait("telegram", "chat-a")
        return pacer.reservations

    assert in_threads(database, [work]) == [2]


def test_a_chat_in_flight_is_taken_for_every_pacer_until_its_answer(database):
    """A held request (python-telegram-bot's limiter) keeps its chat until `done`; the next message to that chat,
    from another pacer, leaves a gap after the answer, however slow the first one was on its way."""
    answered = threading.Event()
    waiting = threading.Event()

    async def slow_request(pacer: SharedPacer) -> float:
        await pacer.wait("telegram", "chat-a", held=True)
        while not waiting.is_set():  # the other pacer is waiting for the chat…
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.5)  # …while this request is still on its way (longer than the gap)
        pacer.done("telegram", "chat-a")
        pacer.flush()
        at = time.monotonic()
        answered.set()
        return at

    async def next_message(pacer: SharedPacer) -> float:
        await pacer.wait("telegram", "chat-b")  # warm: rows and connections ready
        await asyncio.sleep(0.2)  # the slow request has reserved chat-a by now
        waiting.set()
        await pacer.wait("telegram", "chat-a")
        assert answered.is_set()
        return time.monotonic()

    answered_at, sent_at = in_threads(database, [slow_request, next_message])
    assert sent_at >= answered_at + GAP


def test_the_messengers_own_slot_is_no_pass(database):
    """Two messages in a row to one chat from one task (a reply in two parts): the second waits its gap."""
    async def work(pacer: SharedPacer) -> tuple[int, float]:
        await pacer.wait("telegram", "chat-a", held=True)
        pacer.done("telegram", "chat-a")
        first = time.monotonic()
        await pacer.wait("telegram", "chat-a", held=True)
        pacer.done("telegram", "chat-a")
        return pacer.reservations, time.monotonic() - first

    [(reservations, waited)] = in_threads(database, [work])
    assert reservations == 2
    assert waited >= GAP
