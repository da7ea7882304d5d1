"""A fake Telegram Bot API on 127.0.0.1 for driving the real python-telegram-bot end to end.

Serves getMe, getUpdates (long polling with offsets), deleteWebhook/setWebhook, sendMessage,
editMessageText, editMessageReplyMarkup, answerCallbackQuery, sendChatAction, sendPhoto, sendDocument,
getFile, file downloads and setMyCommands. Records every request with its decoded body and the status
it was answered with, and can inject faults per method: a 429 with retry_after, a 500, a 403 (blocked),
a 400 (chat not found), a delay, a connection dropped after the request arrived (`Fault(DROP)`).
Users in `never_started` have not opened a private chat with the bot: sends to their chat get 403. With `enforce_limits=True` it holds Telegram's real limits on messages
sent (30 per second overall, 1 per second per chat, counted on accepted requests as they arrive) and
answers 429 with `retry_after` when a request would exceed them; `rate_limited` counts those 429s.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 777000
USERNAME = "chatcrm_test_bot"


DROP = 0  # Fault status: close the connection without answering (the request arrived; no reply)
SENDING = {"sendMessage", "sendPhoto", "sendDocument", "sendVoice", "sendAudio", "copyMessage", "forwardMessage"}


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class Fault:
    status: int
    description: str
    retry_after: int | None = None
    delay: float = 0.0
    times: int = 1


@dataclass
class FakeTelegram:
    token: str = "123456:TEST-token-for-the-fake-api-000"
    calls: list[Call] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    updates: list[dict] = field(default_factory=list)
    _update_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count = field(default_factory=lambda: itertools.count(5000))
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    port: int = 0
    enforce_limits: bool = False
    overall_per_second: int = 30
    chat_gap: float = 1.0
    rate_limited: int = 0  # 429s answered because a limit was exceeded
    overall_violations: int = 0  # of those: more than `overall_per_second` in one second
    chat_violations: int = 0  # of those: a second message to one chat within `chat_gap`
    _accepted: deque = field(default_factory=deque)  # arrival times of accepted sends in the last second
    _chat_last: dict[str, float] = field(default_factory=dict)
    never_started: set[int] = field(default_factory=set)  # user ids that never opened a private chat

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    # -- test helpers ----------------------------------------------------------------------
    def inject(self, update: dict) -> dict:
        update = {"update_id": next(self._update_ids), **update}
        self.updates.append(update)
        self._new_update.set()
        return update

    def fail(self, method: str, fault: Fault) -> None:
        self.faults.setdefault(method, []).append(fault)

    def sent(self, method: str | None = None) -> list[Call]:
        return [c for c in self.calls if method is None or c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.sent(method)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.02)
        seen = sorted({c.method for c in self.calls})
        raise AssertionError(f"{method} called {len(self.sent(method))} times, expected {count}; methods seen: {seen}")

    # -- HTTP ------------------------------------------------------------------------------
    async def _body(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return await request.json()
        form = await request.post()
        body: dict[str, Any] = {}
        for key, value in form.items():
            if hasattr(value, "file"):
                body[key] = {"filename": value.filename, "size": len(value.file.read())}
                continue
            try:
                body[key] = json.loads(value) if key in ("reply_markup", "commands", "allowed_updates",
                                                         "scope", "entities", "reply_parameters",
                                                         "link_preview_options") else value
            except (TypeError, ValueError):
                body[key] = value
        return body

    def _over_limit(self, method: str, body: dict[str, Any], now: float) -> float:
        """Seconds to wait when this send would exceed Telegram's limits (0: accept it and count it)."""
        if not self.enforce_limits or method not in SENDING:
            return 0.0
        while self._accepted and self._accepted[0] <= now - 1.0:
            self._accepted.popleft()
        chat = str(body.get("chat_id"))
        wait = 0.0
        if len(self._accepted) >= self.overall_per_second:
            wait = self._accepted[0] + 1.0 - now
            self.overall_violations += 1
        if chat in self._chat_last and now - self._chat_last[chat] < self.chat_gap:
            wait = max(wait, self._chat_last[chat] + self.chat_gap - now)
            self.chat_violations += 1
        if wait <= 0:
            self._accepted.append(now)
            self._chat_last[chat] = now
        return wait

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await self._body(request)
        call = Call(method, body, time.monotonic())
        self.calls.append(call)
        response = await self._answer(method, body, call)
        if response is None:  # Fault(DROP): the request arrived, the connection closes without an answer
            call.status = DROP
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        call.status = response.status
        return response

    async def _answer(self, method: str, body: dict[str, Any], call: Call) -> web.Response | None:
        if wait := self._over_limit(method, body, call.at):
            self.rate_limited += 1
            return web.json_response({"ok": False, "error_code": 429,
                                      "description": f"Too Many Requests: retry after {math.ceil(wait)}",
                                      "parameters": {"retry_after": math.ceil(wait)}}, status=429)
        faults = self.faults.get(method) or []
        if faults:
            fault = faults[0]
            fault.times -= 1
            if fault.times <= 0:
                faults.pop(0)
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status == DROP:
                return None
            if fault.status != 200:
                payload: dict[str, Any] = {"ok": False, "error_code": fault.status, "description": fault.description}
                if fault.retry_after is not None:
                    payload["parameters"] = {"retry_after": fault.retry_after}
                return web.json_response(payload, status=fault.status)
        if method in SENDING and _int(body.get("chat_id")) in self.never_started:
            return web.json_response({"ok": False, "error_code": 403,
                                      "description": "Forbidden: bot can't initiate conversation with a user"},
                                     status=403)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 400, "description": f"method {method} unknown"},
                                     status=400)
        result = await handler(body)
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        if path not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[path])

    def _message(self, body: dict, **extra: Any) -> dict:
        chat_id = int(body.get("chat_id", 0))
        return {"message_id": int(body.get("message_id") or next(self._message_ids)), "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "chatcrm", "username": USERNAME},
                **extra}

    async def _m_getMe(self, body):
        return {"id": BOT_ID, "is_bot": True, "first_name": "chatcrm", "username": USERNAME,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _m_getUpdates(self, body):
        offset = int(body.get("offset") or 0)
        timeout = float(body.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        while True:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            if self.updates or time.monotonic() >= deadline:
                return list(self.updates[:100])
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), max(0.01, deadline - time.monotonic()))

    async def _m_deleteWebhook(self, body):
        return True

    async def _m_setWebhook(self, body):
        return True

    async def _m_setMyCommands(self, body):
        return True

    async def _m_sendChatAction(self, body):
        return True

    async def _m_answerCallbackQuery(self, body):
        return True

    async def _m_sendMessage(self, body):
        return self._message(body, text=body.get("text", ""))

    async def _m_editMessageText(self, body):
        return self._message(body, text=body.get("text", ""))

    async def _m_editMessageReplyMarkup(self, body):
        return self._message(body, text="")

    async def _m_sendPhoto(self, body):
        return self._message(body, photo=[{"file_id": "p1", "file_unique_id": "p1u", "width": 1, "height": 1}])

    async def _m_sendDocument(self, body):
        return self._message(body, document={"file_id": "d1", "file_unique_id": "d1u"})

    async def _m_getFile(self, body):
        file_id = body["file_id"]
        path = f"fake-files/{file_id}/blob.bin"
        return {"file_id": file_id, "file_unique_id": f"{file_id}-u", "file_size": len(self.files.get(path, b"")),
                "file_path": path}

    def add_file(self, file_id: str, data: bytes) -> None:
        self.files[f"fake-files/{file_id}/blob.bin"] = data


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- update builders ---------------------------------------------------------------------------
_ids = itertools.count(100)


