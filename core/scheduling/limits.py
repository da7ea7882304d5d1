"""Pacing for platform limits: a global rate per platform and a minimum gap per chat."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

PLATFORM_LIMITS = {"telegram": (30.0, 1.0), "slack": (20.0, 1.0)}  # messages per second, seconds between per chat


class Pacer:
    """Waits as long as needed so that no platform limit is exceeded (monotonic clock)."""

    def __init__(self, limits: dict[str, tuple[float, float]] | None = None) -> None:
        self._limits = limits if limits is not None else PLATFORM_LIMITS
        self._next_slot: dict[str, float] = defaultdict(float)
        self._chat_free: dict[tuple[str, str], float] = defaultdict(float)
        self._lock = asyncio.Lock()

    def chat_ready_in(self, platform: str, chat: str) -> float:
        return max(0.0, self._chat_free[(platform, chat)] - time.monotonic())

    async def wait(self, platform: str, chat: str) -> None:
        limit = self._limits.get(platform)
        if limit is None:
            return
        per_second, chat_gap = limit
        async with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot[platform], self._chat_free[(platform, chat)])
            self._next_slot[platform] = slot + 1.0 / per_second
            self._chat_free[(platform, chat)] = slot + chat_gap
        delay = slot - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def back_off(self, platform: str, seconds: float) -> None:
        """After a 429: nothing more to this platform for `seconds`."""
        self._next_slot[platform] = max(self._next_slot[platform], time.monotonic() + seconds)
