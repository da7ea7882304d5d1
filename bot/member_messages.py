"""Messages the bot sends on its own to a member's private chat (`core.events.Tell`): rendered in the member's
language with their platform's command forms, sent after the commit, off the caller's path.

A send that fails is logged; what the message reports is stored either way (the handover happened, the
customer is in the pool) and shows on the card, /team and /history."""

from __future__ import annotations

import asyncio
import logging

from sqlmodel import col, select

from bot.context import Ctx, Deps
from bot.render import esc
from core.chat import ChatRef, Envelope, Reply, Sender, TextIn
from core.events import Tell
from core.models import ChatIdentity, Member
from core.uow import Database

log = logging.getLogger(__name__)


class MemberMessages:
    def __init__(self, deps: Deps, database: Database) -> None:
        self.deps, self.database = deps, database
        self._tasks: set[asyncio.Task[int]] = set()

    def deliver(self, event: Tell) -> None:
        """Send `event` soon (off the caller's path)."""
        task = asyncio.get_running_loop().create_task(self.send(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def send(self, event: Tell) -> int:
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
            log.exception("could not tell member %s %s", event.member_id, event.key)
            return 0
        return 1

    async def drain(self) -> None:
        """Wait for the messages on their way (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _render(self, event: Tell) -> tuple[ChatRef, Reply] | None:
        with self.database.unit_of_work() as uow:
            member = uow.session.get(Member, event.member_id)
            if member is None or not member.active:
                return None
            identity = uow.session.exec(
                select(ChatIdentity).where(ChatIdentity.member_id == event.member_id,
                                           col(ChatIdentity.platform).in_(list(self.deps.messengers)))
                .order_by(col(ChatIdentity.id).desc()).limit(1)).first()
            if identity is None:
                return None
            chat = ChatRef(identity.platform, identity.chat_id)
            now = self.deps.clock.now()
            ctx = Ctx(self.deps, uow, TextIn(Envelope(chat, Sender("", ""), "", now), ""), now, None,
                      member.language)
            values = {name: esc(value) for name, value in event.values}
            return chat, Reply(ctx.t(event.key, **values))
