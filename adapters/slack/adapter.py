"""The Slack adapter: a slack-bolt `AsyncApp` over Socket Mode or signed HTTP, and the Messenger port."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import blocks, home_view, plain
from adapters.slack.request import FormSafeRequest
from adapters.slack.translate import PLATFORM, from_action, from_message, from_shortcut, from_slash
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
from core.ports import DeliveryError, DeliveryUncertain, RateLimited, Unreachable
from core.settings import Settings

log = logging.getLogger(__name__)
REPLY_RETRY = POLICY.replies
REPLY_RETRY_WAIT = REPLY_RETRY.max_wait  # seconds a reply may wait out a 429 before it is given up (and logged)
GONE = {"channel_not_found", "is_archived", "account_inactive", "not_in_channel", "user_not_found",
        "cannot_dm_bot", "invalid_auth", "token_revoked"}
HomeProvider = Callable[[Sender], Awaitable[Reply]]
# status messages ("Transcribing…", Reply.extra["status"]) posted while one event is handled, oldest first
_statuses: ContextVar[list[str] | None] = ContextVar("slack_statuses", default=None)


class SlackAdapter:
    platform = PLATFORM
    command_style = CommandStyle(prefix="", bare_words=True, alternative="/crm ")
    typing_indicator = False  # bots get no typing indicator on Slack: a status message stands in for it

    def __init__(self, settings: Settings, handle: IncomingHandler, home: HomeProvider | None = None,
                 undelivered: UndeliveredHandler | None = None) -> None:
        self.settings, self.handle, self.home = settings, handle, home
        self.undelivered = undelivered
        self.client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url,
                                     retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])
        self.app = AsyncApp(client=self.client, signing_secret=settings.slack_signing_secret or "socket-mode",
                            process_before_response=False, request_verification_enabled=not settings.slack_app_token)
        self._names: dict[str, str] = {}
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

    async def _sender(self, user_id: str, team_id: str | None) -> Sender:
        return Sender(user_id, await self._name(user_id), workspace_id=team_id)

    async def _name(self, user_id: str) -> str:
        if user_id not in self._names:
            try:
                info = (await self.client.users_info(user=user_id)).get("user") or {}
                profile = info.get("profile") or {}
                self._names[user_id] = profile.get("display_name") or info.get("real_name") or info.get("name") or user_id
            except SlackApiError:
                self._names[user_id] = user_id
        return self._names[user_id]

    async def _on_message(self, event: dict, body: dict) -> None:
        if event.get("channel_type") not in (None, "im") or not event.get("user"):
            return
        sender = await self._sender(event["user"], body.get("team_id"))
        incoming = from_message(event, body.get("team_id"), sender, body.get("event_id"))
        if incoming is not None:
            await self._dispatch(incoming)

    async def _on_file_shared(self, event: dict, body: dict) -> None:
        """`file_shared` carries ids only; messages with files arrive as `message` events too (handled there)."""
        if event.get("channel_type") == "im" or not event.get("file_id"):
            return
        info = (await self.client.files_info(file=event["file_id"])).get("file") or {}
        user = event.get("user_id") or info.get("user")
        channel = event.get("channel_id") or (info.get("channels") or [""])[0]
        message = {"user": user, "channel": channel, "ts": info.get("timestamp") and str(info["timestamp"]),
                   "files": [info]}
        sender = await self._sender(user, body.get("team_id"))
        incoming = from_message(message, body.get("team_id"), sender, body.get("event_id"))
        if incoming is not None:
            await self._dispatch(incoming)

    async def _on_home(self, event: dict, body: dict) -> None:
        if self.home is None or event.get("tab") not in (None, "home"):
            return
        reply = await self.home(await self._sender(event["user"], body.get("team_id")))
        await self._api(self.client.views_publish, user_id=event["user"], view=home_view(reply))

    async def _on_slash(self, ack: Callable, body: dict) -> None:
        await ack()
        sender = await self._sender(body.get("user_id", ""), body.get("team_id"))
        incoming = from_slash(body, sender)
        dm = await self._dm(sender.platform_user_id)
        if dm:  # answer privately, whatever channel the command was typed in
            incoming = replace(incoming, env=replace(incoming.env, chat=ChatRef(PLATFORM, dm)))
        await self._dispatch(incoming)

    async def _on_shortcut(self, ack: Callable, body: dict) -> None:
        await ack()
        user = (body.get("user") or {}).get("id", "")
        sender = await self._sender(user, (body.get("team") or {}).get("id"))
        dm = await self._dm(user)
        author = (body.get("message") or {}).get("user")
        name = await self._name(author) if author else None
        await self._dispatch(from_shortcut(body, sender, dm or (body.get("channel") or {}).get("id", ""), name))

    async def _on_action(self, ack: Callable, body: dict, action: dict) -> None:
        await ack()
        user = (body.get("user") or {}).get("id", "")
        sender = await self._sender(user, (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id"))
        await self._dispatch(from_action(body, action, sender))

    async def _dm(self, user_id: str) -> str | None:
        try:
            response = await self.client.conversations_open(users=user_id)
            return (response.get("channel") or {}).get("id")
        except SlackApiError:
            log.warning("could not open a DM with %s", user_id, exc_info=True)
            return None

    async def _dispatch(self, incoming: Incoming) -> None:
        statuses: list[str] = []
        token = _statuses.set(statuses)
        try:
            replies = await self.handle(incoming)
        finally:
            _statuses.reset(token)
        chat = incoming.env.chat
        for reply in replies:
            status = statuses.pop(0) if statuses and reply.image is None and reply.file is None else None
            try:
                await self._answer(incoming, reply, status)
            except DeliveryError:
                log.warning("reply to %s failed; the event itself was handled", chat, exc_info=True)
        for ts in statuses:  # no answer took its place: take the status away
            try:
                await self._api(self.client.chat_delete, channel=chat.chat_id, ts=ts)
            except DeliveryError:
                log.info("could not delete the status message %s in %s", ts, chat, exc_info=True)

    async def _answer(self, incoming: Incoming, reply: Reply, status: str | None) -> None:
        """One reply: in place of the status message, as an edit of the pressed message, or posted.

        Sent under the delivery policy for replies (core.delivery): a 429 waits for Retry-After (up to
        REPLY_RETRY_WAIT) and tries once more, so the answer is not lost.
        """
        chat = incoming.env.chat

        async def once() -> None:
            if status is not None:
                await self._replace(chat, status, reply)  # the status message becomes the answer
            elif reply.edit and isinstance(incoming, ButtonIn) and incoming.env.message_id:
                await self.edit(chat, incoming.env.message_id, reply)
            else:
                await self.send(chat, reply)

        await send_with_policy(once, REPLY_RETRY)

    async def _replace(self, chat: ChatRef, ts: str, reply: Reply) -> None:
        try:
            await self.edit(chat, ts, reply)
        except (RateLimited, DeliveryUncertain):
            raise
        except DeliveryError:  # the status is gone (deleted by the member): post the answer instead
            await self.send(chat, reply)

    # -- Messenger -----------------------------------------------------------------------------
    async def send(self, to: ChatRef, reply: Reply) -> str:
        response = await self._api(self.client.chat_postMessage, channel=to.chat_id, text=plain(reply.text)[:3000],
                                   blocks=blocks(reply), thread_ts=to.thread_id)
        ts = str(response.get("ts", ""))
        if reply.extra.get("status") and ts and (pending := _statuses.get()) is not None:
            pending.append(ts)
        return ts

    async def edit(self, to: ChatRef, message_id: str, reply: Reply) -> None:
        await self._api(self.client.chat_update, channel=to.chat_id, ts=message_id, text=plain(reply.text)[:3000],
                        blocks=blocks(reply))

    async def typing(self, to: ChatRef) -> None:
        return None  # Slack has no typing indicator for bots; the reply follows shortly

    async def download(self, attachment: Attachment) -> bytes:
        if not attachment.url:
            info = (await self._api(self.client.files_info, file=attachment.file_id)).get("file") or {}
            attachment = Attachment(PLATFORM, attachment.file_id, info.get("name"), info.get("mimetype"),
                                    info.get("size"), url=info.get("url_private_download"))
        headers = {"Authorization": f"Bearer {self.settings.slack_bot_token}"}
        try:
            async with aiohttp.ClientSession() as session, session.get(attachment.url, headers=headers) as response:
                data = await response.read()
                kind = response.headers.get("Content-Type", "")
        except aiohttp.ClientError as error:
            raise DeliveryError(f"download failed: {error}") from error
        if response.status != 200:
            raise DeliveryError(f"download failed with HTTP {response.status}")
        if "text/html" in kind or data[:200].lstrip().lower().startswith((b"<!doctype html", b"<html")):
            raise DeliveryError("Slack answered with a login page instead of the file (check the bot token and "
                                "the files:read scope)")
        return data

    async def _api(self, method: Callable, **kwargs: Any) -> Any:
        try:
            return await method(**{k: v for k, v in kwargs.items() if v is not None})
        except SlackApiError as error:
            code = str(error.response.get("error", ""))
            if error.response.status_code == 429:
                raise RateLimited(float(error.response.headers.get("Retry-After", 1)), code) from error
            if code in GONE:
                raise Unreachable(code) from error
            raise DeliveryError(code or str(error)) from error
        except (aiohttp.ClientConnectorError, aiohttp.ClientConnectionResetError) as error:
            raise DeliveryError(str(error)) from error  # the request never reached Slack
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryUncertain(str(error) or error.__class__.__name__) from error  # Slack may have posted it

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        if self.settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.app, self.settings.slack_app_token)
            await self._socket.connect_async()
            return
        web_app = web.Application()
        web_app.router.add_post("/slack/events", self._http)
        self._runner = web.AppRunner(web_app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.slack_http_host, self.settings.slack_http_port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def _http(self, request: web.Request) -> web.Response:
        body = (await request.read()).decode("utf-8")
        bolt_request = FormSafeRequest(body=body, query=request.query_string, headers=dict(request.headers))
        response = await self.app.async_dispatch(bolt_request)
        if response.status == 401:
            log.warning("refused a Slack request with an invalid signature from %s", request.remote)
        return web.Response(status=response.status, body=response.body,
                            headers={k: v[0] for k, v in response.headers.items() if k.lower() != "content-length"})

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
        if self._runner is not None:
            await self._runner.cleanup()
        await asyncio.sleep(0)
