"""The Telegram adapter: a python-telegram-bot `Application` (polling or webhook) and the Messenger port."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import httpx
from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, ReplyParameters, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from adapters.telegram.render import keyboard, split_html
from adapters.telegram.translate import PLATFORM, to_incoming
from core.chat import (
    SLASH_COMMANDS,
    Attachment,
    ButtonIn,
    ChatRef,
    Incoming,
    IncomingHandler,
    Reply,
    UndeliveredHandler,
)
from core.delivery import POLICY, send_with_policy
from core.ports import DeliveryError, DeliveryUncertain, RateLimited, Unreachable
from core.services.outbox import receipt_of
from core.settings import Settings

log = logging.getLogger(__name__)
APOLOGY = {"en": "Sorry, something went wrong. Please try again.", "zh": "抱歉,出了點問題,請再試一次。"}
GONE = ("chat not found", "user is deactivated", "bot was kicked", "have no rights to send")
MENU_LANGUAGE = "command_menu"  # Reply.extra: set this member's own command menu in that language
REPLY_RETRY = POLICY.replies  # replies to an update; nudges and notices are retried by core.scheduling
T = TypeVar("T")


class TelegramAdapter:
    """Runs the bot on Telegram; every update goes to `handle`, every reply back as Bot API calls."""

    platform = PLATFORM
    command_style = SLASH_COMMANDS

    def __init__(self, settings: Settings, handle: IncomingHandler,
                 commands: Mapping[str, Sequence[tuple[str, str]]] | None = None,
                 undelivered: UndeliveredHandler | None = None, inbox: Any = None,
                 parked_text: Callable[[str], str] | None = None, role: str = "all",
                 rate_limiter: Any = None) -> None:
        self.settings = settings
        self.inbox = inbox  # core.services.inbox.Inbox: polled updates are stored before they are confirmed
        self.parked_text = parked_text
        self.role = role  # "all", "receiver" (polls or serves the webhook into the inbox) or "worker" (processes it)
        self.receiver: Any = None
        self.handle = handle
        self.undelivered = undelivered
        self.commands = commands or {}
        self.sleep: Callable[[float], Awaitable[object]] = asyncio.sleep  # waits between reply retries
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        builder = (ApplicationBuilder().token(settings.telegram_bot_token or "")
                   .base_url(settings.telegram_api_base_url).base_file_url(settings.telegram_file_base_url)
                   # no retries in the limiter: a 429 surfaces as RateLimited, and core.delivery decides
                   # (the reply policy waits out retry_after; nudges and notices reschedule themselves)
                   # (`rate_limiter`: a PTB BaseRateLimiter shared by several processes, see bot/platforms.py)
                   .rate_limiter(rate_limiter or AIORateLimiter(
                       overall_max_rate=settings.telegram_max_messages_per_second, max_retries=0))
                   .concurrent_updates(64)
                   .get_updates_read_timeout(settings.telegram_poll_timeout + 10))
        self.app: Application = builder.build()
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self.app.add_error_handler(self._on_error)

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        await self.app.initialize()
        await self._set_commands()
        await self.app.start()
        settings = self.settings
        if self.inbox is not None:
            await self._start_inbox()
        elif settings.telegram_webhook_url:
            from urllib.parse import urlparse

            assert self.app.updater is not None

            path = urlparse(settings.telegram_webhook_url).path.lstrip("/") or "telegram"
            await self.app.updater.start_webhook(
                listen=settings.telegram_webhook_listen, port=settings.telegram_webhook_port, url_path=path,
                webhook_url=settings.telegram_webhook_url, secret_token=settings.telegram_webhook_secret,
                allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
        else:
            assert self.app.updater is not None
            await self.app.updater.start_polling(timeout=max(1, int(settings.telegram_poll_timeout)),
                                                 allowed_updates=Update.ALL_TYPES, drop_pending_updates=False,
                                                 poll_interval=0.0)

    async def _start_inbox(self) -> None:
        """Updates through the durable inbox: received (webhook endpoint, or the one getUpdates poller) by the
        "all" and "receiver" roles, processed by "all" and "worker"."""
        from urllib.parse import urlparse

        from adapters.telegram.receiver import InboxReceiver

        settings = self.settings
        receives = self.role in ("all", "receiver")
        webhook = None
        if settings.telegram_webhook_url and receives:
            webhook = {"url": settings.telegram_webhook_url, "secret": settings.telegram_webhook_secret,
                       "listen": settings.telegram_webhook_listen, "port": settings.telegram_webhook_port,
                       "path": urlparse(settings.telegram_webhook_url).path or "/telegram"}
        elif not settings.telegram_webhook_url and receives:
            await self.app.bot.delete_webhook(drop_pending_updates=False)  # getUpdates is refused while one is set
        self.receiver = InboxReceiver(self.app.bot, self.inbox, lambda update: self._on_update(update, None),
                                      poll=receives and not settings.telegram_webhook_url,
                                      work=self.role in ("all", "worker"), webhook=webhook,
                                      poll_timeout=settings.telegram_poll_timeout, parked_text=self.parked_text)
        await self.receiver.start()

    async def stop(self) -> None:
        if self.receiver is not None:
            await self.receiver.stop()
            self.receiver = None
        with contextlib.suppress(Exception):
            if self.app.updater and self.app.updater.running:
                await self.app.updater.stop()
        with contextlib.suppress(Exception):
            if self.app.running:
                await self.app.stop()
        await self.app.shutdown()

    @property
    def bot_username(self) -> str:
        """The bot's @username, from getMe (known once started)."""
        try:
            return self.app.bot.username or ""
        except RuntimeError:  # not initialized yet (getMe not called)
            return ""

    def start_link(self, payload: str = "") -> str | None:
        """The deep link that opens a private chat with the bot (`?start=CODE` fills in an invite code)."""
        username = self.bot_username
        if not username:
            return None
        return f"https://t.me/{username}?start={payload}" if payload else f"https://t.me/{username}?start"

    def _menu(self, language: str) -> list[BotCommand]:
        return [BotCommand(name, description[:256]) for name, description in self.commands.get(language, ())]

    async def _set_commands(self) -> None:
        """The command menus: English by default and for "en", Traditional Chinese for "zh" (Telegram's
        language_code has one code for both scripts); each member's own chat gets the menu in their language
        (`set_member_menu`) when they join or change language."""
        menus = (("en", None), ("en", "en"), ("zh-Hant", "zh"))
        for language, code in menus:
            if language not in self.commands:
                continue
            try:
                await self.app.bot.set_my_commands(self._menu(language), scope=BotCommandScopeDefault(),
                                                   language_code=code)
            except TelegramError:
                log.warning("could not set the %s command menu", code or "default", exc_info=True)

    async def set_member_menu(self, chat_id: str, language: str) -> None:
        """The command menu in one member's private chat, in their language (zh-Hans gets Simplified)."""
        if language not in self.commands:
            return
        try:
            await self.app.bot.set_my_commands(self._menu(language), scope=BotCommandScopeChat(int(chat_id)))
        except TelegramError:
            log.warning("could not set the %s command menu of chat %s", language, chat_id, exc_info=True)

    # -- inbound -----------------------------------------------------------------------------
    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE | None) -> None:
        incoming = to_incoming(update, self.app.bot.username or "")
        if incoming is None:
            if update.callback_query is not None:
                await self._answer(update.callback_query.id, None)
            return
        async with self._locks[incoming.env.chat.chat_id]:  # one chat's updates in order; chats in parallel
            replies = await self.handle(incoming)
            if isinstance(incoming, ButtonIn):
                notice = next((r.notice for r in replies if r.notice), None)
                await self._answer(incoming.callback_id, notice)
            await self._deliver(incoming, replies)

    async def _deliver(self, incoming: Incoming, replies: Sequence[Reply]) -> None:
        """Send the replies to one update under the reply policy; what still fails goes to `undelivered`.

        `Reply.private` goes to the sender's own chat (in Telegram a private chat's id is the user's id); a
        pointer's `private_unreachable` text replaces it when a private reply found no chat (403: the member
        never started the bot). A reply from the outbox is marked sent as soon as Telegram took it (at least
        once: a kill before that mark sends it again when the update is taken again)."""
        env = incoming.env
        own_chat = ChatRef(PLATFORM, env.sender.platform_user_id)
        lost: list[Reply] = []
        private_unreachable = False
        for reply in replies:
            if not (reply.text or reply.image or reply.file):
                continue  # a toast only (the callback answer said it)
            if reply.private_unreachable is not None and private_unreachable:
                reply = replace(reply, text=reply.private_unreachable, private_unreachable=None)
            to = own_chat if reply.private else env.chat
            quote = env.message_id if env.is_group and not reply.private and not isinstance(incoming, ButtonIn) else None
            try:
                if reply.edit and not reply.private and isinstance(incoming, ButtonIn) and env.message_id:
                    await self.edit(to, env.message_id, reply, retrying=True)
                else:
                    await self._call_with_policy(self._send, to, reply, quote)
            except Unreachable:
                log.info("reply to %s: chat unreachable", to, exc_info=True)
                private_unreachable = private_unreachable or reply.private
                lost.append(reply)
            except DeliveryError:
                log.warning("reply to %s failed after retries; the update itself was handled", to, exc_info=True)
                lost.append(reply)
                continue
            if (receipt := receipt_of(reply)) is not None:
                await receipt.sent()  # its outbox row: not sent again if this update is taken again
            if reply.extra.get(MENU_LANGUAGE) and not env.is_group:
                await self.set_member_menu(env.sender.platform_user_id, reply.extra[MENU_LANGUAGE])
        if lost and self.undelivered is not None:
            await self.undelivered(incoming, lost)

    async def _answer(self, callback_id: str | None, text: str | None) -> None:
        if not callback_id:
            return
        try:
            await self.app.bot.answer_callback_query(callback_id, text=(text or None) and text[:200])
        except TelegramError:
            log.info("callback %s could not be answered", callback_id, exc_info=True)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        log.error("error handling update %s in chat %s", getattr(update, "update_id", "?"),
                  chat.id if chat else "?", exc_info=context.error)
        user = update.effective_user if isinstance(update, Update) else None
        if chat is not None:
            language = "zh" if (user and (user.language_code or "").startswith("zh")) else "en"
            to = user.id if user is not None and chat.type != "private" else chat.id  # never in a group
            with contextlib.suppress(TelegramError):
                await context.bot.send_message(to, APOLOGY[language])

    # -- Messenger ---------------------------------------------------------------------------
    async def send(self, to: ChatRef, reply: Reply) -> str:
        return await self._call(self._send, to, reply)

    async def edit(self, to: ChatRef, message_id: str, reply: Reply, *, retrying: bool = False) -> None:
        call = self._call_with_policy if retrying else self._call
        try:
            await call(self._edit, to, message_id, reply)
        except Unreachable:
            raise
        except DeliveryError as error:
            if "message is not modified" in str(error).lower():
                return
            if "message to edit not found" in str(error).lower() or "can't be edited" in str(error).lower():
                await call(self._send, to, reply)
                return
            raise

    async def download(self, attachment: Attachment) -> bytes:
        async def fetch() -> bytes:
            file = await self.app.bot.get_file(attachment.file_id)
            return bytes(await file.download_as_bytearray())
        return await self._call(fetch)

    async def typing(self, to: ChatRef) -> None:
        with contextlib.suppress(TelegramError):
            await self.app.bot.send_chat_action(int(to.chat_id), ChatAction.TYPING,
                                                message_thread_id=int(to.thread_id) if to.thread_id else None)

    async def _send(self, to: ChatRef, reply: Reply, quote: str | None = None) -> str:
        """One reply as Bot API calls; `quote` answers a message in a group (so its buttons know whose they are)."""
        bot, chat_id = self.app.bot, int(to.chat_id)
        thread = int(to.thread_id) if to.thread_id else None
        answer = ReplyParameters(int(quote), allow_sending_without_reply=True) if quote else None
        if reply.image is not None:
            message = await bot.send_photo(chat_id, reply.image.data, filename=reply.image.name,
                                           caption=reply.text[:1024] or None,
                                           parse_mode=ParseMode.HTML, reply_markup=keyboard(reply),
                                           message_thread_id=thread, reply_parameters=answer)
            return str(message.message_id)
        if reply.file is not None:
            message = await bot.send_document(chat_id, reply.file.data, filename=reply.file.name,
                                              caption=reply.text[:1024] or None, parse_mode=ParseMode.HTML,
                                              reply_markup=keyboard(reply), message_thread_id=thread,
                                              reply_parameters=answer)
            return str(message.message_id)
        parts = split_html(reply.text)
        message = None
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            message = await bot.send_message(chat_id, part, parse_mode=ParseMode.HTML,
                                             reply_markup=keyboard(reply) if last else None,
                                             message_thread_id=thread, disable_web_page_preview=True,
                                             reply_parameters=answer if index == 0 else None)
        return str(message.message_id) if message else ""

    async def _edit(self, to: ChatRef, message_id: str, reply: Reply) -> None:
        text = split_html(reply.text)[0]
        await self.app.bot.edit_message_text(text, chat_id=int(to.chat_id), message_id=int(message_id),
                                             parse_mode=ParseMode.HTML, reply_markup=keyboard(reply),
                                             disable_web_page_preview=True)

    async def _call_with_policy(self, function: Callable[..., Awaitable[T]], *args: Any) -> T:
        """A reply's Bot API call under core.delivery's reply policy (a 429 waited out, a 5xx tried again)."""
        return await send_with_policy(lambda: self._call(function, *args), REPLY_RETRY, sleep=self.sleep)

    async def _call(self, function, *args):
        """Run a Bot API call, translating Telegram's errors into the core's delivery errors."""
        try:
            return await function(*args)
        except RetryAfter as error:
            delay = error.retry_after.total_seconds() if hasattr(error.retry_after, "total_seconds") else error.retry_after
            raise RateLimited(float(delay), str(error)) from error
        except Forbidden as error:
            raise Unreachable(str(error)) from error
        except BadRequest as error:
            if any(marker in str(error).lower() for marker in GONE):
                raise Unreachable(str(error)) from error
            raise DeliveryError(str(error)) from error
        except (TimedOut, NetworkError) as error:
            if _maybe_sent(error):
                raise DeliveryUncertain(str(error) or error.__class__.__name__) from error
            raise DeliveryError(str(error)) from error


def _maybe_sent(error: TelegramError) -> bool:
    """A timeout or a broken connection after the request left: Telegram may have delivered it."""
    cause = error.__cause__
    if cause is None or isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return False  # an HTTP error status (5xx) or a request that never left
    return isinstance(cause, httpx.TransportError)
