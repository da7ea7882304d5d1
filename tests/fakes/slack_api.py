"""A fake Slack Web API on 127.0.0.1, and helpers that deliver events to an app the way Slack does.

Serves auth.test, chat.postMessage, chat.postEphemeral, chat.update, chat.delete, views.publish, files.info,
conversations.open, users.info (with `tz`, and `locale` when asked with include_locale, from `profiles`), the
external upload flow (files.getUploadURLExternal → a POST of the bytes to the upload URL it gives →
files.completeUploadExternal; `uploads` holds what was shared) and file
downloads (an HTML login page for a wrong token, as Slack does). Records request
bodies and the status each was answered with; injects faults (429 with Retry-After, ok:false errors,
500, delays). With `enforce_limits=True` chat.postMessage holds Slack's 1 message per second per
channel and answers 429 with Retry-After beyond it; `rate_limited` counts those 429s.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web

BOT_TOKEN = "xoxb-1-fake-bot-token"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T0TEAM"
BOT_USER = "U0BOT"


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int = 200
    at: float = 0.0


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    faults: dict[str, list[dict]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    answered: list[str] = field(default_factory=list)  # methods whose (possibly delayed) answer was sent
    login_page_for: set[str] = field(default_factory=set)  # downloads answered with Slack's HTML sign-in page
    posted_ts: list[str] = field(default_factory=list)  # the ts of every message chat.postMessage created, in order
    users: dict[str, str] = field(default_factory=lambda: {"U1": "Amy Lin", "U2": "Bob Chen", "U9": "陳小姐"})
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)  # user → {"tz": ..., "locale": ...}
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    port: int = 0
    socket_acks: list[str] = field(default_factory=list)  # envelope ids acknowledged over Socket Mode
    enforce_limits: bool = False
    channel_gap: float = 1.0
    rate_limited: int = 0  # 429s answered because a channel got more than one message a second
    _channel_last: dict[str, float] = field(default_factory=dict)
    _socket: web.WebSocketResponse | None = None
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)  # file id → filename, length, data, shared_to

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_get("/files/{file_id}", self._download)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket_mode)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def fail(self, method: str, *, status: int = 200, error: str = "internal_error", retry_after: int | None = None,
             delay: float = 0.0) -> None:
        self.faults.setdefault(method, []).append({"status": status, "error": error, "retry_after": retry_after,
                                                   "delay": delay})

    def slow(self, method: str, seconds: float) -> None:
        """The next call of `method` succeeds, after `seconds`."""
        self.faults.setdefault(method, []).append({"delay": seconds, "pass": True})

    def sent(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.sent(method)) >= count:
                return self.sent(method)
            await asyncio.sleep(0.02)
        raise AssertionError(f"{method} called {len(self.sent(method))} times, expected {count}; "
                             f"methods seen: {sorted({c.method for c in self.calls})}")

    def messages(self, since: int = 0) -> list[Call]:
        """What the bot said (posted or ephemeral) from the `since`-th call on, in order."""
        return [c for c in self.calls[since:] if c.method in ("chat.postMessage", "chat.postEphemeral")]

    def add_file(self, file_id: str, data: bytes, **info: Any) -> dict:
        self.files[file_id] = data
        return {"id": file_id, "name": info.get("name", "file.bin"), "mimetype": info.get("mimetype", "application/octet-stream"),
                "subtype": info.get("subtype"), "size": len(data),
                "url_private_download": f"http://127.0.0.1:{self.port}/files/{file_id}", "user": info.get("user", "U1"),
                "timestamp": int(time.time()), "channels": info.get("channels", [])}

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        if request.method == "GET":
            body: dict[str, Any] = dict(request.query)
        elif request.content_type == "application/json":
            body = json.loads(raw or "{}")
        else:
            body = {k: (json.loads(v) if k in ("blocks", "view") else v) for k, v in parse_qsl(raw)}
        body = {**request.query, **body}  # the SDK sends some arguments as query parameters
        call = Call(method, body, dict(request.headers), at=time.monotonic())
        self.calls.append(call)
        response = await self._answer(method, body, call)
        call.status = response.status
        return response

    def _over_limit(self, method: str, body: dict, now: float) -> float:
        if not self.enforce_limits or method != "chat.postMessage":
            return 0.0
        channel = str(body.get("channel"))
        last = self._channel_last.get(channel)
        if last is not None and now - last < self.channel_gap:
            return last + self.channel_gap - now
        self._channel_last[channel] = now
        return 0.0

    async def _answer(self, method: str, body: dict, call: Call) -> web.Response:
        if wait := self._over_limit(method, body, call.at):
            self.rate_limited += 1
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(math.ceil(wait))})
        if self.faults.get(method):
            fault = self.faults[method].pop(0)
            if fault["delay"]:
                await asyncio.sleep(fault["delay"])
            if fault.get("pass"):
                self.answered.append(method)
                return web.json_response({"ok": True, **self._result(method, body)})
            if fault["retry_after"] is not None:
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                         headers={"Retry-After": str(fault["retry_after"])})
            if fault["status"] != 200:
                return web.Response(status=fault["status"], text="upstream error")
            return web.json_response({"ok": False, "error": fault["error"]})
        self.answered.append(method)
        return web.json_response({"ok": True, **self._result(method, body)})

    def _result(self, method: str, body: dict) -> dict:
        if method == "auth.test":
            return {"user_id": BOT_USER, "bot_id": "B0BOT", "team_id": TEAM, "team": "Sales", "user": "chatcrm",
                    "url": "https://sales.slack.test/"}
        if method == "chat.postEphemeral":
            return {"message_ts": f"{int(time.time())}.{next(self._ts):06d}"}
        if method in ("chat.postMessage", "chat.update"):
            ts = body.get("ts") or f"{int(time.time())}.{next(self._ts):06d}"
            if method == "chat.postMessage":
                self.posted_ts.append(ts)
            return {"channel": body.get("channel"), "ts": ts, "message": {"text": body.get("text")}}
        if method == "chat.delete":
            return {"channel": body.get("channel"), "ts": body.get("ts")}
        if method == "apps.connections.open":
            return {"url": f"ws://127.0.0.1:{self.port}/socket"}
        if method == "conversations.open":
            return {"channel": {"id": f"D{body.get('users')}"}}
        if method == "users.info":
            user = body.get("user")
            extra = dict(self.profiles.get(user, {}))
            if str(body.get("include_locale")).lower() not in ("1", "true"):
                extra.pop("locale", None)  # Slack gives the locale only when asked
            return {"user": {"id": user, "name": user, "real_name": self.users.get(user, user),
                             "profile": {"display_name": self.users.get(user, "")}, **extra}}
        if method == "files.getUploadURLExternal":
            file_id = f"FUP{next(self._ts):04d}"
            self.uploads[file_id] = {"filename": body.get("filename"), "length": int(body.get("length") or 0),
                                     "data": None, "shared_to": None, "completed": False}
            return {"upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = body.get("files")
            listed = json.loads(files) if isinstance(files, str) else files or []
            for entry in listed:
                upload = self.uploads[entry["id"]]
                upload.update(completed=True, title=entry.get("title"), shared_to=body.get("channel_id"),
                              comment=body.get("initial_comment"), thread_ts=body.get("thread_ts"))
            return {"files": [{"id": entry["id"], "title": entry.get("title")} for entry in listed]}
        if method == "files.info":
            return {"file": self.add_file(body.get("file"), self.files.get(body.get("file"), b""),
                                          name="voice.m4a", mimetype="audio/mp4", subtype="slack_audio",
                                          channels=["C1"])}
        return {}

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then push envelopes with `push`; the client acks each envelope id."""
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        await socket.send_json({"type": "hello", "num_connections": 1})
        async for frame in socket:
            if frame.type == aiohttp.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(frame.data).get("envelope_id", ""))
        return socket

    async def push(self, kind: str, payload: dict, envelope_id: str) -> None:
        deadline = time.monotonic() + 10
        while self._socket is None:
            if time.monotonic() > deadline:
                raise AssertionError("the app never opened a Socket Mode connection")
            await asyncio.sleep(0.02)
        await self._socket.send_json({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                      "accepts_response_payload": kind != "events_api"})

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL: Slack takes the raw bytes (or a multipart form with a `file` part)."""
        file_id = request.match_info["file_id"]
        if file_id not in self.uploads:
            return web.Response(status=404)
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            part = form.get("file") or next(iter(form.values()))
            data = part.file.read() if hasattr(part, "file") else bytes(str(part), "utf-8")
        else:
            data = await request.read()
        self.uploads[file_id]["data"] = data
        self.calls.append(Call("upload", {"file": file_id, "bytes": len(data)}, dict(request.headers)))
        return web.Response(text=f"OK - {len(data)}")

    async def _download(self, request: web.Request) -> web.Response:
        self.calls.append(Call("download", {"file": request.match_info["file_id"]}, dict(request.headers)))
        if (request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}"
                or request.match_info["file_id"] in self.login_page_for):
            return web.Response(text="<!DOCTYPE html><html><body>Sign in to Slack</body></html>",
                                content_type="text/html")
        data = self.files.get(request.match_info["file_id"])
        return web.Response(body=data) if data is not None else web.Response(status=404)


# -- delivering requests the way Slack does ---------------------------------------------------
def signed_headers(body: str, *, secret: str = SIGNING_SECRET, content_type: str, retry: int | None = None,
                   timestamp: int | None = None) -> dict[str, str]:
    ts = str(timestamp or int(time.time()))
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
    if retry is not None:
        headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
    return headers


async def deliver(url: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.post(url, data=body.encode(), headers=headers) as response:
        return response.status, await response.text()


_events = itertools.count(1)


async def event(url: str, event_body: dict, *, retry: int | None = None, event_id: str | None = None,
                secret: str = SIGNING_SECRET) -> tuple[int, str]:
    payload = json.dumps({"token": "x", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
                          "event_id": event_id or f"Ev{next(_events)}", "event_time": int(time.time()),
                          "event": event_body})
    return await deliver(url, payload, signed_headers(payload, secret=secret, content_type="application/json",
                                                      retry=retry))


async def slash(url: str, text: str, *, user: str = "U1", channel: str = "C1") -> tuple[int, str]:
    """`/crm text` typed by `user` in `channel` (`D<user>` is their DM with the bot)."""
    body = urlencode({"token": "x", "team_id": TEAM, "channel_id": channel, "user_id": user, "command": "/crm",
                      "text": text, "trigger_id": f"t{next(_events)}", "response_url": "http://127.0.0.1:9/r"})
    return await deliver(url, body, signed_headers(body, content_type="application/x-www-form-urlencoded"))


async def interactive(url: str, payload: dict) -> tuple[int, str]:
    body = urlencode({"payload": json.dumps(payload)})
    return await deliver(url, body, signed_headers(body, content_type="application/x-www-form-urlencoded"))


def dm(text: str, *, user: str = "U1", ts: str | None = None, **extra: Any) -> dict:
    return {"type": "message", "channel": f"D{user}", "channel_type": "im", "user": user, "text": text,
            "ts": ts or f"{time.time():.6f}", **extra}


def channel_message(text: str, *, user: str = "U1", channel: str = "C1", channel_type: str = "channel",
                    **extra: Any) -> dict:
    """A message in a channel the bot is in (`channel_type`: channel, group, mpim)."""
    return {"type": "message", "channel": channel, "channel_type": channel_type, "user": user, "text": text,
            "ts": f"{time.time():.6f}", **extra}


def home_action(value: str, *, user: str = "U1") -> dict:
    """A button pressed on the App Home tab: the container is the view, there is no channel or message."""
    return {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM},
            "trigger_id": f"t{next(_events)}", "container": {"type": "view", "view_id": "V0HOME"},
            "view": {"id": "V0HOME", "type": "home", "blocks": []},
            "actions": [{"action_id": "crm:0:0", "block_id": "row0", "value": value, "type": "button",
                         "action_ts": f"{time.time():.6f}"}]}


def block_action(value: str, *, user: str = "U1", channel: str = "DU1", message_ts: str = "1700000000.000100") -> dict:
    return {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM},
            "trigger_id": f"t{next(_events)}", "container": {"type": "message", "channel_id": channel,
                                                            "message_ts": message_ts},
            "channel": {"id": channel}, "message": {"ts": message_ts},
            "actions": [{"action_id": "crm:0:0", "block_id": "row0", "value": value, "type": "button",
                         "action_ts": f"{time.time():.6f}"}]}
