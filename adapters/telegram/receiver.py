"""Telegram updates through the durable inbox: our own getUpdates loop and the inbox workers (issue 17).

PTB's Updater asks for the next offset (which confirms the batch to Telegram) before the CRM has stored anything,
so a crash loses what was fetched. Here a fetched batch is first written to the inbox (one transaction); only then
is the next offset requested. Workers take inbox rows (per chat in order, leased, see core.services.inbox), turn
each back into a PTB `Update` and run it through the adapter's usual path; the row is marked done in the
transaction of the update's effects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.error import Conflict, Forbidden, NetworkError, TelegramError, TimedOut

from adapters.telegram.translate import PLATFORM

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def chat_key(update: Update) -> str:
    chat = update.effective_chat
    return f"{PLATFORM}:{chat.id}" if chat is not None else f"{PLATFORM}:update:{update.update_id}"


class InboxReceiver:
    """Polls Telegram into the inbox (`poll=True`) and/or processes the inbox (`work=True`)."""

    def __init__(self, bot: Any, inbox: Any, process: Callable[[Update], Awaitable[None]], *, poll: bool, work: bool,
                 poll_timeout: float, parked_text: Callable[[str], str] | None = None, concurrency: int = 32,
                 idle_seconds: float = 0.5) -> None:
        self.bot, self.inbox, self.process = bot, inbox, process
        self.poll, self.work = poll, work
        self.poll_timeout = max(1, int(poll_timeout))
        self.parked_text = parked_text
        self.concurrency = concurrency
        self.idle_seconds = idle_seconds
        self.inflight: dict[int, asyncio.Task] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self.offset: int | None = None
        self._stopping = False  # the loops end on it even where a cancellation was lost

    async def start(self) -> None:
        if self.poll:
            self._tasks.append(asyncio.create_task(self._poll(), name="telegram-poll"))
        if self.work:
            self._tasks.append(asyncio.create_task(self._work(), name="inbox-work"))
            self._tasks.append(asyncio.create_task(self._heartbeat(), name="inbox-heartbeat"))

    async def stop(self, grace: float = 3.0) -> None:
        """Stop polling (what was fetched and not stored is not confirmed: Telegram serves it again), let the
        updates in flight finish for `grace` seconds, then cancel them and hand their rows back."""
        self._stopping = True
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        with contextlib.suppress(Exception):
            self.inbox.release_poller()
        if self.inflight:
            await asyncio.wait(list(self.inflight.values()), timeout=grace)
        left = dict(self.inflight)
        for task in left.values():
            task.cancel()
        for task in left.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if left:
            with contextlib.suppress(Exception):
                await self.inbox.release(list(left))
            log.info("handed %d inbox rows back", len(left))

    # -- receiving -------------------------------------------------------------------------------
    async def _poll(self) -> None:
        while not await self.inbox.acquire_poller():  # exactly one poller per bot token (PostgreSQL lock)
            await asyncio.sleep(5.0)
        log.info("this process polls Telegram")
        failures = 0
        while True:
            try:
                updates = await self.bot.get_updates(offset=self.offset, timeout=self.poll_timeout,
                                                     allowed_updates=Update.ALL_TYPES)
            except Conflict:
                log.warning("another process polls this bot token (409 Conflict); waiting")
                await asyncio.sleep(5)
                continue
            except (NetworkError, TimedOut, TelegramError):
                failures += 1
                log.warning("getUpdates failed; trying again", exc_info=failures == 1)
                await asyncio.sleep(min(30.0, 0.5 * 2 ** min(failures, 6)))
                continue
            failures = 0
            if not updates:
                continue
            items = [(f"u:{u.update_id}", chat_key(u), u.to_dict()) for u in updates]
            await self._store(items)
            self.offset = updates[-1].update_id + 1  # confirmed to Telegram only now, at the next getUpdates
            self._wake.set()

    async def _store(self, items: list[tuple[str, str, dict]]) -> None:
        """Never confirm a batch before it is stored: retry until the database takes it."""
        delay = 0.5
        while True:
            try:
                await self.inbox.store(PLATFORM, items)
                return
            except Exception:
                log.exception("could not store %d updates in the inbox; trying again", len(items))
                await asyncio.sleep(delay)
                delay = min(10.0, delay * 2)

    # -- processing ------------------------------------------------------------------------------
    async def _work(self) -> None:
        while not self._stopping:
            free = self.concurrency - len(self.inflight)
            self._wake.clear()
            claims: list[Any] = []
            if free > 0:
                try:
                    claims = await self.inbox.claim(free, platform=PLATFORM)
                except Exception:
                    log.exception("could not claim inbox rows")
                    await asyncio.sleep(1.0)
                    continue
            for claim in claims:
                self.inflight[claim.id] = asyncio.create_task(self._one(claim), name=f"inbox-{claim.id}")
            if not claims:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that arrives
                # as the event is set, and this loop would then never stop
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.idle_seconds):
                        await self._wake.wait()

    async def _heartbeat(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.inbox.lease / 3)
            if self.inflight:
                try:
                    await self.inbox.renew(list(self.inflight))
                except Exception:
                    log.warning("could not renew inbox leases", exc_info=True)

    async def _one(self, claim: Any) -> None:
        try:
            update = Update.de_json(claim.payload, self.bot)
            if claim.parked:
                log.error("inbox row %s (%s) parked: %s", claim.id, claim.key, claim.last_error)
                await self._tell_parked(update)
                return
            with self.inbox.processing(claim):
                await self.process(update)
            await self.inbox.finish(claim.id)  # a no-op when the effects' transaction marked it done
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("inbox row %s failed (attempt %d)", claim.id, claim.attempts)
            with contextlib.suppress(Exception):
                await self.inbox.failed(claim.id, f"{type(exc).__name__}: {exc}")
        finally:
            self.inflight.pop(claim.id, None)
            self._wake.set()

    async def _tell_parked(self, update: Update) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None or self.parked_text is None:
            return
        language = (user.language_code if user else None) or ""
        to = user.id if user is not None and chat.type != "private" else chat.id  # never in a group
        with contextlib.suppress(Forbidden, TelegramError):
            await self.bot.send_message(to, self.parked_text(language))
