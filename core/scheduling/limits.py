"""Pacing for platform limits: a global rate per platform and a minimum gap per chat.

Two rules, both on the monotonic clock:
- spacing: departures are at least 1/rate apart, measured between actual departures (never between
  reservations made in advance), so an event-loop stall cannot release a burst;
- window: a message leaves only while (answers received in the last second + requests still in
  flight) < the per-second cap. A request arrives at the platform before its answer comes back, so
  this bounds what the platform can count in any one-second window, even when a client library held
  requests back (python-telegram-bot waits out a 429 itself) and then lets them go together.
A chat's next message leaves no sooner than `gap` after the previous one was answered. Chats wait for
their gap outside the platform queue (FIFO, one departure at a time), so a chat waiting its 1 s gap
never blocks the others. Callers that pass `then` report each answer with `done`.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable

# messages per second overall (the cap per one-second window is the whole part), seconds per chat
PLATFORM_LIMITS: dict[str, tuple[float, float]] = {
    "telegram": (29.5, 1.02),  # Telegram: about 30/s per bot, 1/s per chat
    "slack": (20.0, 1.02),  # Slack chat.postMessage: about 1/s per channel
}
TELEGRAM_DOCUMENTED_RATE = 30.0
UNLIMITED_RATE = 1000.0  # a local Bot API server: no overall cap, the per-chat gap still holds


def platform_limits(telegram_per_second: float = TELEGRAM_DOCUMENTED_RATE) -> dict[str, tuple[float, float]]:
    """The limits with Telegram's overall rate as configured (TELEGRAM_MAX_MESSAGES_PER_SECOND; 0 = none).
    (On PostgreSQL every process shares these limits through core.scheduling.shared_limits.)
    """
    rate, gap = PLATFORM_LIMITS["telegram"]
    if telegram_per_second <= 0:
        rate = UNLIMITED_RATE
    elif telegram_per_second < TELEGRAM_DOCUMENTED_RATE:  # the default's safety margin, scaled down
        rate = telegram_per_second * rate / TELEGRAM_DOCUMENTED_RATE
    return {**PLATFORM_LIMITS, "telegram": (rate, gap)}


POLL = 0.005  # seconds between looks while the window is full of requests in flight


class Pacer:
    """`await wait(platform, chat)` returns when a message may leave now without exceeding a limit."""

    def __init__(self, limits: dict[str, tuple[float, float]] | None = None) -> None:
        self._limits = limits if limits is not None else PLATFORM_LIMITS
        self._last: dict[str, float] = defaultdict(lambda: float("-inf"))
        self._paused_until: dict[str, float] = defaultdict(float)
        self._cost: dict[str, float] = defaultdict(float)  # usual duration of `then` (the mark-sent write)
        self._answered: defaultdict[str, deque[float]] = defaultdict(deque)  # answers in the last second
        self._in_flight: dict[str, int] = defaultdict(int)
        self._chat_free: dict[tuple[str, str], float] = defaultdict(float)
        self._chat_locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self._platform_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def gap(self, platform: str) -> float:
        """Seconds between two messages to one chat on this platform (0 when unlimited)."""
        limit = self._limits.get(platform)
        return limit[1] if limit else 0.0

    def rate(self, platform: str) -> float | None:
        limit = self._limits.get(platform)
        return limit[0] if limit else None

    def chat_ready_in(self, platform: str, chat: str) -> float:
        return max(0.0, self._chat_free[(platform, chat)] - time.monotonic())

    def _window_ready(self, platform: str, cap: int, now: float) -> float:
        """When the one-second window has room (now if it has; +POLL while only requests in flight fill it)."""
        answered = self._answered[platform]
        while answered and answered[0] <= now - 1.0:
            answered.popleft()
        if len(answered) + self._in_flight[platform] < cap:
            return now
        return answered[0] + 1.0 if answered and len(answered) >= cap else now + POLL

    async def wait(self, platform: str, chat: str, then: Callable[[], Awaitable[bool]] | None = None) -> bool:
        """Wait for the slot; `then` (e.g. marking the nudge sent) runs inside it, and False gives the slot back.

        With `then`, the request counts as in flight until `done(platform, chat)`; without it, the
        departure counts as its answer (for callers that do not report answers).
        """
        limit = self._limits.get(platform)
        if limit is None:
            return await then() if then else True
        per_second, chat_gap = limit
        cap, spacing, key = max(1, math.floor(per_second)), 1.0 / per_second, (platform, chat)
        async with self._chat_locks[key]:
            await _sleep_until(self._chat_free[key])
            async with self._platform_locks[platform]:
                while (ready := max(self._last[platform] + spacing - self._cost[platform],
                                    self._paused_until[platform], self._chat_free[key],
                                    self._window_ready(platform, cap, time.monotonic()))) > time.monotonic():
                    await _sleep_until(ready)  # a back-off or an answer may arrive meanwhile: look again
                started = time.monotonic()
                if then is not None and not await then():
                    return False
                departed = time.monotonic()
                # start the next slot early by the usual cost of `then`, so departures are 1/rate apart;
                # a late wake-up or a slow write is not made up for afterwards: no bursts after a stall
                self._cost[platform] = min(spacing / 2, 0.8 * self._cost[platform] + 0.2 * (departed - started))
                self._last[platform] = departed
                self._chat_free[key] = departed + chat_gap
                if then is None:
                    self._answered[platform].append(departed)
                else:
                    self._in_flight[platform] += 1
                return True

    def done(self, platform: str, chat: str) -> None:
        """The request that `wait(..., then=...)` let go has been answered (or failed)."""
        limit = self._limits.get(platform)
        if limit is None:
            return
        now = time.monotonic()
        self._in_flight[platform] = max(0, self._in_flight[platform] - 1)
        self._answered[platform].append(now)
        self._chat_free[(platform, chat)] = max(self._chat_free[(platform, chat)], now + limit[1])

    def back_off(self, platform: str, seconds: float, chat: str | None = None) -> None:
        """After a 429: nothing more to this platform (or to this chat only) for `seconds`."""
        until = time.monotonic() + seconds
        if chat is None:
            self._paused_until[platform] = max(self._paused_until[platform], until)
        else:
            self._chat_free[(platform, chat)] = max(self._chat_free[(platform, chat)], until)


async def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