def user(user_id: int = 42, first: str = "Amy", last: str | None = "Lin", language: str = "en") -> dict:
    data = {"id": user_id, "is_bot": False, "first_name": first, "language_code": language}
    if last:
        data["last_name"] = last
    return data


def message(text: str | None = None, *, chat_id: int = 42, sender: dict | None = None, chat_type: str = "private",
            **extra: Any) -> dict:
    body: dict[str, Any] = {"message_id": next(_ids), "date": int(time.time()),
                            "chat": {"id": chat_id, "type": chat_type, **({"title": "Sales"} if chat_type != "private" else {})},
                            "from": sender or user(chat_id)}
    if text is not None:
        body["text"] = text
        if text.startswith("/"):
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    body.update(extra)
    return {"message": body}


def callback(data: str, *, message_id: int, chat_id: int = 42, sender: dict | None = None,
             chat_type: str = "private", addressee: dict | None = None) -> dict:
    """A button press on the bot's message `message_id`; in a group, `addressee` is who that message answered."""
    card: dict[str, Any] = {"message_id": message_id, "date": int(time.time()),
                            "chat": {"id": chat_id, "type": chat_type,
                                     **({"title": "Sales"} if chat_type != "private" else {})},
                            "from": {"id": BOT_ID, "is_bot": True, "first_name": "chatcrm"}, "text": "card"}
    if addressee is not None:
        card["reply_to_message"] = {"message_id": message_id - 1, "date": int(time.time()), "text": "/c",
                                    "chat": card["chat"], "from": addressee}
    return {"callback_query": {"id": str(next(_ids)), "from": sender or user(chat_id), "chat_instance": "ci",
                               "data": data, "message": card}}
