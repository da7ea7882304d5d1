"""The composition root: settings → engine → services → handlers; adapters and the scheduler attach here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot import router
from bot.context import Ctx
from bot.i18n import normalize_language, t
from core.chat import (
    ButtonIn,
    ChatRef,
    CommandIn,
    ContactIn,
    Envelope,
    FileIn,
    Incoming,
    Reply,
    Sender,
    TextIn,
    VoiceIn,
)
from core.db import StorageUnavailable, make_engine, session_scope, upgrade
from core.models import ChatState, Member, ProcessedUpdate
from core.ports import Clock, Messenger, SystemClock
from core.services.errors import ServiceError
from core.services.teams import member_for
from core.settings import Settings

log = logging.getLogger("chatcrm")


class _Duplicate(Exception):
    """The update was handled before (a redelivery)."""


class ChatCRM:
    """One running CRM bot: handles every incoming update and owns the background parts."""

    def __init__(self, settings: Settings, engine: Engine, clock: Clock | None = None,
                 transcriber: Any = None) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock or SystemClock()
        self.transcriber = transcriber  # core.voice service; created lazily by the voice handler
        self.messengers: dict[str, Messenger] = {}
        self.scheduler: Any = None
        self.background: set[Any] = set()
        router.load_handlers()

    def attach(self, messenger: Messenger) -> None:
        self.messengers[messenger.platform] = messenger

    async def start(self, *, with_scheduler: bool = True) -> None:
        upgrade(self.engine)
        if with_scheduler:
            from bot.notifier import create_scheduler

            self.scheduler = create_scheduler(self.engine, self.settings, self.messengers, self.clock)
            await self.scheduler.start()

    async def stop(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
            self.scheduler = None
        for task in list(self.background):
            task.cancel()

    def wake_scheduler(self) -> None:
        if self.scheduler is not None:
            self.scheduler.wake()

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Answer one update. Never raises: every failure becomes a short reply and a log line."""
        language = normalize_language(incoming.env.sender.language_code, self.settings.default_language)
        try:
            return await self._handle(incoming)
        except _Duplicate:
            log.info("ignored a redelivered update %s", _update_keys(incoming))
            return []
        except StorageUnavailable:
            log.exception("storage unavailable while handling %s", _update_keys(incoming))
            return [Reply(t(language, "core.storage_unavailable"))]
        except Exception:
            log.exception("failed to handle %s", _update_keys(incoming))
            return [Reply(t(language, "core.sorry"))]

    async def _handle(self, incoming: Incoming) -> list[Reply]:
        env = incoming.env
        keys = _update_keys(incoming)
        after: list[Callable[[], Any]] = []
        with session_scope(self.engine) as session:
            if any(_seen(session, env.chat.platform, key) for key in keys):
                raise _Duplicate
            member = member_for(session, env.chat.platform, env.sender.platform_user_id)
            language = member.language if member else normalize_language(
                env.sender.language_code, self.settings.default_language)
            ctx = Ctx(self, session, incoming, self.clock.now(), member, language, after)
            if member is not None and member.unreachable_since is not None:
                from core.scheduling.dispatch import mark_reachable

                mark_reachable(session, member.id or 0)  # they wrote to us: nudges resume
            try:
                replies = await self._dispatch(ctx)
            except ServiceError as error:
                session.rollback()
                return [Reply(ctx.t(f"errors.{error.code}"))]
            if member is not None:
                for key in keys:
                    _mark_seen(session, env.chat.platform, key)
        for callback in after:
            callback()
        return replies

    async def _dispatch(self, ctx: Ctx) -> list[Reply]:
        incoming = ctx.incoming
        route: router.Route | None
        args: tuple[Any, ...] = ()
        if isinstance(incoming, CommandIn):
            route = router.COMMANDS.get(incoming.command)
            if route is None:
                return [Reply(ctx.t("core.unknown_command", command=incoming.command))]
            if ctx.member is not None:
                clear_state(ctx)
        elif isinstance(incoming, ButtonIn):
            prefix, parts = router.split_payload(incoming.payload)
            route, args = router.BUTTONS.get(prefix), (parts,)
            if route is None:
                return [Reply(ctx.t("core.stale_button"), notice=ctx.t("core.stale_button"))]
        elif isinstance(incoming, TextIn):
            route = _text_route(ctx, incoming)
            if isinstance(route, Reply):
                return [route]
        else:
            kind = {VoiceIn: "voice", FileIn: "file", ContactIn: "contact"}[type(incoming)]
            route = router.CONTENT.get(kind)
            if route is None:
                return [Reply(ctx.t("core.cannot_handle"))]
        if ctx.member is None and not (route and route.public):
            return [Reply(ctx.t("core.not_member"))]
        assert route is not None
        return await router.call(route, ctx, *args)


