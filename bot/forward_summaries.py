"""One summary per forwarded burst: a timer per chat, restarted by every message that joins the burst.

The messages themselves are stored at once by `core.usecases.forwards`; only the summary waits until the
burst is over (`forward_batch_seconds` after its last message). The timer only says when to look: the
burst's row decides (`end_burst`). When the burst's messages reached several processes, each has a timer;
one that fires while another process has extended the burst waits for the rest, and exactly one process
claims the summary, so a burst split across processes gets one summary. A timer dies with its process (a crash,
a restart): `sweep` (a periodic job, run at start and every `SWEEP_SECONDS`) finds bursts over for longer than
`SWEEP_GRACE` with no summary sent and claims each the same way, so it is sent once, by one process.
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
from core.usecases.forwards import BurstSummary, end_burst, overdue_bursts

log = logging.getLogger(__name__)
MAX_LOOKS = 100  # a burst extended this many times in a row is summarised by whichever process looks last
SWEEP_SECONDS = 30.0
SWEEP_GRACE = timedelta(seconds=30)  # a live timer sends the summary at the burst's end; the sweep only after this


class ForwardSummaries:
    def __init__(self, deps: Deps, database: Database, delay: float) -> None:
        self.deps, self.database, self.delay = deps, database, delay
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._looking: set[asyncio.Task[None]] = set()  # timers past their first wait: claiming, never cancelled

    def restart(self, event: ForwardBurstGrew) -> None:
        """A message joined (or began) the chat's burst: its timer starts again. A timer already looking is left
        to finish: cancelled in the middle of a claim, the summary it claimed would be lost; it finds the burst
        extended (and waits) or claims the burst this message did not join, and exactly one timer claims each."""
        key = str(event.chat)
        if (old := self._timers.get(key)) is not None and old not in self._looking:
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
        me = asyncio.current_task()
        if me is not None:
            self._looking.add(me)
        try:
            reply = None
            for _ in range(MAX_LOOKS):
                summary, open_for = await asyncio.to_thread(self._end, event, due)
                if open_for is None:
                    reply = summary
                    break
                await asyncio.sleep(open_for.total_seconds())  # extended (maybe by another process): look again
                due += open_for
            if self._timers.get(str(event.chat)) is me:
                self._timers.pop(str(event.chat), None)
            if reply is not None:
                await self._send(event.chat, reply)
        finally:
            if me is not None:
                self._looking.discard(me)

    async def sweep(self, now: datetime) -> int:
        """Send the summaries of bursts that ended more than `SWEEP_GRACE` ago without one (their process died);
        each is claimed by one process only. Returns how many were sent."""
        grace = max(SWEEP_GRACE, timedelta(seconds=4 * self.delay))
        overdue = await asyncio.to_thread(self._overdue, now - grace)
        sent = 0
        for member_id, chat in overdue:
            if str(chat) in self._timers or self.deps.messenger(chat.platform) is None:
                continue  # this process's own timer will look; or a platform another process serves
            reply, _ = await asyncio.to_thread(self._claim, member_id, chat, now)
            if reply is not None and await self._send(chat, reply):
                log.info("sent the overdue forward summary to %s", chat)
                sent += 1
        return sent

    def _overdue(self, ended_before: datetime) -> list[tuple[int, ChatRef]]:
        with self.database.unit_of_work() as uow:
            return overdue_bursts(uow, ended_before)

    async def _send(self, chat: ChatRef, reply: Reply) -> bool:
        messenger = self.deps.messenger(chat.platform)
        if messenger is None:
            return False
        try:
            await messenger.send(chat, reply)
        except Exception:  # the record is saved; only the summary is lost
            log.exception("could not send the forward summary to %s", chat)
            return False
        return True

    def _end(self, event: ForwardBurstGrew, due: datetime) -> tuple[Reply | None, timedelta | None]:
        return self._claim(event.member_id, event.chat, max(due, self.deps.clock.now()))

    def _claim(self, member_id: int, chat: ChatRef, at: datetime) -> tuple[Reply | None, timedelta | None]:
        with self.database.unit_of_work() as uow:
            end = end_burst(uow, member_id, chat, at)
            if end.open_for is not None:
                return None, end.open_for
            return (self._render(uow, end.summary, chat) if end.summary is not None else None), None

    def _render(self, uow: UnitOfWork, summary: BurstSummary, chat: ChatRef) -> Reply:
        return summary_reply(_context(self.deps, uow, summary.actor, chat), summary)


def summary_reply(ctx: Ctx, summary: BurstSummary) -> Reply:
    """The burst's one summary: how many messages were saved, then the record's card."""
    reply = card_for(ctx, summary.note)
    return Reply(f"{ctx.t('forwards.saved', n=summary.messages)}\n{reply.text}", buttons=reply.buttons)


def _context(deps: Deps, uow: UnitOfWork, actor: Actor, chat: ChatRef) -> Ctx:
    now = deps.clock.now()
    return Ctx(deps, uow, TextIn(Envelope(chat, Sender("", ""), "", now), ""), now, actor, actor.language)
