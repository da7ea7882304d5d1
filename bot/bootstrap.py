"""The composition root: settings → engine → deps → scheduler, forward summaries, router; adapters attach here.

`build(settings)` creates every part once, with typed dependencies; nothing is created lazily elsewhere
(the transcription model is assembled on first use by `LazyTranscription`, which is built here).
`ChatCRM.handle` is what every adapter calls: one update, one unit of work.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

from sqlalchemy import Engine

from bot import commands, group_privacy, periodic, router
from bot.access_requests import AccessRequests
from bot.context import Ctx, Deps
from bot.forward_summaries import ForwardSummaries
from bot.handover_messages import HandoverMessages
from bot.i18n import normalize_language, t
from bot.member_messages import MemberMessages
from bot.notifier import create_scheduler
from bot.render import esc
from core.chat import ButtonIn, ChatRef, CommandIn, EditedIn, Envelope, Incoming, Reply, Sender, TextIn
from core.db import StorageUnavailable, make_engine, upgrade
from core.events import Event, FollowUpsChanged, ForwardBurstGrew, SpooledFileDone, Tell
from core.ports import Clock, Messenger, SystemClock
from core.scheduling import FollowUpScheduler
from core.services import inbox, outbox
from core.services.actor import Actor
from core.services.errors import ServiceError
from core.settings import Settings
from core.text import guess_language
from core.uow import Database, UnitOfWork, unit_of_work
from core.usecases import chat_import_spool
from core.usecases.access import AccessRequested
from core.usecases.handover import HandedOver
from core.usecases.lost_replies import record_lost_replies, take_lost_replies
from core.usecases.members import former_member, who_wrote
from core.voice.service import LazyTranscription, TranscriptionService

log = logging.getLogger("chatcrm")


class ChatCRM:
    """One running CRM bot: handles every incoming update and owns the background parts."""

    def __init__(self, deps: Deps, engine: Engine, scheduler: FollowUpScheduler,
                 forward_summaries: ForwardSummaries) -> None:
        self.deps, self.engine = deps, engine
        self.scheduler = scheduler
        self.forward_summaries = forward_summaries
        self.access_requests = AccessRequests(deps, Database(engine))  # requests to owners/managers, answers back
        self.member_messages = MemberMessages(deps, Database(engine))  # news a member did not ask for (Tell)
        self.handover_messages = HandoverMessages(deps, Database(engine))  # a handover's summary to the receiver
        self._scheduler_running = False

    @property
    def settings(self) -> Settings:
        return self.deps.settings

    @property
    def clock(self) -> Clock:
        return self.deps.clock

    @property
    def messengers(self) -> dict[str, Messenger]:
        return self.deps.messengers

    def attach(self, messenger: Messenger) -> None:
        self.deps.messengers[messenger.platform] = messenger

    async def start(self, *, with_scheduler: bool = True) -> None:
        upgrade(self.engine)
        if with_scheduler:
            await self.scheduler.start()
            self._scheduler_running = True

    async def stop(self) -> None:
        if self._scheduler_running:
            await self.scheduler.stop()
            self._scheduler_running = False
        self.forward_summaries.cancel_all()
        getattr(self.scheduler.dispatcher.pacer, "close", lambda: None)()  # the shared pacer's connections

    def context(self, uow: UnitOfWork, incoming: Incoming, member: Actor | None) -> Ctx:
        return Ctx(self.deps, uow, incoming, self.clock.now(), member, self.language_for(incoming, member))

    def language_for(self, incoming: Incoming, member: Actor | None) -> str:
        """A member's own language; for a stranger, the language they wrote in, else their platform's, else ours."""
        if member is not None:
            return member.language
        written = incoming.text if isinstance(incoming, TextIn) else \
            incoming.args if isinstance(incoming, CommandIn) else ""
        return guess_language(written) or normalize_language(incoming.env.sender.language_code,
                                                             self.settings.default_language)

    def context_for(self, uow: UnitOfWork, member: Actor, chat: ChatRef) -> Ctx:
        """A context for a message the bot sends on its own (a summary) to `member` in `chat`."""
        now = self.clock.now()
        return self.context(uow, TextIn(Envelope(chat, Sender("", ""), "", now), ""), member)

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Answer one update. Never raises: every failure becomes a short reply and a log line."""
        language = self.language_for(incoming, None)
        try:
            return await self._handle(incoming)
        except inbox.Redelivered:
            log.info("ignored a redelivered update %s", update_keys(incoming))
            claim = inbox.current()
            if claim is not None and claim.attempts > 1:  # an earlier attempt died after its commit: answer now
                claim.redelivered = True
                return [Reply(t(language, "inbox.already_saved"))]
            return []
        except StorageUnavailable:
            log.exception("storage unavailable while handling %s", update_keys(incoming))
            return [Reply(t(language, "core.storage_unavailable"))]
        except Exception:
            log.exception("failed to handle %s", update_keys(incoming))
            return [Reply(t(language, "core.sorry"))]

    async def _handle(self, incoming: Incoming) -> list[Reply]:
        env = incoming.env
        keys = update_keys(incoming)
        with unit_of_work(self.engine) as uow:
            member = who_wrote(uow, env.chat.platform, env.sender.platform_user_id)
            recorded = None  # the transaction the keys were written in, when written first
            if member is not None and keys and isinstance(incoming, KEYS_FIRST):
                # the keys go in first: the insert is the redelivery check (one statement, not three)
                if inbox.record_keys(uow, env.chat.platform, keys):
                    if (stored := self._stored_answer(uow, incoming, keys)) is not None:
                        return stored  # an earlier attempt committed it: its replies not sent yet, nothing else
                    raise inbox.Redelivered(keys[0])
                recorded = uow.session.get_transaction()
                claim = inbox.current()  # taken before: an earlier attempt may have stored replies without keys
                if claim is not None and (claim.attempts > 1 or inbox.answering(claim) is not None) and \
                        (stored := self._stored_answer(uow, incoming, keys)) is not None:
                    return stored
            else:
                if (stored := self._stored_answer(uow, incoming, keys)) is not None:
                    return stored  # an earlier attempt committed this update: its replies not sent yet
                if inbox.seen_before(uow, env.chat.platform, keys):
                    raise inbox.Redelivered(keys[0])
            if member is None and (refused := self._refuse_former(uow, incoming)) is not None:
                # someone removed from their team: told so, nothing stored
                return self._answer_with(uow, incoming, keys, refused, None)
            ctx = self.context(uow, incoming, member)
            missed = take_lost_replies(uow, member, ctx.now) if member is not None else 0
            try:
                replies = await router.dispatch(ctx)
            except ServiceError as error:
                uow.rollback()
                return group_privacy.refusal(ctx, ctx.t(f"errors.{error.code}"))
            if missed:
                replies.insert(0, Reply(ctx.t("delivery.earlier_lost", n=missed)))
            if (member is not None or ctx.member is not None) and (
                    recorded is None or uow.session.get_transaction() is not recorded):  # or a handler rolled back
                inbox.mark_handled(uow, env.chat.platform, keys)
            replies = self._answer_with(uow, incoming, keys, replies, ctx.member or member)
            events = list(uow.events)
        self.deliver(events)
        return replies

    def _stored_answer(self, uow: UnitOfWork, incoming: Incoming, keys: list[str]) -> list[Reply] | None:
        """The replies an earlier attempt at this inbox row committed and did not send (it was killed, or
        stopped, before or while sending): sent now, at least once; [] when all were sent. None: no such attempt."""
        claim = inbox.current()
        if claim is None or not keys:
            return None
        unsent = outbox.unsent(uow.session, incoming.env.chat.platform, keys[0])
        if unsent is None:
            return None
        log.info("update %s was handled before; sending its %d unsent replies", keys, len(unsent))
        claim.redelivered = True
        return [outbox.with_receipt(reply, outbox.Receipt(self.engine, row_id)) for row_id, reply in unsent]

    def _answer_with(self, uow: UnitOfWork, incoming: Incoming, keys: list[str], replies: list[Reply],
                     member: Actor | None) -> list[Reply]:
        """Close the update in its own transaction. From the inbox, its replies go into the outbox here and the
        inbox row stays claimed until the adapter has sent them (the worker finishes it then; a killed worker's
        row is taken again and the replies still pending are sent, see `_stored_answer`); an update without
        replies marks its row done now. Each reply returned carries the receipt that marks it sent."""
        claim = inbox.current()
        if claim is None or not keys or not any(outbox.has_content(reply) for reply in replies):
            inbox.mark_current_done(uow)  # the inbox row is done in the transaction of the update's effects
            return replies
        rows = outbox.store(uow.session, incoming.env.chat.platform, keys[0], replies,
                            team_id=member.team_id if member is not None else None,
                            member_id=member.member_id if member is not None else None, now=self.clock.now())
        inbox.mark_current_answering(uow, keys[0])  # committed: later claims of the row only send these
        return [outbox.with_receipt(reply, outbox.Receipt(self.engine, rows[index])) if index in rows else reply
                for index, reply in enumerate(replies)]

    def _refuse_former(self, uow: UnitOfWork, incoming: Incoming) -> list[Reply] | None:
        """A member removed from their team gets one short reply in their language and no CRM data; `/start CODE`
        goes on (an invite may bring them back)."""
        env = incoming.env
        if isinstance(incoming, CommandIn):
            spec = commands.resolve(incoming.command)
            if spec is not None and spec.name == "start" and incoming.args.strip():
                return None
        if isinstance(incoming, TextIn) and self.deps.command_style(env.chat.platform).bare_words:
            bare = commands.bare_command(incoming.text)
            if bare is not None and bare[0].name == "start" and bare[1]:
                return None
        former = former_member(uow, env.chat.platform, env.sender.platform_user_id)
        if former is None:
            return None
        text = t(former.language, "team.no_longer_member", team=esc(former.team_name))
        if isinstance(incoming, ButtonIn):  # a toast only they see; in a group nothing is posted there
            return [Reply("", notice=text)] if env.is_group else [Reply(text, notice=text)]
        return [Reply(text, private=env.is_group)]  # in a group: said in their own chat, nothing of the team there

    async def undelivered(self, incoming: Incoming, replies: Sequence[Reply]) -> None:
        """The adapter could not deliver the replies to `incoming` (its retries spent): their outbox rows are
        marked lost, and the member is told at their next message that it was stored (core.usecases.lost_replies)."""
        keys = update_keys(incoming)
        log.warning("replies to %s were not delivered: %d lost", keys, len(replies))
        if not keys or not replies:
            return
        env = incoming.env
        stored = [receipt.id for reply in replies if (receipt := outbox.receipt_of(reply)) is not None]
        try:
            with unit_of_work(self.engine) as uow:
                record_lost_replies(uow, env.chat.platform, env.sender.platform_user_id, keys[0], stored,
                                    unstored=len(stored) < len(replies), now=self.clock.now())
        except Exception:
            log.exception("could not record the lost replies to %s", keys)

    def open_inbox(self, worker: str) -> inbox.Inbox:
        """The durable inbox as an adapter's receiving and processing side uses it (`worker` names the process)."""
        return inbox.Inbox(self.engine, worker, self.clock)

    def parked_text(self, language: str) -> str:
        """What the member is told when one of their updates is parked after repeated failures."""
        return t(normalize_language(language, self.settings.default_language), "inbox.parked")

    def deliver(self, events: list[Event]) -> None:
        """React to what committed use cases published."""
        for event in events:
            if isinstance(event, FollowUpsChanged):
                self.scheduler.wake()
            elif isinstance(event, ForwardBurstGrew):
                self.forward_summaries.restart(event)
            elif isinstance(event, SpooledFileDone):
                chat_import_spool.discard(event)
            elif isinstance(event, AccessRequested):
                self.access_requests.deliver(event)
            elif isinstance(event, Tell):
                self.member_messages.deliver(event)
            elif isinstance(event, HandedOver):
                self.handover_messages.deliver(event)


