"""Voice notes and audio files: transcribed offline, then logged like a typed note."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from typing import Any

from bot.context import Ctx
from bot.forwards import forwarded_message
from bot.notes import log_note, source_of
from bot.router import content
from bot.voice import AudioProblem, transcribe
from core.chat import Reply, VoiceIn
from core.models import AudioClip, Interaction, InteractionKind
from core.ports import Transcript
from core.services.interactions import find_by_source

log = logging.getLogger(__name__)
TYPING_EVERY = 4.0  # Telegram's typing indicator lasts about five seconds


async def _keep_typing(ctx: Ctx, messenger: Any) -> None:
    while True:
        with contextlib.suppress(Exception):
            await messenger.typing(ctx.incoming.env.chat)
        await asyncio.sleep(TYPING_EVERY)


async def _show_progress(ctx: Ctx, messenger: Any) -> asyncio.Task | None:
    """Show "transcribing…": the typing indicator if the platform has one, else a status the answer replaces."""
    if getattr(messenger, "typing_indicator", True):
        return asyncio.create_task(_keep_typing(ctx, messenger))
    with contextlib.suppress(Exception):
        await messenger.send(ctx.incoming.env.chat, Reply(ctx.t("voice.transcribing"), extra={"status": True}))
    return None


@content("voice")
async def voice_note(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, VoiceIn)
    attachment = ctx.incoming.attachment
    minutes = int(ctx.settings.voice_max_seconds // 60)
    if attachment.duration is not None and attachment.duration > ctx.settings.voice_max_seconds:
        return [Reply(ctx.t("voice.too_long", minutes=minutes))]
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
        ctx.uow.commit()  # hand the database connection back while the model works
        transcript = await transcribe(ctx.deps.transcription, audio, language=ctx.language)
    except AudioProblem as problem:
        return [Reply(ctx.t(f"voice.{problem.code}", minutes=minutes))]
    finally:
        if progress is not None:
            progress.cancel()
    return _record(ctx, audio, transcript, attachment.mime_type)


def _record(ctx: Ctx, audio: bytes, transcript: Transcript, mime_type: str | None) -> list[Reply]:
    """The note (or the customer's forwarded words) with the audio's facts, and the audio under the size limit."""
    details = {"audio": {"sha256": hashlib.sha256(audio).hexdigest(), "bytes": len(audio),
                         "duration": transcript.duration, "language": transcript.language,
                         "language_probability": round(transcript.language_probability, 3),
                         "engine": transcript.engine, "seconds": round(transcript.seconds, 2)},
               "low_confidence": transcript.low_confidence, "low_confidence_reasons": list(transcript.reasons)}
    if ctx.incoming.env.forwarded is not None:  # the customer's words, not the salesperson's note
        facts = {**details["audio"], "low_confidence": transcript.low_confidence}
        interaction: Interaction | None = forwarded_message(ctx, transcript.text, kind="voice",
                                                            audio=facts).interaction
        replies: list[Reply] = []
    else:
        replies = log_note(ctx, transcript.text, source=source_of(ctx), kind=InteractionKind.voice.value,
                           transcript=transcript.text, details=details)
        interaction = find_by_source(ctx.uow.session, source_of(ctx))
    _keep_audio(ctx, interaction, audio, mime_type)
    return replies


def _keep_audio(ctx: Ctx, interaction: Interaction | None, audio: bytes, mime_type: str | None) -> None:
    """Keep the recording (under the size limit) so it can be re-transcribed later."""
    if len(audio) > ctx.settings.voice_keep_audio_bytes or interaction is None or interaction.id is None:
        return
    ctx.uow.session.add(AudioClip(team_id=interaction.team_id, interaction_id=interaction.id,
                              sha256=hashlib.sha256(audio).hexdigest(), mime_type=mime_type, data=audio))
