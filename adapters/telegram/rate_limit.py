"""python-telegram-bot's rate limiter backed by the process's pacer (core.scheduling.shared_limits).

Every request that creates a message in a chat (`send*` but the chat action, `copy*`, `forward*`) waits for the
pacer's slot for its chat (`data["chat_id"]`), so replies, nudges and notices of every process on the token
share Telegram's 30/s and 1/s per chat; the chat is free again a gap after the answer (a request delayed on its
way, on a busy machine, cannot arrive within the gap of the next one). Everything else — getUpdates,
answerCallbackQuery, edits, chat actions, getFile, setMyCommands — passes straight through. No retries here: a 429 is reported to the pacer
(`back_off`, for every process) and raised, and core.delivery decides what follows.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from adapters.telegram.translate import PLATFORM

UNPACED_SENDS = frozenset({"sendChatAction"})  # a typing indicator is not a message
OTHER_MESSAGES = frozenset({"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"})


def paced(endpoint: str, data: dict[str, Any]) -> str | None:
    """The chat whose slot this request needs, or None when it passes through."""
    chat = data.get("chat_id")
    if chat is None or endpoint in UNPACED_SENDS:
        return None
    if endpoint.startswith("send") or endpoint in OTHER_MESSAGES:
        return str(chat)
    return None


class PacedRateLimiter(BaseRateLimiter[None]):
    """`ApplicationBuilder().rate_limiter(PacedRateLimiter(pacer))`: the pacer's `wait` before each message."""

    def __init__(self, pacer: Any) -> None:
        self.pacer = pacer

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat = paced(endpoint, data)
        if chat is None:
            return await callback(*args, **kwargs)
        await self.pacer.wait(PLATFORM, chat, held=True)  # the chat stays taken until the answer (`done`)
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as error:
            wait = error.retry_after
            self.pacer.back_off(PLATFORM, wait.total_seconds() if isinstance(wait, timedelta) else float(wait))
            raise
        finally:
            self.pacer.done(PLATFORM, chat)
