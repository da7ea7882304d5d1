"""The Telegram adapter: a python-telegram-bot `Application` (polling or webhook) and the Messenger port."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence

import httpx
from telegram import BotCommand, BotCommandScopeDefault, Update
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
    IncomingHandler,
    Reply,
    UndeliveredHandler,
)
from core.ports import DeliveryError, DeliveryUncertain, RateLimited, Unreachable
from core.settings import Settings

log = logging.getLogger(__name__)
APOLOGY = {"en": "Sorry, something went wrong. Please try again.", "zh": "抱歉,出了點問題,請再試一次。"}
GONE = ("chat not found", "user is deactivated", "bot was kicked", "have no rights to send")


class TelegramAdapter:
    """Runs the bot on Telegram; every update goes to `handle`, every reply back as Bot API calls."""

    platform = PLATFORM
    command_style = SLASH_COMMANDS

    def __init__(self, settings: Settings, handle: IncomingHandler,
                 commands: Mapping[str, Sequence[tuple[str, str]]] | None = None,
                 undelivered: UndeliveredHandler | None = None) -> None:
        self.settings = settings
        self.handle = handle
        self.undelivered = undelivered
        self.commands = commands or {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        builder = (ApplicationBuilder().token(settings.telegram_bot_token or "")
                   .base_url(settings.telegram_api_base_url).base_file_url(settings.telegram_file_base_url)
                   .rate_limiter(AIORateLimiter(overall_max_rate=settings.telegram_max_messages_per_second,
                                                max_retries=2)).concurrent_updates(64)
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
        if settings.telegram_webhook_url:
            from urllib.parse import urlparse

            path = urlparse(settings.telegram_webhook_url).path.lstrip("/") or "telegram"
            await self.app.updater.start_webhook(
                listen=settings.telegram_webhook_listen, port=settings.telegram_webhook_port, url_path=path,
                webhook_url=settings.telegram_webhook_url, secret_token=settings.telegram_webhook_secret,
                allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
        else:
            await self.app.updater.start_polling(timeout=max(1, int(settings.telegram_poll_timeout)),
                                                 allowed_updates=Update.ALL_TYPES, drop_pending_updates=False,
                                                 poll_interval=0.0)

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            if self.app.updater and self.app.updater.running:
                await self.app.updater.stop()
        with contextlib.suppress(Exception):
            if self.app.running:
                await self.app.stop()
        await self.app.shutdown()

    async def _set_commands(self) -> None:
        """The command menu: English by default, Chinese for "zh" users (Telegram has one code for both scripts)."""
        by_code: dict[str | None, Sequence[tuple[str, str]]] = {}
        for language, items in sorted(self.commands.items(), key=lambda pair: pair[0] != "zh-Hant"):
            by_code.setdefault(None if language == "en" else language.split("-")[0], items)
        for code, items in by_code.items():
            commands = [BotCommand(name, description[:256]) for name, description in items]
            try:
                await self.app.bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)
            except TelegramError:
                log.warning("could not set the %s command menu", code or "default", exc_info=True)

    # -- inbound -----------------------------------------------------------------------------
    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
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
            for reply in replies:
                try:
                    if reply.edit and isinstance(incoming, ButtonIn) and incoming.env.message_id:
                        await self.edit(incoming.env.chat, incoming.env.message_id, reply)
                    else:
                        await self.send(incoming.env.chat, reply)
                except DeliveryError:
                    log.warning("reply to %s failed; the update itself was handled", incoming.env.chat,
                                exc_info=True)

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
        if chat is not None:
            language = "zh" if (update.effective_user and (update.effective_user.language_code or "").startswith("zh")) else "en"
            with contextlib.suppress(TelegramError):
                await context.bot.send_message(chat.id, APOLOGY[language])

    # -- Messenger ---------------------------------------------------------------------------
    async def send(self, to: ChatRef, reply: Reply) -> str:
        return await self._call(self._send, to, reply)

    async def edit(self, to: ChatRef, message_id: str, reply: Reply) -> None:
        try:
            await self._call(self._edit, to, message_id, reply)
        except DeliveryError as error:
            if "message is not modified" in str(error).lower():
                return
            if "message to edit not found" in str(error).lower() or "can't be edited" in str(error).lower():
                await self.send(to, reply)
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

    async def _send(self, to: ChatRef, reply: Reply) -> str:
        bot, chat_id = self.app.bot, int(to.chat_id)
        thread = int(to.thread_id) if to.thread_id else None
        if reply.image is not None:
            message = await bot.send_photo(chat_id, reply.image.data, caption=reply.text[:1024] or None,
                                           parse_mode=ParseMode.HTML, reply_markup=keyboard(reply),
                                           message_thread_id=thread)
            return str(message.message_id)
        if reply.file is not None:
            message = await bot.send_document(chat_id, reply.file.data, filename=reply.file.name,
                                              caption=reply.text[:1024] or None, parse_mode=ParseMode.HTML,
                                              reply_markup=keyboard(reply), message_thread_id=thread)
            return str(message.message_id)
        parts = split_html(reply.text)
        message = None
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            message = await bot.send_message(chat_id, part, parse_mode=ParseMode.HTML,
                                             reply_markup=keyboard(reply) if last else None,
                                             message_thread_id=thread, disable_web_page_preview=True)
        return str(message.message_id) if message else ""

    async def _edit(self, to: ChatRef, message_id: str, reply: Reply) -> None:
        text = split_html(reply.text)[0]
        await self.app.bot.edit_message_text(text, chat_id=int(to.chat_id), message_id=int(message_id),
                                             parse_mode=ParseMode.HTML, reply_markup=keyboard(reply),
                                             disable_web_page_preview=True)

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