# Updates whose keys are recorded before they are handled: their handlers never commit part-way (a voice note
# commits before transcribing, so a crash then must still find its keys absent: its keys go in at the end).
KEYS_FIRST = (TextIn, CommandIn, ButtonIn, EditedIn)


def update_keys(incoming: Incoming) -> list[str]:
    """Every identity an update carries: a redelivery repeats at least one of them.

    A message is handled once per chat and message id (whatever update id it is redelivered
    under) and once per update id (Slack retries an event under the same event id); a button
    press once per callback or update id."""
    env = incoming.env
    if isinstance(incoming, ButtonIn):
        key = incoming.callback_id or env.update_id
        return [f"b:{key}"] if key else []
    if isinstance(incoming, EditedIn):  # the same message edited again to another text is another update
        digest = hashlib.sha1(incoming.text.encode()).hexdigest()[:16]
        return [f"e:{env.chat.chat_id}:{env.message_id}:{digest}", *([f"u:{env.update_id}"] if env.update_id else [])]
    keys = [f"m:{env.chat.chat_id}:{env.message_id}"] if env.message_id else []
    if env.update_id:
        keys.append(f"u:{env.update_id}")
    return keys


def build(settings: Settings, *, clock: Clock | None = None, engine: Engine | None = None,
          transcriber: TranscriptionService | None = None) -> ChatCRM:
    """Create the app and every part it runs (nothing runs until `start`)."""
    engine = engine or make_engine(settings.database_url)
    deps = Deps(settings, clock or SystemClock(), LazyTranscription(settings, transcriber))
    scheduler = create_scheduler(engine, settings, deps.messengers, deps.clock)
    router.load_handlers()
    summaries = ForwardSummaries(deps, Database(engine), settings.forward_batch_seconds)
    app = ChatCRM(deps, engine, scheduler, summaries)
    for job in periodic.jobs(app):
        scheduler.add_periodic(job)
    return app
