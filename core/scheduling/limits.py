"""Pacing for platform limits: a global rate per platform and a minimum gap per chat.

Gaps are measured between actual departures (monotonic clock), never between reservations made in
advance, so an event-loop stall cannot release a burst. Chats wait for their own gap outside the
platform queue; the platform queue is FIFO and holds one departure at a time, so a chat waiting its
1 s gap never blocks the others. Rates sit a few per cent under the published limits to absorb jitter.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable

# messages per second overall, seconds between two messages to one chat
PLATFORM_LIMITS: dict[str, tuple[float, float]] = {
    "telegram": (28.5, 1.05),  # Telegram: about 30/s per bot, 1/s per chat
    "slack": (20.0, 1.05),  # Slack chat.postMessage: about 1/s per channel
}


class Pacer:
    """`await wait(platform, chat)` returns when a message may leave now without exceeding a limit."""

    def __init__(self, limits: dict[str, tuple[float, float]] | None = None) -> None:
        self._limits = limits if limits is not None else PLATFORM_LIMITS
        self._last: dict[str, float] = defaultdict(lambda: float("-inf"))
        self._paused_until: dict[str, float] = defaultdict(float)
        self._cost: dict[str, float] = defaultdict(float)  # usual duration of `then` (the mark-sent write)
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

    async def wait(self, platform: str, chat: str, then: Callable[[], Awaitable[bool]] | None = None) -> bool:
        """Wait for the slot; `then` (e.g. marking the nudge sent) runs inside it, and False gives the slot back.

        Departures (the moment `then` returned) are 1/rate apart and a chat's gap counts from its last
        departure, so a slow database write cannot squeeze two messages closer than the limits allow.
        """
        limit = self._limits.get(platform)
        if limit is None:
            return await then() if then else True
        per_second, chat_gap = limit
        key = (platform, chat)
        async with self._chat_locks[key]:
            await _sleep_until(self._chat_free[key])
            async with self._platform_locks[platform]:
                spacing = 1.0 / per_second
                while (ready := max(self._last[platform] + spacing - self._cost[platform],
                                    self._paused_until[platform], self._chat_free[key])) > time.monotonic():
                    await _sleep_until(ready)  # a back-off may arrive while sleeping: look again
                started = time.monotonic()
                if then is not None and not await then():
                    return False
                departed = time.monotonic()
                # start the next slot early by the usual cost of `then`, so departures are 1/rate apart;
                # a late wake-up or a slow write is not made up for afterwards: no bursts after a stall
                self._cost[platform] = min(spacing / 2, 0.8 * self._cost[platform] + 0.2 * (departed - started))
                self._last[platform] = departed
                self._chat_free[key] = departed + chat_gap
                return True

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
