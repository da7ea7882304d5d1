"""Messages about access requests that the bot sends on its own: the request (with Approve / Decline) to the
customer's owner and the managers, the answer to the member who asked.

Wired in the composition root: `ChatCRM.deliver` hands every `core.usecases.access.AccessRequested` to
`AccessRequests.deliver` (after the commit, so a press on Approve always finds the request)."""

from __future__ import annotations

import asyncio
import logging

from bot.context import Ctx, Deps
from bot.handlers.access import request_buttons
from bot.render import esc
from core.chat import ChatRef, Envelope, Reply, Sender, TextIn
from core.uow import Database
from core.usecases.access import AccessMessage, AccessRequested, access_messages

log = logging.getLogger(__name__)


class AccessRequests:
    def __init__(self, deps: Deps, database: Database) -> None:
        self.deps, self.database = deps, database
        self._tasks: set[asyncio.Task[None]] = set()

    def deliver(self, event: AccessRequested) -> None:
        """Send the request's messages soon (off the caller's path)."""
        task = asyncio.get_running_loop().create_task(self.send(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def send(self, event: AccessRequested) -> int:
        """Send them now; returns how many went out (one failed send is logged, never stops the others)."""
        outgoing = await asyncio.to_thread(self._render, event)
        sent = 0
        for chat, reply in outgoing:
            messenger = self.deps.messenger(chat.platform)
            if messenger is None:
                continue
            try:
                await messenger.send(chat, reply)
                sent += 1
            except Exception:  # the request is stored; it can be asked again
                log.exception("could not send an access message to %s", chat)
        return sent

    def _render(self, event: AccessRequested) -> list[tuple[ChatRef, Reply]]:
        with self.database.unit_of_work() as uow:
            messages = access_messages(uow, event.request_id, list(self.deps.messengers))
            return [(m.to, self._reply(Ctx(self.deps, uow, _nothing(m.to, self.deps), self.deps.clock.now(),
                                           None, m.language), m)) for m in messages]

    @staticmethod
    def _reply(ctx: Ctx, message: AccessMessage) -> Reply:
        request = message.request
        values = {"customer": esc(request.customer.name), "requester": esc(request.requester),
                  "owner": esc(request.owner), "decider": esc(request.decided_by or "")}
        if message.kind == "ask":
            return Reply(ctx.t("customer_admin.request", **values), buttons=request_buttons(ctx, request))
        key = "customer_admin.you_were_granted" if message.kind == "granted" else "customer_admin.you_were_declined"
        return Reply(ctx.t(key, **values))


def _nothing(chat: ChatRef, deps: Deps) -> TextIn:
    now = deps.clock.now()
    return TextIn(Envelope(chat, Sender("", ""), "", now), "")
