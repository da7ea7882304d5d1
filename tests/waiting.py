"""Waiting for a sentinel in async tests: a condition polled until it holds, failing the test after a timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def until(condition: Callable[[], object], timeout: float = 10.0, every: float = 0.02) -> None:
    """Return once `condition()` is true; raise AssertionError("timed out") after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(every)
