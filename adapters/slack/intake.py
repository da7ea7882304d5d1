"""Slack requests into the durable inbox (issue 17): acknowledged only once stored.

Signed HTTP (`serve_inbox_http`): the signature is checked, the request stored as one inbox row, and only then
answered 200 (an empty body: slash commands show nothing in the channel, the answer follows as a message). A
request that could not be stored is answered 503, so Slack sends it again. Socket Mode (`SocketIntake`): an
envelope is acked after its row is stored; not acked, Slack delivers it again.

Keys (unique per platform in the inbox, so a repeat is no second row): an event by its `event_id` (a retry, with
`X-Slack-Retry-Num`, carries the same one), a slash command by its `trigger_id`, a button press or shortcut by its
`trigger_id` and `action_ts`. Rows are ordered per member (`slack:<team>:<user>`): the DM, slash commands typed
anywhere and presses on App Home of one member are answered in the order they came. Message events outside the
member's DM are not stored (the adapter ignores them without a call).

Workers replay a stored request into the adapter's Bolt app (`AsyncBoltRequest(mode="socket_mode")`: the
signature was checked on receipt and no longer holds; `process_before_response`: the listener finishes before
the row is settled), so every listener, middleware and `ack` behave as on a live request.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from adapters.slack.translate import PLATFORM

log = logging.getLogger(__name__)
EVENTS, SLASH, INTERACTIVE = "events_api", "slash_commands", "interactive"  # Socket Mode's envelope types
Item = tuple[str, str, dict[str, Any]]
Store = Callable[[Item], Awaitable[None]]


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]


def inbox_item(kind: str, body: dict[str, Any]) -> Item | None:
    """(key, chat key, payload) of one Slack request, or None when nothing would be done with it."""
    team = body.get("team_id") or (body.get("team") or {}).get("id") or ""
    if kind == EVENTS:
        event = body.get("event") or {}
        if event.get("type") == "message" and event.get("channel_type") != "im":
            return None  # a channel, a private channel or a group DM: not ours to read
        user = event.get("user") or (event.get("message") or {}).get("user") or event.get("channel") or ""
        key = f"e:{body.get('event_id') or _digest(body)}"
    elif kind == SLASH:
        user = body.get("user_id") or ""
        key = f"cmd:{body.get('trigger_id') or _digest(body)}"
    elif kind == INTERACTIVE:
        user = (body.get("user") or {}).get("id") or ""
        action = (body.get("actions") or [{}])[0]
        key = (f"i:{body['trigger_id']}:{action.get('action_ts', '')}" if body.get("trigger_id")
               else f"i:{_digest(body)}")
    else:
        return None
    if isinstance(user, dict):  # some events carry a user object
        user = user.get("id") or ""
    return key, f"{PLATFORM}:{team}:{user}", {"kind": kind, "body": body}


def parse_http(raw: str, content_type: str) -> tuple[str, dict[str, Any]] | None:
    """(kind, body) of a signed HTTP request: a JSON event, a form with a JSON `payload` (interactivity), or a
    slash command's form (even one whose text contains the word "payload", which Bolt 1.30 misreads)."""
    if content_type == "application/json" or raw.lstrip().startswith("{"):
        return EVENTS, json.loads(raw)
    fields = dict(parse_qsl(raw, keep_blank_values=True))
    if "payload" in fields:
        return INTERACTIVE, json.loads(fields["payload"])
    if "command" in fields:
        return SLASH, fields
    return None


async def serve_inbox_http(signing_secret: str, store: Store, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve Slack's signed requests on /slack/events into the inbox; the runner and the port it listens on."""
    verifier = SignatureVerifier(signing_secret)

    async def handle(request: web.Request) -> web.Response:
        raw = (await request.read()).decode("utf-8")
        if not verifier.is_valid(raw, request.headers.get("X-Slack-Request-Timestamp", ""),
                                 request.headers.get("X-Slack-Signature", "")):
            log.warning("refused a Slack request with an invalid signature from %s", request.remote)
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            parsed = parse_http(raw, request.content_type)
        except ValueError:
            log.warning("refused an unreadable Slack request", exc_info=True)
            return web.Response(status=400)
        if parsed is None:  # ssl_check and the like
            return web.Response(status=200)
        kind, body = parsed
        if kind == EVENTS and body.get("type") == "url_verification":
            return web.json_response({"challenge": body.get("challenge")})
        item = inbox_item(kind, body)
        if item is not None:
            try:
                await store(item)
            except Exception:
                log.exception("could not store a Slack request (%s); Slack will send it again", item[0])
                return web.Response(status=503)
        return web.Response(status=200)

    web_app = web.Application()
    web_app.router.add_post("/slack/events", handle)
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=5.0)  # a stop waits at most 5 s
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


class SocketIntake:
    """Socket Mode into the inbox: each envelope acked once its row is stored (several connections may run,
    one per receiver process; Slack spreads envelopes over them)."""

    def __init__(self, app_token: str, web_client: Any, store: Store) -> None:
        from slack_sdk.socket_mode.aiohttp import SocketModeClient

        self.store = store
        self.client = SocketModeClient(app_token=app_token, web_client=web_client)
        self.client.socket_mode_request_listeners.append(self._on_request)

    async def start(self) -> None:
        await self.client.connect()

    async def stop(self) -> None:
        await self.client.close()

    async def _on_request(self, client: Any, request: Any) -> None:
        from slack_sdk.socket_mode.response import SocketModeResponse

        item = inbox_item(request.type, request.payload or {})
        if item is not None:
            try:
                await self.store(item)
            except Exception:
                log.exception("could not store a Socket Mode envelope (%s); not acked, Slack sends it again", item[0])
                return
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
