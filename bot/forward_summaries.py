"""One summary per forwarded burst: a timer per chat, restarted by every message that joins the burst.

The messages themselves are stored at once by `core.usecases.forwards`; only the summary waits until the
burst is over (`forward_batch_seconds` after its last message). The timer only says when to look: the
burst's row decides (`end_burst`). When the burst's messages reached several processes, each has a timer;
one that fires while another process has extended the burst waits for the rest, and exactly one process
claims the summary, so a burst split across processes gets one summary.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from bot.context import Ctx, Deps
from bot.note_cards import card_for
from core.chat import ChatRef, Envelope, Reply, Sender, TextIn
from core.events import ForwardBurstGrew
from core.services.actor import Actor
from core.uow import Database, UnitOfWork
from core.usecases.forwards import BurstSummary, end_burst

log = logging.getLogger(__name__)
MAX_LOOKS = 100  # a burst extended this many times in a row is summarised by whichever process looks last


class ForwardSummaries:
    def __init__(self, deps: Deps, database: Database, delay: float) -> None:
        self.deps, self.database, self.delay = deps, database, delay
        self._timers: dict[str, asyncio.Task[None]] = {}

    def restart(self, event: ForwardBurstGrew) -> None:
        key = str(event.chat)
        if (old := self._timers.get(key)) is not None:
            old.cancel()
        due = self.deps.clock.now() + timedelta(seconds=self.delay)
        self._timers[key] = asyncio.get_running_loop().create_task(self._send_later(event, due))

    def cancel_all(self) -> None:
        for task in self._timers.values():
            task.cancel()
        self._timers.clear()

    async def _send_later(self, event: ForwardBurstGrew, due: datetime) -> None:
        """At `due` (the burst's end as this process knows it), end the burst or wait for its new end."""
        await asyncio.sleep(self.delay)
        messenger = self.deps.messenger(event.chat.platform)
        reply = None
        for _ in range(MAX_LOOKS):
            summary, open_for = await asyncio.to_thread(self._end, event, due)
            if open_for is None:
                reply = summary
                break
            await asyncio.sleep(open_for.total_seconds())  # extended (maybe by another process): look again then
            due += open_for
        self._timers.pop(str(event.chat), None)
        if reply is None or messenger is None:
            return
        try:
            await messenger.send(event.chat, reply)
        except Exception:  # the record is saved; only the summary is lost
            log.exception("could not send the forward summary to %s", event.chat)

    def _end(self, event: ForwardBurstGrew, due: datetime) -> tuple[Reply | None, timedelta | None]:
        with self.database.unit_of_work() as uow:
            end = end_burst(uow, event.member_id, event.chat, max(due, self.deps.clock.now()))
            if end.open_for is not None:
                return None, end.open_for
            return (self._render(uow, end.summary, event.chat) if end.summary is not None else None), None

    def _render(self, uow: UnitOfWork, summary: BurstSummary, chat: ChatRef) -> Reply:
        ctx = _context(self.deps, uow, summary.actor, chat)
        reply = card_for(ctx, summary.note)
        return Reply(f"{ctx.t('forwards.saved', n=summary.messages)}\n{reply.text}", buttons=reply.buttons)


def _context(deps: Deps, uow: UnitOfWork, actor: Actor, chat: ChatRef) -> Ctx:
    now = deps.clock.now()
    return Ctx(deps, uow, TextIn(Envelope(chat, Sender("", ""), "", now), ""), now, actor, actor.language)
