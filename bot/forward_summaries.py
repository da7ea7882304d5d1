"""One summary per forwarded burst: a timer per chat, restarted by every message that joins the burst.

The messages themselves are stored at once by `core.usecases.forwards`; only the summary waits until the
burst is over (`forward_batch_seconds` after its last message).
"""

from __future__ import annotations

import asyncio
import logging

from bot.context import Ctx, Deps
from bot.note_cards import card_for
from core.chat import ChatRef, Envelope, Reply, Sender, TextIn
from core.events import ForwardBurstGrew
from core.services.actor import Actor
from core.uow import Database, UnitOfWork
from core.usecases.forwards import burst_summary

log = logging.getLogger(__name__)


class ForwardSummaries:
    def __init__(self, deps: Deps, database: Database, delay: float) -> None:
        self.deps, self.database, self.delay = deps, database, delay
        self._timers: dict[str, asyncio.Task[None]] = {}

    def restart(self, event: ForwardBurstGrew) -> None:
        key = str(event.chat)
        if (old := self._timers.get(key)) is not None:
            old.cancel()
        self._timers[key] = asyncio.get_running_loop().create_task(self._send_later(event))

    def cancel_all(self) -> None:
        for task in self._timers.values():
            task.cancel()
        self._timers.clear()

    async def _send_later(self, event: ForwardBurstGrew) -> None:
        await asyncio.sleep(self.delay)
        self._timers.pop(str(event.chat), None)
        messenger = self.deps.messenger(event.chat.platform)
        if messenger is None:
            return
        reply = await asyncio.to_thread(self._render, event)
        if reply is None:
            return
        try:
            await messenger.send(event.chat, reply)
        except Exception:  # the record is saved; only the summary is lost
            log.exception("could not send the forward summary to %s", event.chat)

    def _render(self, event: ForwardBurstGrew) -> Reply | None:
        with self.database.unit_of_work() as uow:
            summary = burst_summary(uow, event.member_id, event.interaction_id)
            if summary is None:
                return None
            ctx = _context(self.deps, uow, summary.actor, event.chat)
            reply = card_for(ctx, summary.note)
            return Reply(f"{ctx.t('forwards.saved', n=summary.messages)}\n{reply.text}", buttons=reply.buttons)


def _context(deps: Deps, uow: UnitOfWork, actor: Actor, chat: ChatRef) -> Ctx:
    now = deps.clock.now()
    return Ctx(deps, uow, TextIn(Envelope(chat, Sender("", ""), "", now), ""), now, actor, actor.language)
