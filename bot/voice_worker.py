"""The voice worker: takes voice-note jobs from PostgreSQL (core.voice.jobs), transcribes, stores, answers.

    VOICE_QUEUE=postgres DATABASE_URL=postgresql+psycopg://… chatcrm voice worker   (or python -m bot.voice_worker)

(a `--role voice` of `chatcrm run` should call `run_voice_worker`). The model is loaded before the first
job is taken, so no job waits for it; as many voice workers as wanted may run on any machine that reaches
the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from typing import Any

from bot.bootstrap import ChatCRM, build
from bot.note_cards import note_replies
from core.chat import ChatRef, Reply
from core.settings import Settings
from core.uow import unit_of_work
from core.usecases.members import who_wrote
from core.voice.jobs import VoiceJobs, VoiceOutcome, queue_enabled
from core.voice.service import LazyTranscription

log = logging.getLogger("chatcrm.voice")


def preload_wanted(settings: Settings) -> bool:
    """Should `chatcrm run` load the model at start? WHISPER_PRELOAD when set; otherwise yes on Telegram or
    Slack (voice notes arrive) and no on the console; never when voice workers transcribe (VOICE_QUEUE=postgres)."""
    if queue_enabled(settings):
        return False
    if settings.whisper_preload is not None:
        return settings.whisper_preload
    return settings.platforms != ["console"]


def preload_in_background(transcription: LazyTranscription) -> asyncio.Task:
    """Assemble (first run) and load the model off the event loop; a note that comes meanwhile waits only for
    the rest of the load. A failure is logged; voice notes then answer `voice.unavailable`."""

    async def load() -> None:
        started = time.perf_counter()
        try:
            await asyncio.to_thread(lambda: transcription.service)
            await transcription.preload()
        except Exception:
            log.exception("the speech model could not be loaded; voice notes will say so")
            return
        log.info("speech model loaded in %.1f s", time.perf_counter() - started)

    return asyncio.create_task(load(), name="whisper-preload")


def replies_for(app: ChatCRM, outcome: VoiceOutcome) -> tuple[ChatRef, list[Reply]]:
    """What the member is told about their transcribed note (the note's card, or why it could not be used)."""
    job = outcome.job
    chat = ChatRef(job.platform, job.chat_id)
    if outcome.result is None and outcome.problem is None:
        return chat, []  # stored by an earlier run of the job (that run answered) or no longer a member
    with unit_of_work(app.engine) as uow:
        member = who_wrote(uow, job.platform, job.user_id)
        if member is None:
            return chat, []
        ctx = app.context_for(uow, member, chat)
        if outcome.result is not None:
            return chat, note_replies(ctx, outcome.result)
        minutes = int(app.settings.voice_max_seconds // 60)
        return chat, [Reply(ctx.t(f"voice.{outcome.problem}", minutes=minutes))]


async def _senders(app: ChatCRM) -> list[Any]:
    """Send-only messengers for the configured platforms (nothing polls or takes inbox rows here)."""
    started: list[Any] = []
    if app.settings.telegram_bot_token:
        from bot.platforms import telegram_adapter

        adapter = telegram_adapter(app, role="sender")
        await adapter.app.initialize()
        app.attach(adapter)
        started.append(adapter)
    return started


async def run_voice_worker(settings: Settings, *, stop: asyncio.Event | None = None, app: ChatCRM | None = None,
                           heartbeat: float = 5.0, stalled_after: float = 20.0) -> None:
    """Take voice jobs until `stop` is set (or SIGINT/SIGTERM when `stop` is not given)."""
    if not queue_enabled(settings):
        raise SystemExit("the voice worker needs VOICE_QUEUE=postgres and a PostgreSQL DATABASE_URL")
    app = app or build(settings)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signame in ("SIGINT", "SIGTERM"):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(getattr(signal, signame), stop.set)
    await app.deps.transcription.preload()  # before any job is taken: no note waits for the model
    senders = await _senders(app)
    jobs = VoiceJobs(settings.database_url)
    await jobs.open()

    async def answer(outcome: VoiceOutcome) -> None:
        chat, replies = await asyncio.to_thread(replies_for, app, outcome)
        messenger = app.messengers.get(chat.platform)
        if messenger is None:
            log.info("voice note %s handled; no %s messenger here to answer", outcome.job.key, chat.platform)
            return
        for reply in replies:
            await messenger.send(chat, reply)

    try:
        await jobs.ensure_schema()
        log.info("voice worker taking jobs")
        await jobs.run_worker(app.engine, app.deps.transcription, on_done=answer, heartbeat=heartbeat,
                              stalled_after=stalled_after, stop=stop)
    finally:
        await jobs.close()
        for sender in senders:
            with contextlib.suppress(Exception):
                await sender.app.shutdown()
        app.deps.transcription.close()
        app.engine.dispose()


def main() -> None:
    from core.settings import load_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run_voice_worker(load_settings()))


if __name__ == "__main__":
    main()
