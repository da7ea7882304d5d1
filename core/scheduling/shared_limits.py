"""Platform limits held by every process on one PostgreSQL database: the `sendslot` table (migration 0018).

`SharedPacer` has the in-process `Pacer`'s interface (wait / done / back_off / gap / rate / chat_ready_in). Two
kinds of rows hold the next free departure on the database's clock: the platform's (chat '') and each chat's. A
departure is reserved with ONE statement:

- the chat row is locked (`FOR UPDATE`; chat before platform in every statement, so no deadlock);
- only if the chat is free now, the platform row moves to `greatest(next_free_at, now) + spacing` (its old value,
  or now, is the departure) and the chat row to that departure + the chat gap;
- if the chat is not free yet, nothing changes and the answer is how long until it is: a chat waits for its gap
  outside the platform queue, so a busy chat never pushes the others back.

The caller sleeps until its departure (tasks of one process for one chat queue behind a local lock, so only one
of them asks the database). Departures are `spacing` apart across all processes; a process that wakes more than
`LATE` after its slot (a busy machine, a stalled loop) does not send late — bunched with the next slots — but takes
a new slot; so the requests leaving in any one-second window stay within the platform's cap, and two to one chat
are at least the gap apart: `spacing = (1 + LATE) / rate` and the gap is `gap + LATE`, the lateness allowed is paid
for in the reservation. A 429 (`back_off`) moves the platform row (or the chat's) past the pause, for every
process; this process also holds back at once. The rows are created on first use.

Callers that reserve a slot before the messenger does (the dispatcher's `wait(..., then=mark)`, the notices'
`wait`) leave a *pass* in their asyncio context: the messenger's own `wait(..., held=True)` that follows for the
same platform and chat in that context (adapters.telegram.rate_limit) uses the slot already reserved instead of
reserving a second one; a pass is used once, and only by a held wait. A pass used later than `LATE` after its
slot takes a new slot (the chat's gap is not waited again when no other message to it was reserved since). The
Slack adapter's plain `wait` takes a slot of its own (a nudge to Slack reserves twice: slower, never too fast).

A request whose answer will be reported (`wait(..., then=...)`, `wait(..., held=True)`, then `done`) keeps its chat
taken for every process until the answer — the chat row reads departure + `HOLD` — and `done` frees it a gap after
the answer: on a starved machine a request can reach the platform long after its departure, and the next one to
that chat must not arrive within the gap of it. Without `done` (a process killed in flight) the chat is free
`HOLD` after the departure. Other processes look at a taken chat every `BUSY_POLL`.

When the database does not answer, the process paces on its own (an in-process `Pacer`) and says so in the log.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, create_engine, text

from core.scheduling.limits import PLATFORM_LIMITS, Pacer

log = logging.getLogger(__name__)
LATE = 0.04  # seconds a departure may follow its slot; later, a new slot is taken
# a request that leaves the pacer may still reach the platform late (its process's event loop busy with the CRM's
# own work in between: measured up to ~0.5 s), so spacing alone lets stragglers bunch with the next slots in one of
# the platform's one-second windows (8 of 322 messages over Telegram's 30/s). Hence the lanes: `floor(rate)` rows
# per platform ('#0', '#1', …); a message takes the lane free soonest, and its lane stays taken until one second
# after its answer (`done`; `HOLD` if none comes, `1 s + ARRIVAL` after the departure for a wait that reports no
# answer). A request reaches the platform after its departure and before its answer, so two on one lane are more
# than a second apart at the platform: at most `floor(rate)` in any one-second window, however late they travel.
ARRIVAL = 0.5
LANE_POLL = 0.02  # seconds between looks while every lane is in flight
# the lanes' chats start with '#' (no Telegram or Slack chat id does)
HOLD = 10.0  # seconds a chat stays taken by a request awaiting its answer (`held`), unless `done` frees it sooner
BUSY_POLL = 0.1  # seconds between looks at a chat taken by a request in flight
EARLY = 0.005  # a chat counts as free this much before its time (the event loop may wake a little early)
PLATFORM_CHAT = ""  # the platform-wide row's chat
LONE_CHAT = "-"  # stands for an empty chat id (the platform row's key is taken)

RESERVE = text("""
WITH chat_row AS (
    SELECT next_free_at FROM sendslot WHERE platform = :platform AND chat = :chat FOR UPDATE
), chat_free AS (
    SELECT 1 FROM chat_row
    WHERE next_free_at <= clock_timestamp() + make_interval(secs => :early) OR next_free_at = :ours
), lane AS (
    SELECT chat, next_free_at FROM sendslot
    WHERE platform = :platform AND chat LIKE '#%' AND EXISTS (SELECT 1 FROM chat_free)
      AND next_free_at <= clock_timestamp() + make_interval(secs => :lane_soon)
    ORDER BY next_free_at LIMIT 1 FOR UPDATE SKIP LOCKED
), platform_slot AS (
    UPDATE sendslot SET next_free_at = greatest(sendslot.next_free_at, clock_timestamp(), lane.next_free_at)
                                       + make_interval(secs => :spacing)
    FROM lane WHERE sendslot.platform = :platform AND sendslot.chat = ''
    RETURNING sendslot.next_free_at - make_interval(secs => :spacing) AS departure
), lane_slot AS (
    UPDATE sendslot SET next_free_at = platform_slot.departure + make_interval(secs => :lane_hold)
    FROM platform_slot, lane WHERE sendslot.platform = :platform AND sendslot.chat = lane.chat
    RETURNING sendslot.chat AS lane, sendslot.next_free_at AS lane_until
), chat_slot AS (
    UPDATE sendslot SET next_free_at = platform_slot.departure + make_interval(secs => :gap)
    FROM platform_slot WHERE sendslot.platform = :platform AND sendslot.chat = :chat
    RETURNING sendslot.next_free_at AS chat_free, platform_slot.departure
)
SELECT CAST(extract(epoch FROM coalesce((SELECT departure FROM chat_slot), (SELECT next_free_at FROM chat_row))
                                - clock_timestamp()) AS float8) AS delay,
       (SELECT chat_free FROM chat_slot) AS chat_free,
       (SELECT lane FROM lane_slot) AS lane, (SELECT lane_until FROM lane_slot) AS lane_until,
       EXISTS (SELECT 1 FROM chat_free) AND NOT EXISTS (SELECT 1 FROM lane) AS lanes_busy