def _text_route(ctx: Ctx, incoming: TextIn) -> router.Route | Reply:
    text = incoming.text
    if not text.strip():
        return Reply(ctx.t("core.empty_message"))
    if len(text) > ctx.app.settings.max_message_chars:
        return Reply(ctx.t("core.too_long", limit=ctx.app.settings.max_message_chars))
    if ctx.member is None:
        return Reply(ctx.t("core.not_member"))
    pending = current_state(ctx)
    if pending is not None and pending.kind in router.STATES and not incoming.env.forwarded:
        clear_state(ctx)
        ctx.incoming = incoming
        return router.Route(lambda c: router.STATES[pending.kind].handler(c, pending.payload))
    return router.CONTENT["text"]


def _update_keys(incoming: Incoming) -> list[str]:
    """Every identity an update carries: a redelivery repeats at least one of them.

    A message is handled once per chat and message id (whatever update id it is redelivered
    under) and once per update id (Slack retries an event under the same event id); a button
    press once per callback or update id."""
    env = incoming.env
    if isinstance(incoming, ButtonIn):
        key = incoming.callback_id or env.update_id
        return [f"b:{key}"] if key else []
    keys = [f"m:{env.chat.chat_id}:{env.message_id}"] if env.message_id else []
    if env.update_id:
        keys.append(f"u:{env.update_id}")
    return keys


def _seen(session: Session, platform: str, key: str) -> bool:
    return session.exec(select(ProcessedUpdate.id).where(ProcessedUpdate.platform == platform,
                                                         ProcessedUpdate.key == key)).first() is not None


def _mark_seen(session: Session, platform: str, key: str) -> None:
    try:
        with session.begin_nested():
            session.add(ProcessedUpdate(platform=platform, key=key))
    except IntegrityError as exc:
        raise _Duplicate from exc


def current_state(ctx: Ctx) -> ChatState | None:
    if ctx.member is None:
        return None
    row = ctx.session.exec(select(ChatState).where(ChatState.member_id == ctx.member.id,
                                                   ChatState.chat == str(ctx.incoming.env.chat))).first()
    if row is None or row.expires_at <= ctx.now:
        return None
    return row


def set_state(ctx: Ctx, kind: str, payload: dict[str, Any], minutes: int = 15) -> None:
    from datetime import timedelta

    clear_state(ctx)
    assert ctx.member is not None and ctx.member.id is not None
    ctx.session.add(ChatState(team_id=ctx.member.team_id, member_id=ctx.member.id,
                              chat=str(ctx.incoming.env.chat), kind=kind, payload=payload,
                              expires_at=ctx.now + timedelta(minutes=minutes)))


def clear_state(ctx: Ctx) -> None:
    if ctx.member is None:
        return
    for row in ctx.session.exec(select(ChatState).where(ChatState.member_id == ctx.member.id,
                                                        ChatState.chat == str(ctx.incoming.env.chat))):
        ctx.session.delete(row)
    ctx.session.flush()


def reply_context(app: ChatCRM, session: Session, actor: Any, chat: ChatRef) -> Ctx:
    """A context for a message the bot sends on its own (a summary, a nudge) to `actor` in `chat`."""
    member = session.get(Member, actor.member_id)
    now = app.clock.now()
    env = Envelope(chat, Sender("", ""), "", now)
    return Ctx(app, session, TextIn(env, ""), now, member, member.language if member else app.settings.default_language)


def build(settings: Settings, *, clock: Clock | None = None, engine: Engine | None = None,
          transcriber: Any = None) -> ChatCRM:
    """Create the app (nothing runs until `start`)."""
    return ChatCRM(settings, engine or make_engine(settings.database_url), clock, transcriber)
