"""Voice notes and audio files: downloaded, transcribed offline (`core.usecases.voice_notes`), logged like a
typed note; a forwarded one joins the forward burst as the customer's words."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from bot.context import Ctx
from bot.forwards import burst_window, ended_burst, forward_of
from bot.group_privacy import own_chat
from bot.note_cards import note_replies
from bot.router import content
from core.chat import Reply, VoiceIn
from core.usecases.notes import NoteResult, Source
from core.usecases.voice_notes import (
    MAX_AUDIO_BYTES,
    VoiceClip,
    VoiceNoteError,
    record_voice_note,
    too_big,
    transcribe_for,
)
from core.voice.jobs import queue_enabled

log = logging.getLogger(__name__)
TYPING_EVERY = 4.0  # Telegram's typing indicator lasts about five seconds


async def _keep_typing(ctx: Ctx, messenger: Any) -> None:
    while True:
        with contextlib.suppress(Exception):
            await messenger.typing(own_chat(ctx))
        await asyncio.sleep(TYPING_EVERY)


async def _show_progress(ctx: Ctx, messenger: Any) -> asyncio.Task | None:
    """Show "transcribing…": the typing indicator if the platform has one, else a status the answer replaces."""
    if getattr(messenger, "typing_indicator", True):
        return asyncio.create_task(_keep_typing(ctx, messenger))
    with contextlib.suppress(Exception):
        await messenger.send(own_chat(ctx), Reply(ctx.t("voice.transcribing"), extra={"status": True}))
    return None


@content("voice")
async def voice_note(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, VoiceIn)
    attachment = ctx.incoming.attachment
    minutes = int(ctx.settings.voice_max_seconds // 60)
    if attachment.duration is not None and attachment.duration > ctx.settings.voice_max_seconds:
        return [Reply(ctx.t("voice.too_long", minutes=minutes))]
    refused = Reply(ctx.t("voice.too_big", mb=MAX_AUDIO_BYTES // 2**20))
    if too_big(attachment.size):  # the platform said its size: not downloaded at all
        return [refused]
    messenger = ctx.deps.messenger(ctx.incoming.env.chat.platform)
    if messenger is None:
        return [Reply(ctx.t("voice.download_failed"))]
    progress = await _show_progress(ctx, messenger)
    try:
        try:
            audio = await messenger.download(attachment)
        except Exception:
            log.exception("voice download failed for %s", attachment.file_id)
            return [Reply(ctx.t("voice.download_failed"))]
        if too_big(len(audio)):
            return [refused]
        env = ctx.incoming.env  # voice workers transcribe it (they have no Slack sender yet: Slack stays here)
        if queue_enabled(ctx.settings) and env.forwarded is None and env.chat.platform != "slack":
            from bot.voice_queue import queue_voice_note

            await queue_voice_note(ctx, audio, attachment.mime_type)
            return [Reply(ctx.t("voice.transcribing"))]  # the card follows from the worker (bot.voice_worker)
        ctx.uow.commit()  # hand the database connection back while the model works
        transcript = await transcribe_for(ctx.deps.transcription, audio, ctx.language)
    except VoiceNoteError as problem:
        return [Reply(ctx.t(f"voice.{problem.code}", minutes=minutes))]
    finally:
        if progress is not None:
            progress.cancel()
    clip = VoiceClip(transcript, audio, attachment.mime_type, Source.of(ctx.incoming.env),
                     ctx.settings.voice_keep_audio_bytes)
    forwarded = ctx.incoming.env.forwarded is not None  # the customer's words, not the salesperson's note
    result = record_voice_note(ctx.uow, ctx.actor, ctx.now, clip, forward=forward_of(ctx, "") if forwarded else None,
                               window=burst_window(ctx))
    return note_replies(ctx, result) if isinstance(result, NoteResult) else ended_burst(ctx, result)