""")  # chat_free NULL: the chat is not free yet (delay: until it is) or no lane is free soon — all in flight, or
# locked by other reservations this instant (lanes_busy): ask again; else the slot, the chat row's new value and
# the lane taken
ENSURE = text("INSERT INTO sendslot (platform, chat, next_free_at) "
              "SELECT :platform, chat, clock_timestamp() FROM (VALUES (''), (:chat)) AS rows (chat) "
              "UNION ALL SELECT :platform, '#' || lane, clock_timestamp() FROM generate_series(0, :lanes - 1) AS lane "
              "ON CONFLICT (platform, chat) DO NOTHING")
ANSWERED = text("UPDATE sendslot SET next_free_at = clock_timestamp() + make_interval(secs => :gap) "
                "WHERE platform = :platform AND chat = :chat AND next_free_at = :held")
LANE_FREE = text("UPDATE sendslot SET next_free_at = clock_timestamp() + make_interval(secs => :after) "
                 "WHERE platform = :platform AND chat = :lane AND next_free_at = :held")
BACK_OFF = text("UPDATE sendslot SET next_free_at = greatest(next_free_at, clock_timestamp() + make_interval(secs => "
                ":seconds)) WHERE platform = :platform AND chat = :chat")


@dataclass(frozen=True)
class _Hold:
    """What one request in flight holds: its chat row's and its lane row's reserved values."""

    chat_free: datetime
    lane: str | None
    lane_until: datetime | None


@dataclass
class _Pass:
    """A slot reserved by a caller for the messenger's request that follows (see the module docstring)."""

    pacer: int
    platform: str
    chat: str
    departure: float  # time.monotonic() of the slot
    chat_free: datetime | None  # the chat row as this reservation left it
    used: bool = False  # mutable: a context copied into a task (asyncio.wait_for) uses the same pass


_PASS: ContextVar[_Pass | None] = ContextVar("chatcrm_send_pass", default=None)


