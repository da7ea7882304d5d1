"""Telegram updates through the durable inbox: our own getUpdates loop or webhook endpoint, and the inbox workers
(issue 17).

PTB's Updater asks for the next offset (which confirms the batch to Telegram) before the CRM has stored anything,
so a crash loses what was fetched. Here a fetched batch is first written to the inbox (one transaction); only then
is the next offset requested. A webhook delivery (`WebhookIntake`, our own aiohttp endpoint instead of PTB's
tornado one) is answered 200 only once its row is stored: an error or a crash before that makes Telegram deliver it
again, and the unique (platform, update key) makes the repeat no second row. Workers take inbox rows (per chat in
order, leased, see core.services.inbox.Worker), turn each back into a PTB `Update` and run it through the
adapter's usual path; the row is marked done in the transaction of the update's effects.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.error import Conflict, Forbidden, NetworkError, TelegramError, TimedOut

from adapters.telegram.translate import PLATFORM

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def chat_key(update: Update) -> str:
    chat = update.effective_chat
    return f"{PLATFORM}:{chat.id}" if chat is not None else f"{PLATFORM}:update:{update.update_id}"


def inbox_item(update: Update) -> tuple[str, str, dict[str, Any]]:
    """(key, chat key, payload) of an update: a redelivery has the same update id, so the same key."""
    return f"u:{update.update_id}", chat_key(update), update.to_dict()


class WebhookIntake:
    """Telegram's webhook deliveries into the inbox: POST `path` with the secret header; 200 after the insert.

    Several of these may run behind a load balancer (each registers the same URL; setWebhook is idempotent)."""

    def __init__(self, bot: Any, inbox: Any, *, url: str, secret: str | None, listen: str, port: int, path: str,
                 stored: Callable[[], None] | None = None) -> None:
        self.bot, self.inbox = bot, inbox
        self.url, self.secret, self.listen, self.port, self.path = url, secret, listen, port, "/" + path.lstrip("/")
        self.stored = stored
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post(self.path, self._deliver)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)  # a stop waits at most 5 s
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        await self.bot.set_webhook(self.url, secret_token=self.secret, allowed_updates=Update.ALL_TYPES,
                                   drop_pending_updates=False)
        log.info("Telegram webhook %s served on %s:%s", self.url, self.listen, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()  # deliveries in flight finish first; the rest Telegram sends again
            self._runner = None

    async def _deliver(self, request: web.Request) -> web.Response:
        if self.secret is not None and not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), self.secret):
            log.warning("refused a Telegram webhook delivery with a wrong secret from %s", request.remote)
            return web.Response(status=403)
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, self.bot)
        except Exception:
            log.warning("refused an unreadable Telegram webhook delivery", exc_info=True)
            return web.Response(status=400)
        if update is None:
            return web.Response(status=400)
        try:
            await self.inbox.store(PLATFORM, [inbox_item(update)])
        except Exception:
            log.exception("could not store webhook update %s; Telegram will deliver it again", update.update_id)
            return web.Response(status=503)
        if self.stored is not None:
            self.stored()
        return web.Response(status=200)


class InboxReceiver:
    """Receives Telegram updates into the inbox (`poll=True`: our getUpdates loop; `webhook`: the endpoint)
    and/or processes the inbox (`work=True`)."""

    def __init__(self, bot: Any, inbox: Any, process: Callable[[Update], Awaitable[None]], *, poll: bool, work: bool,
                 poll_timeout: float, parked_text: Callable[[str], str] | None = None, concurrency: int = 32,
                 idle_seconds: float = 0.5, webhook: dict[str, Any] | None = None) -> None:
        self.bot, self.inbox, self.process = bot, inbox, process
        self.poll, self.work = poll, work
        self.poll_timeout = max(1, int(poll_timeout))
        self.parked_text = parked_text
        self.worker: Any = inbox.processor(PLATFORM, self._process, self._tell_parked, concurrency=concurrency,
                                        idle_seconds=idle_seconds) if work else None
        self.intake = WebhookIntake(bot, inbox, stored=self._wake, **webhook) if webhook is not None else None
        self._tasks: list[asyncio.Task] = []
        self.offset: int | None = None

    @property
    def inflight(self) -> dict[int, asyncio.Task]:
        return self.worker.inflight if self.worker is not None else {}

    def _wake(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    async def start(self) -> None:
        if self.intake is not None:
            await self.intake.start()
        elif self.poll:
            self._tasks.append(asyncio.create_task(self._poll(), name="telegram-poll"))
        if self.worker is not None:
            await self.worker.start()

    async def stop(self, grace: float = 3.0) -> None:
        """Stop receiving (what was fetched and not stored is not confirmed: Telegram serves it again), let the
        updates in flight finish for `grace` seconds, then cancel them and hand their rows back."""
        if self.intake is not None:
            await self.intake.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        with contextlib.suppress(Exception):
            self.inbox.release_poller()
        if self.worker is not None:
            await self.worker.stop(grace)

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
            await self._store([inbox_item(u) for u in updates])
            self.offset = updates[-1].update_id + 1  # confirmed to Telegram only now, at the next getUpdates
            self._wake()

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
    async def _process(self, claim: Any) -> None:
        update = Update.de_json(claim.payload, self.bot)
        if update is not None:
            await self.process(update)

    async def _tell_parked(self, claim: Any) -> None:
        update = Update.de_json(claim.payload, self.bot)
        chat, user = (update.effective_chat, update.effective_user) if update is not None else (None, None)
        if chat is None or self.parked_text is None:
            return
        language = (user.language_code if user else None) or ""
        to = user.id if user is not None and chat.type != "private" else chat.id  # never in a group
        with contextlib.suppress(Forbidden, TelegramError):
            await self.bot.send_message(to, self.parked_text(language))
