"""`chatcrm run`: start the bot on every platform whose tokens are set, or on the console."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from typing import Any

from bot.bootstrap import ChatCRM, build
from core.schema import upgrade_schema
from core.settings import Settings
from core.uow import unit_of_work
from core.usecases.team import Newcomer, local_owner

log = logging.getLogger("chatcrm")


def console_adapter(app: ChatCRM, **io: Any) -> Any:
    from adapters.console import ConsoleAdapter

    settings = app.settings
    adapter = ConsoleAdapter(app.handle, language=settings.default_language, clock=app.clock.now, **io)
    upgrade_schema(app.engine)  # the owner is enrolled before `app.start()`, which upgrades again (a no-op)
    with unit_of_work(app.engine) as uow:
        local_owner(uow, Newcomer("console", adapter.sender.platform_user_id, adapter.chat.chat_id,
                                  adapter.sender.display_name, language=settings.default_language,
                                  timezone=settings.default_timezone, country=settings.default_country))
    return adapter


ROLES = ("all", "receiver", "worker", "voice")


def platform_adapters(app: ChatCRM, role: str = "all") -> list[Any]:
    adapters: list[Any] = []
    if app.settings.telegram_bot_token:
        from bot.platforms import telegram_adapter

        adapters.append(telegram_adapter(app, role))
    if app.settings.slack_bot_token:
        from bot.platforms import slack_adapter

        adapters.append(slack_adapter(app, role))
    return adapters


async def prepare_voice(app: ChatCRM) -> asyncio.Task | None:
    """Check a user-supplied model directory at start (faster-whisper would try a hub); when voice notes are
    transcribed in this process (bot.voice_worker.preload_wanted), start loading the model in the background,
    so the first voice note does not wait for it (the returned task; the bot answers meanwhile)."""
    from bot.voice_worker import preload_in_background, preload_wanted

    settings = app.settings
    wanted = preload_wanted(settings)
    if settings.whisper_model_dir is None and not wanted:
        return None  # the built-in model is assembled and loaded on the first voice note
    transcription = app.deps.transcription
    if settings.whisper_model_dir is not None:
        transcription.service  # noqa: B018 - builds it now: raises VoiceSetupError with a readable message
    return preload_in_background(transcription) if wanted else None


async def serve(settings: Settings, role: str = "all", **console_io: Any) -> None:
    """Run until interrupted (platforms) or until the console input ends.

    `role`: "all" (the default: one process does everything), "receiver" (stores updates in the inbox: the
    Telegram webhook endpoint, or polling — only the process holding the PostgreSQL poller lock polls — and
    Slack's signed HTTP endpoint or a Socket Mode connection), "worker" (processes the inbox, sends nudges and
    notices), "voice" (transcribes voice-note jobs, bot.voice_worker). The console is not a platform with
    roles: it runs in one process and is not stored in the inbox (see ARCHITECTURE.md)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if role == "voice":
        from bot.voice_worker import run_voice_worker

        await run_voice_worker(settings)
        return
    app = build(settings)
    adapters = platform_adapters(app, role)
    console = None if adapters else console_adapter(app, **console_io)
    for adapter in [*adapters, *([console] if console else [])]:
        app.attach(adapter)
    preloading = await prepare_voice(app)  # noqa: F841 - kept referenced while it runs
    await app.start(with_scheduler=role != "receiver")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signame in ("SIGINT", "SIGTERM"):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(getattr(signal, signame), stop.set)
    try:
        for adapter in adapters:
            await adapter.start()
        gc.collect()
        gc.freeze()  # what start-up built lives as long as the process: later full collections skip it (~100–250 ms)
        if console is not None:
            await console.start()
            runner = asyncio.create_task(console.run())
            waiter = asyncio.create_task(stop.wait())
            await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
        else:
            log.info("chatcrm is running on %s", ", ".join(a.platform for a in adapters))
            await stop.wait()
    finally:
        for adapter in adapters:
            with contextlib.suppress(Exception):
                await adapter.stop()
        await app.stop()
        app.engine.dispose()