class SharedPacer:
    """`await wait(platform, chat)` returns when a message may leave now, counting every process's messages."""

    def __init__(self, engine: Engine, limits: dict[str, tuple[float, float]] | None = None, *,
                 late: float = LATE, threads: int = 4) -> None:
        self.engine = engine
        # its own few connections: one statement each, autocommitted, not waiting for the WAL flush (a slot lost
        # in a database crash only means one message may leave a little early once); the app's pool is untouched
        self._slots = create_engine(engine.url, pool_size=threads, max_overflow=0, pool_pre_ping=True,
                                    isolation_level="AUTOCOMMIT",
                                    connect_args={"options": "-c synchronous_commit=off"})
        self._limits = limits if limits is not None else PLATFORM_LIMITS
        self.late = late
        self._local = Pacer(self._limits)  # while the database does not answer
        self._known: set[tuple[str, str]] = set()  # rows this process has made sure exist
        self._paused_until: dict[str, float] = defaultdict(float)
        self._chat_free: dict[tuple[str, str], float] = defaultdict(float)  # this process's own reservations
        self._db_thread = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="send-slots")
        self._writes: set[Future] = set()  # back-offs on their way to the database
        self._holds: dict[tuple[str, str], _Hold] = {}  # chats (and their lanes) taken until the answer
        self._chat_locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self.reservations = self.retakes = 0  # totals since start (a retake: a new slot after a late wake-up)

    # -- the Pacer interface -------------------------------------------------------------------
    def gap(self, platform: str) -> float:
        """Seconds between two messages to one chat on this platform (0 when unlimited)."""
        limit = self._limits.get(platform)
        return limit[1] + self.late if limit else 0.0

    def rate(self, platform: str) -> float | None:
        """Messages per second on this platform, all processes together."""
        limit = self._limits.get(platform)
        return limit[0] / (1 + self.late) if limit else None

    def spacing(self, platform: str) -> float:
        limit = self._limits.get(platform)
        return (1 + self.late) / limit[0] if limit else 0.0

    def lanes(self, platform: str) -> int:
        limit = self._limits.get(platform)
        return max(1, math.floor(limit[0])) if limit else 1

    def chat_ready_in(self, platform: str, chat: str) -> float:
        """As far as this process knows (another process may have reserved the chat since)."""
        return max(0.0, self._chat_free[(platform, chat)] - time.monotonic())

    async def wait(self, platform: str, chat: str, then: Callable[[], Awaitable[bool]] | None = None, *,
                   held: bool = False) -> bool:
        """Wait for a slot; `then` (e.g. marking the nudge sent) runs in it, and False gives the slot up.

        With `then` or `held`, the chat stays taken (for every process) until `done(platform, chat)` reports the
        answer, and is free `gap` after it — a request slowed on its way cannot arrive within the gap of the
        next one — or, if no answer is reported, `HOLD` after the departure. A caller's wait leaves a pass for the
        messenger's wait that follows in the same context."""
        if platform not in self._limits:
            return await then() if then else True
        chat = chat or LONE_CHAT
        ours: datetime | None = None
        given = _PASS.get()
        if held and given is not None and not given.used and given.pacer == id(self) \
                and (given.platform, given.chat) == (platform, chat):
            given.used = True  # the messenger's request for the slot its caller reserved
            if time.monotonic() - given.departure <= self.late:
                return True
            ours = given.chat_free  # late: a new slot, but not the chat's gap again for our own reservation
        departure, chat_free = await self._slot(platform, chat, ours, held or then is not None)
        if then is not None and not await then():
            self.done(platform, chat)
            return False
        if not held:  # a caller's slot: the messenger's held wait that follows in this context uses it
            _PASS.set(_Pass(id(self), platform, chat, departure, chat_free))
        return True

    def done(self, platform: str, chat: str) -> None:
        """The request a held wait let go was answered (or failed): its chat is free `gap` from now."""
        held = self._holds.pop((platform, chat or LONE_CHAT), None)
        if held is not None:
            self._write(ANSWERED, {"platform": platform, "chat": chat or LONE_CHAT, "held": held.chat_free,
                                   "gap": self.gap(platform)})
            self._free_lane(platform, held.lane, held.lane_until, 1.0)  # counted in the platform's second

    def _free_lane(self, platform: str, lane: str | None, until: datetime | None, after: float) -> None:
        if lane is not None and until is not None:
            self._write(LANE_FREE, {"platform": platform, "lane": lane, "held": until, "after": after})

    def back_off(self, platform: str, seconds: float, chat: str | None = None) -> None:
        """After a 429: nothing more to this platform (or this chat) for `seconds`, from any process."""
        if platform not in self._limits or seconds <= 0:
            return
        self._local.back_off(platform, seconds, chat)
        if chat is None:
            self._paused_until[platform] = max(self._paused_until[platform], time.monotonic() + seconds)
        key = PLATFORM_CHAT if chat is None else (chat or LONE_CHAT)
        self._write(BACK_OFF, {"platform": platform, "chat": key, "seconds": seconds})

    def _write(self, statement: Any, values: dict[str, Any]) -> None:
        """On the database threads, without waiting (back-offs and answers)."""
        write = self._db_thread.submit(self._execute, statement, values)
        self._writes.add(write)
        write.add_done_callback(self._writes.discard)

    def flush(self, timeout: float | None = None) -> None:
        """Blocking: wait until the back-offs given so far are written (for others to see)."""
        wait_all(list(self._writes), timeout=timeout)

    def close(self) -> None:
        self._db_thread.shutdown(wait=True)
        self._slots.dispose()

    # -- slots ---------------------------------------------------------------------------------
    async def _slot(self, platform: str, chat: str, ours: datetime | None,
                    held: bool = False) -> tuple[float, datetime | None]:
        """Reserve, sleep until the slot; a late wake-up (or a back-off meanwhile) takes a new one."""
        loop = asyncio.get_running_loop()
        async with self._chat_locks[(platform, chat)]:
            while True:
                try:
                    delay, chat_free, lane, lane_until = await loop.run_in_executor(
                        self._db_thread, self._reserve, platform, chat, ours, held)
                except Exception:
                    log.warning("send slots: the database did not answer; pacing this process alone", exc_info=True)
                    await self._local.wait(platform, chat)
                    return time.monotonic(), None
                departure = time.monotonic() + delay
                if chat_free is None:  # another message to this chat is on its way: wait for its gap, ask again
                    await _sleep_until(min(departure, time.monotonic() + BUSY_POLL))  # (freed early by `done`)
                    continue
                if held:
                    self._holds[(platform, chat)] = _Hold(chat_free, lane, lane_until)
                self._chat_free[(platform, chat)] = departure + self.gap(platform)
                await _sleep_until(departure)
                if (paused := self._paused_until[platform]) > time.monotonic():
                    await _sleep_until(paused)
                if time.monotonic() - departure <= self.late:
                    return departure, chat_free
                self.retakes += 1
                self._holds.pop((platform, chat), None)
                self._free_lane(platform, lane, lane_until, 0.0)  # nothing left on it: free again at once
                ours = chat_free

    def _reserve(self, platform: str, chat: str, ours: datetime | None,
                 held: bool = False) -> tuple[float, datetime | None, str | None, datetime | None]:
        """Blocking, one statement: (seconds until the departure, the chat row's new value, the lane and its new
        value), or (seconds until the chat is free, None, None, None)."""
        with self._slots.connect() as connection:
            if (platform, chat) not in self._known:
                connection.execute(ENSURE, {"platform": platform, "chat": chat, "lanes": self.lanes(platform)})
            row = connection.execute(RESERVE, {"platform": platform, "chat": chat, "ours": ours, "early": EARLY,
                                               "spacing": self.spacing(platform),
                                               "gap": HOLD if held else self.gap(platform),
                                               "lane_hold": HOLD if held else 1.0 + ARRIVAL,
                                               "lane_soon": 1.0 + ARRIVAL}).one()
        self._known.add((platform, chat))
        if row.lanes_busy:  # every lane in flight (or locked this instant): ask again shortly
            return LANE_POLL, None, None, None
        if row.chat_free is not None:
            self.reservations += 1
        return float(row.delay), row.chat_free, row.lane, row.lane_until

    def _execute(self, statement: Any, values: dict[str, Any]) -> None:
        try:
            with self._slots.connect() as connection:
                connection.execute(statement, values)
        except Exception:
            log.warning("send slots: could not record %s", values, exc_info=True)


def shared_pacer_for(engine: Engine, limits: dict[str, tuple[float, float]]) -> SharedPacer | Pacer:
    """The pacer for this engine: shared through the database on PostgreSQL, in-process on SQLite (one process)."""
    return SharedPacer(engine, limits) if engine.dialect.name == "postgresql" else Pacer(limits)


async def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
