"""The bot's side of the voice job queue (VOICE_QUEUE=postgres): a voice note is queued for the voice workers
(bot.voice_worker) instead of being transcribed in this process."""

from __future__ import annotations

import asyncio

from bot.context import Ctx
from core.usecases.notes import Source
from core.voice.jobs import VoiceJob, VoiceJobs

_open: dict[tuple[str, int], VoiceJobs] = {}  # one pool per database and event loop


async def jobs_for(database_url: str) -> VoiceJobs:
    key = (database_url, id(asyncio.get_running_loop()))
    if key not in _open:
        jobs = VoiceJobs(database_url, max_pool=2)
        await jobs.open()
        await jobs.ensure_schema()
        _open[key] = jobs
    return _open[key]


async def queue_voice_note(ctx: Ctx, audio: bytes, mime_type: str | None) -> bool:
    """Queue the member's note; False when a job for it is waiting already (a redelivered update)."""
    env = ctx.incoming.env
    jobs = await jobs_for(ctx.settings.database_url)
    return await jobs.defer(VoiceJob.of(Source.of(env), env.sender.platform_user_id, ctx.language, audio,
                                        mime_type, ctx.settings.voice_keep_audio_bytes))


async def close_all() -> None:
    """Close this process's queue pools (at shutdown; tests)."""
    while _open:
        _, jobs = _open.popitem()
        await jobs.close()
