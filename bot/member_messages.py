"""Messages the bot sends on its own to a member's private chat (`core.events.Tell`): rendered in the member's
language with their platform's command forms, sent after the commit, off the caller's path.

A send that fails is logged; what the message reports is stored either way (the handover happened, the
customer is in the pool) and shows on the card, /team and /history."""

from __future__ import annotations

import asyncio
import logging
from typing import Generic, Protocol, TypeVar

from bot.context import Ctx, Deps
from bot.render import esc
from core.chat import ChatRef, Envelope, Reply, Sender, TextIn
from core.events import Tell
from core.uow import Database
from core.usecases.member_chats import MemberChat, private_chat

log = logging.getLogger(__name__)


class ToMember(Protocol):
    @property
    def member_id(self) -> int: ...


E = TypeVar("E", bound=ToMember)


class OwnMessages(Generic[E]):
    """Sends what `render` makes of an event to one member's private chat, after the commit and off the caller's
    path; one failed send is logged and never stops the others. `render` runs in its own unit of work."""

    def __init__(self, deps: Deps, database: Database) -> None:
        self.deps, self.database = deps, database
        self._tasks: set[asyncio.Task[int]] = set()

    def deliver(self, event: E) -> None:
        """Send `event` soon (off the caller's path)."""
        task = asyncio.get_running_loop().create_task(self.send(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def send(self, event: E) -> int:
        """Send it now to the member's most recently linked chat; returns 1 when it went out, else 0."""
        rendered = await asyncio.to_thread(self._render, event)
        if rendered is None:
            return 0
        chat, reply = rendered
        messenger = self.deps.messenger(chat.platform)
        if messenger is None:
            return 0
        try:
            await messenger.send(chat, reply)
        except Exception:
            log.exception("could not send %s to member %s", type(event).__name__, event.member_id)
            return 0
        return 1

    async def drain(self) -> None:
        """Wait for the messages on their way (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _render(self, event: E) -> tuple[ChatRef, Reply] | None:
        with self.database.unit_of_work() as uow:
            found = private_chat(uow, event.member_id, list(self.deps.messengers))
            if found is None:
                return None
            now = self.deps.clock.now()
            ctx = Ctx(self.deps, uow, TextIn(Envelope(found.chat, Sender("", ""), "", now), ""), now, None,
                      found.language)
            return found.chat, Reply(self.render(ctx, event, found))

    def render(self, ctx: Ctx, event: E, to: MemberChat) -> str:
        raise NotImplementedError


class MemberMessages(OwnMessages[Tell]):
    """`core.events.Tell`: a catalogue message with its values escaped."""

    def render(self, ctx: Ctx, event: Tell, to: MemberChat) -> str:
        return ctx.t(event.key, **{name: esc(value) for name, value in event.values})
