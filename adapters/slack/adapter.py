"""The Slack adapter: a slack-bolt `AsyncApp` over Socket Mode or signed HTTP, and the Messenger port.

What is taken: the member's DM with the bot (`message.im`: notes, word commands, files and audio clips,
their own edits), `/crm <word>` anywhere, the "Log to CRM" message shortcut, button presses. A message
or file in any channel is ignored before any Web API call; `file_shared` is not used (it carries no
channel type, and every DM upload also arrives as a `message` event with `subtype: file_share`).
Where answers go: the DM (or the chat the update came from); for `/crm` typed elsewhere, see `placement`.
With an inbox (the default from bot.platforms) every request is stored before it is acknowledged
(`adapters.slack.intake`) and workers replay it into the Bolt app (`_replay`); without one, Bolt serves requests
live (tests that drive the adapter alone).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import replace
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import blocks, home_view, plain
from adapters.slack.people import People
from adapters.slack.placement import TypedIn, all_ephemeral, dm_link
from adapters.slack.server import serve_http
from adapters.slack.translate import (
    IGNORED_SUBTYPES,
    PLATFORM,
    edited_author,
    from_action,
    from_edit,
    from_message,
    from_shortcut,
    from_slash,
    is_direct_message,
    pressed_on_home,
    pressed_outside_a_message,
)
from adapters.slack.webapi import call, download
from core.chat import (
    Attachment,
    ButtonIn,
    ChatRef,
    CommandStyle,
    Incoming,
    IncomingHandler,
    Reply,
    Sender,
    UndeliveredHandler,
)
from core.delivery import POLICY, send_with_policy
from core.ports import DeliveryError, DeliveryUncertain, RateLimited
from core.services.outbox import receipt_of
from core.settings import Settings

log = logging.getLogger(__name__)
HomeProvider = Callable[[Sender], Awaitable[Reply]]
# status messages ("Transcribing…", Reply.extra["status"]) posted while one event is handled, oldest first
_statuses: ContextVar[list[str] | None] = ContextVar("slack_statuses", default=None)


class PointerText(Protocol):
    """The bot's words for "the answer is in our DM" in the member's language (the home provider has them)."""

    async def __call__(self, sender: Sender, dm_url: str) -> str: ...


class SlackAdapter:
    platform = PLATFORM
    command_style = CommandStyle(prefix="", bare_words=True, alternative="/crm ")
    typing_indicator = False  # bots get no typing indicator on Slack: a status message stands in for it

    def __init__(self, settings: Settings, handle: IncomingHandler, home: HomeProvider | None = None,
                 undelivered: UndeliveredHandler | None = None, inbox: Any = None,
                 parked_text: Callable[[str], str] | None = None, role: str = "all", pacer: Any = None) -> None:
        self.settings, self.handle, self.home = settings, handle, home
        self.pacer = pacer  # core.scheduling pacer shared by all processes: each channel's ~1/s holds across them
        self.undelivered = undelivered
        self.inbox = inbox  # core.services.inbox.Inbox: every request stored before it is acknowledged
        self.parked_text = parked_text
        self.role = role  # "all", "receiver" (acknowledges into the inbox) or "worker" (processes the inbox)
        self.client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url,
                                     retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])
        # through the inbox, Bolt only replays stored requests (verified on receipt), each to its end before the
        # row is settled; without it, Bolt serves live requests and acks before the work
        self.app = AsyncApp(client=self.client, signing_secret=settings.slack_signing_secret or "socket-mode",
                            process_before_response=inbox is not None,
                            request_verification_enabled=inbox is None and not settings.slack_app_token)
        self.worker: Any = None
        self._intake: Any = None
        self.people = People(self.client)
        self._dms: dict[str, str] = {}
        self._in_flight: set[tuple[str, str]] = set()  # DM messages being handled: a second delivery is dropped
        self._runner: web.AppRunner | None = None
        self._socket: Any = None
        self.port: int | None = None
        self._register()

    # -- listeners -----------------------------------------------------------------------------
    def _register(self) -> None:
        app = self.app
        app.event("message")(self._on_message)
        app.event("file_shared")(self._on_file_shared)
        app.event("app_home_opened")(self._on_home)
        app.command("/crm")(self._on_slash)
        app.shortcut("log_to_crm")(self._on_shortcut)
        app.action(re.compile(r"^crm:"))(self._on_action)

    async def _on_message(self, event: dict, body: dict) -> None:
        if not is_direct_message(event):
            return  # a channel, a private channel or a group DM: not ours to read, nothing is called
        team = body.get("team_id")
        if event.get("subtype") == "message_changed":
            author = edited_author(event)
            if author is not None:
                await self._dispatch(from_edit(event, await self.people.sender(author, team), body.get("event_id")))
            return
        if not event.get("user") or event.get("bot_id") or event.get("subtype") in IGNORED_SUBTYPES:
            return
        key = (str(event.get("channel")), str(event.get("ts")))
        if key in self._in_flight:  # the same message again (a retry) while the first is still handled
            return
        self._in_flight.add(key)
        try:
            sender = await self.people.sender(event["user"], team)
            incoming = from_message(event, team, sender, body.get("event_id"))
            if incoming is not None:
                await self._dispatch(incoming)
        finally:
            self._in_flight.discard(key)

    async def _on_file_shared(self, event: dict) -> None:
        """Acknowledged and ignored: a DM upload is taken from its `message` event (`subtype: file_share`), and
        `file_shared` cannot tell a DM from a channel without asking Slack."""
        log.debug("file_shared %s ignored (DM uploads arrive as message events)", event.get("file_id"))

    async def _on_home(self, event: dict, body: dict) -> None:
        if event.get("tab") not in (None, "home"):
            return
        await self.publish_home(event["user"], body.get("team_id"))

    async def publish_home(self, user_id: str, team_id: str | None) -> None:
        if self.home is None:
            return
        reply = await self.home(await self.people.sender(user_id, team_id))
        try:
            await send_with_policy(lambda: self._api(self.client.views_publish, user_id=user_id,
                                                     view=home_view(reply)), POLICY.replies)
        except DeliveryError:
            log.warning("could not publish App Home for %s", user_id, exc_info=True)

    async def _on_slash(self, ack: Callable, body: dict) -> None:
        await ack()
        user, team, channel = body.get("user_id", ""), body.get("team_id"), body.get("channel_id", "")
        sender = await self.people.sender(user, team)
        dm = await self._dm(user)
        typed_in = None if channel == dm else TypedIn(channel, user, team, dm)
        await self._dispatch(from_slash(body, sender, dm), typed_in)

    async def _on_shortcut(self, ack: Callable, body: dict) -> None:
        await ack()
        user = (body.get("user") or {}).get("id", "")
        sender = await self.people.sender(user, (body.get("team") or {}).get("id"))
        dm = await self._dm(user)
        author = (body.get("message") or {}).get("user")
        name = await self.people.name(author) if author else None
        await self._dispatch(from_shortcut(body, sender, dm or (body.get("channel") or {}).get("id", ""), name))

    async def _on_action(self, ack: Callable, body: dict, action: dict) -> None:
        await ack()
        user = (body.get("user") or {}).get("id", "")
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
        sender = await self.people.sender(user, team)
        dm = await self._dm(user) if pressed_outside_a_message(body) else None
        await self._dispatch(from_action(body, action, sender, dm))
        if pressed_on_home(body):
            await self.publish_home(user, team)  # the follow-up it showed has changed

    async def _dm(self, user_id: str) -> str | None:
        """The member's DM with the bot (conversations.open, once per user per run)."""
        if user_id not in self._dms:
            try:
                response = await self.client.conversations_open(users=user_id)
            except (SlackApiError, aiohttp.ClientError, TimeoutError):
                log.warning("could not open a DM with %s", user_id, exc_info=True)
                return None
            self._dms[user_id] = (response.get("channel") or {}).get("id") or ""
        return self._dms[user_id] or None

    # -- answering ------------------------------------------------------------------------------
    async def _dispatch(self, incoming: Incoming, typed_in: TypedIn | None = None) -> None:
        statuses: list[str] = []
        token = _statuses.set(statuses)
        try:
            replies = await self.handle(incoming)
        finally:
            _statuses.reset(token)
        if typed_in is not None and replies and (typed_in.dm is None or all_ephemeral(replies)):
            lost = await self._ephemerals(incoming, list(replies), typed_in)
        else:
            lost = await self._post_all(incoming, list(replies), statuses)
            if typed_in is not None and typed_in.dm and len(lost) < len(replies):
                await self._point_to_dm(typed_in, incoming.env.sender)
        for ts in statuses:  # no answer took its place: take the status away
            try:
                await self._api(self.client.chat_delete, channel=incoming.env.chat.chat_id, ts=ts)
            except DeliveryError:
                log.info("could not delete the status message %s in %s", ts, incoming.env.chat, exc_info=True)
        if lost and self.undelivered is not None:
            await self.undelivered(incoming, lost)

    async def _post_all(self, incoming: Incoming, replies: Sequence[Reply], statuses: list[str]) -> list[Reply]:
        """Post (or edit into place) each reply in the update's chat; the replies that could not be delivered.
        A reply from the outbox is marked sent as soon as Slack took it (at least once: see core.services.outbox)."""
        lost = []
        for reply in replies:
            status = statuses.pop(0) if statuses and reply.image is None and reply.file is None else None
            try:
                await self._answer(incoming, reply, status)
            except Exception:  # refused, unanswered, or a bug rendering it: the update itself was handled
                log.warning("reply to %s was not delivered", incoming.env.chat, exc_info=True)
                lost.append(reply)
            else:
                await _sent(reply)
        return lost

    async def _ephemerals(self, incoming: Incoming, replies: list[Reply], typed_in: TypedIn) -> list[Reply]:
        """Each reply as an ephemeral message where the command was typed; refused there (the bot is not in
        that channel), the rest go to the DM."""
        for index, reply in enumerate(replies):
            async def once(reply: Reply = reply) -> None:
                await self._ephemeral(typed_in, reply)

            try:
                await send_with_policy(once, POLICY.replies)
            except DeliveryUncertain:
                log.warning("an ephemeral answer in %s may not have arrived", typed_in.channel, exc_info=True)
                return replies[index:]
            except DeliveryError:
                if typed_in.dm is None:
                    log.warning("an ephemeral answer in %s was refused", typed_in.channel, exc_info=True)
                    return replies[index:]
                log.info("ephemeral refused in %s; answering in the DM", typed_in.channel, exc_info=True)
                return await self._post_all(incoming, replies[index:], [])
            await _sent(reply)
        return []

    async def _ephemeral(self, typed_in: TypedIn, reply: Reply) -> None:
        await self._api(self.client.chat_postEphemeral, channel=typed_in.channel, user=typed_in.user,
                        text=plain(reply.text)[:3000], blocks=blocks(reply))

    async def _point_to_dm(self, typed_in: TypedIn, sender: Sender) -> None:
        assert typed_in.dm is not None
        link = dm_link(typed_in.team, typed_in.dm)
        words: PointerText | None = getattr(self.home, "pointer", None)
        text = await words(sender, link) if words is not None else f'📬 <a href="{link}">DM</a>'
        try:
            await send_with_policy(lambda: self._ephemeral(typed_in, Reply(text)), POLICY.replies)
        except DeliveryError:  # the answer itself is in the DM
            log.info("could not point to the DM in %s", typed_in.channel, exc_info=True)

    async def _answer(self, incoming: Incoming, reply: Reply, status: str | None) -> None:
        """One reply: in place of the status message, as an edit of the pressed message, or posted — under
        the delivery policy for replies (core.delivery: what is retried, how long a 429 is waited out)."""
        chat = incoming.env.chat

        async def once() -> None:
            if status is not None:
                await self._replace(chat, status, reply)  # the status message becomes the answer
            elif reply.edit and isinstance(incoming, ButtonIn) and incoming.env.message_id:
                await self.edit(chat, incoming.env.message_id, reply)
            else:
                await self.send(chat, reply)

        await send_with_policy(once, POLICY.replies)

    async def _replace(self, chat: ChatRef, ts: str, reply: Reply) -> None:
        try:
            await self.edit(chat, ts, reply)
        except (RateLimited, DeliveryUncertain):
            raise
        except DeliveryError:  # the status is gone (deleted by the member): post the answer instead
            await self.send(chat, reply)

    # -- Messenger -----------------------------------------------------------------------------
    async def send(self, to: ChatRef, reply: Reply) -> str:
        if reply.image is not None or reply.file is not None:
            return await self._upload(to, reply)
        response = await self._paced(to, lambda: self._api(self.client.chat_postMessage, channel=to.chat_id,
                                                            text=plain(reply.text)[:3000], blocks=blocks(reply),
                                                            thread_ts=to.thread_id))
        ts = str(response.get("ts", ""))
        if reply.extra.get("status") and ts and (pending := _statuses.get()) is not None:
            pending.append(ts)
        return ts

    async def _paced(self, to: ChatRef, post: Callable[[], Awaitable[Any]]) -> Any:
        """`post()` under the shared send limiter (PostgreSQL): the channel stays taken for every process until
        Slack answered, and a 429 pauses every process's Slack messages."""
        if self.pacer is None:
            return await post()
        await self.pacer.wait(PLATFORM, to.chat_id, held=True)
        try:
            return await post()
        except RateLimited as limited:
            self.pacer.back_off(PLATFORM, limited.retry_after)
            raise
        finally:
            self.pacer.done(PLATFORM, to.chat_id)

    async def _upload(self, to: ChatRef, reply: Reply) -> str:
        """An image or a document through Slack's external upload flow (`files.getUploadURLExternal`, the bytes
        POSTed to the upload URL, `files.completeUploadExternal` sharing it in the chat with the text as its
        comment). A file message carries no buttons, so buttons follow as a message of their own."""
        out = reply.image if reply.image is not None else reply.file
        assert out is not None
        comment = None if reply.buttons else plain(reply.text)[:3000] or None
        await self._api(self.client.files_upload_v2, channel=to.chat_id, content=out.data, filename=out.name,
                        title=out.name, initial_comment=comment, thread_ts=to.thread_id)
        if not reply.buttons:
            return ""
        response = await self._api(self.client.chat_postMessage, channel=to.chat_id, text=plain(reply.text)[:3000],
                                   blocks=blocks(replace(reply, image=None, file=None)), thread_ts=to.thread_id)
        return str(response.get("ts", ""))

    async def edit(self, to: ChatRef, message_id: str, reply: Reply) -> None:
        if reply.image is not None or reply.file is not None:  # a file cannot replace a message: post it
            await self.send(to, reply)
            return
        await self._api(self.client.chat_update, channel=to.chat_id, ts=message_id, text=plain(reply.text)[:3000],
                        blocks=blocks(reply))

    async def typing(self, to: ChatRef) -> None:
        return None  # Slack has no typing indicator for bots; the reply follows shortly

    async def download(self, attachment: Attachment) -> bytes:
        return await download(self.client, self.settings.slack_bot_token or "", attachment)

    async def _api(self, method: Callable, **kwargs: Any) -> Any:
        return await call(method, **kwargs)

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        if self.inbox is not None:
            await self._start_inbox()
        elif self.settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.app, self.settings.slack_app_token)
            await self._socket.connect_async()
        else:
            self._runner, self.port = await serve_http(self.app, self.settings.slack_http_host,
                                                       self.settings.slack_http_port)

    async def stop(self) -> None:
        if self._intake is not None:
            await self._intake.stop()
        if self._socket is not None:
            await self._socket.close_async()
        if self._runner is not None:
            await self._runner.cleanup()  # requests in flight are stored and answered first
        if self.worker is not None:
            await self.worker.stop()
        await asyncio.sleep(0)

    # -- the durable inbox (adapters.slack.intake) ------------------------------------------------
    async def _start_inbox(self) -> None:
        from adapters.slack.intake import SocketIntake, serve_inbox_http

        settings = self.settings
        if self.role in ("all", "worker"):
            self.worker = self.inbox.processor(PLATFORM, self._replay, self._tell_parked)
            await self.worker.start()
        if self.role in ("all", "receiver"):
            if settings.slack_app_token:
                self._intake = SocketIntake(settings.slack_app_token, self.client, self._store)
                await self._intake.start()
            else:
                self._runner, self.port = await serve_inbox_http(settings.slack_signing_secret or "", self._store,
                                                                 settings.slack_http_host, settings.slack_http_port)

    async def _store(self, item: tuple[str, str, dict[str, Any]]) -> None:
        await self.inbox.store(PLATFORM, [item])
        if self.worker is not None:
            self.worker.wake()

    async def _replay(self, claim: Any) -> None:
        """One stored request through Bolt, as if it had just arrived (its listener runs to the end here)."""
        from slack_bolt.request.async_request import AsyncBoltRequest

        response = await self.app.async_dispatch(AsyncBoltRequest(body=claim.payload["body"], mode="socket_mode"))
        if response.status >= 500:
            raise RuntimeError(f"the Slack listener failed on {claim.key} ({response.status})")

    async def _tell_parked(self, claim: Any) -> None:
        """A request that failed again and again: its member is told in their DM (never in a channel)."""
        body = claim.payload.get("body") or {}
        event = body.get("event") or {}
        user = event.get("user") or (event.get("message") or {}).get("user") or body.get("user_id") \
            or (body.get("user") or {}).get("id")
        if not isinstance(user, str) or not user or self.parked_text is None:
            return
        dm = await self._dm(user)
        if dm is None:
            return
        sender = await self.people.sender(user, body.get("team_id") or (body.get("team") or {}).get("id"))
        await self.send(ChatRef(PLATFORM, dm), Reply(self.parked_text(sender.language_code or "")))


async def _sent(reply: Reply) -> None:
    """Slack took the reply: its outbox row (when it has one) is marked sent, so a retry does not post it again."""
    if (receipt := receipt_of(reply)) is not None:
        await receipt.sent()
