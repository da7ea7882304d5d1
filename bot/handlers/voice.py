"""Voice notes and audio files: transcribed offline, then logged like a typed note."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging

from bot.context import Ctx
from bot.forwards import append_forward
from bot.notes import log_note, source_of
from bot.router import content
from bot.voice import AudioProblem, transcribe
from core.chat import Reply, VoiceIn
from core.models import AudioClip, InteractionKind

log = logging.getLogger(__name__)
TYPING_EVERY = 4.0  # Telegram's typing indicator lasts about five seconds


async def _keep_typing(ctx: Ctx) -> None:
    messenger = ctx.app.messengers.get(ctx.incoming.env.chat.platform)
    if messenger is None:
        return
    while True:
        with contextlib.suppress(Exception):
            await messenger.typing(ctx.incoming.env.chat)
        await asyncio.sleep(TYPING_EVERY)


@content("voice")
async def voice_note(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, VoiceIn)
    attachment = ctx.incoming.attachment
    limit = ctx.app.settings.voice_max_seconds
    if attachment.duration is not None and attachment.duration > limit:
        return [Reply(ctx.t("voice.too_long", minutes=int(limit // 60)))]
    messenger = ctx.app.messengers.get(ctx.incoming.env.chat.platform)
    if messenger is None:
        return [Reply(ctx.t("voice.download_failed"))]
    try:
        audio = await messenger.download(attachment)
    except Exception:
        log.exception("voice download failed for %s", attachment.file_id)
        return [Reply(ctx.t("voice.download_failed"))]
    typing = asyncio.create_task(_keep_typing(ctx))
    try:
        transcript = await transcribe(ctx.app, audio, language=ctx.language)
    except AudioProblem as problem:
        return [Reply(ctx.t(f"voice.{problem.code}", minutes=int(limit // 60)))]
    finally:
        typing.cancel()
    details = {"audio": {"sha256": hashlib.sha256(audio).hexdigest(), "bytes": len(audio),
                         "duration": transcript.duration, "language": transcript.language,
                         "language_probability": round(transcript.language_probability, 3),
                         "engine": transcript.engine, "seconds": round(transcript.seconds, 2)},
               "low_confidence": transcript.low_confidence, "low_confidence_reasons": list(transcript.reasons)}
    if ctx.incoming.env.forwarded is not None:  # the customer's words, not the salesperson's note
        replies = append_forward(ctx, "", kind="voice", transcript=transcript.text)
    else:
        replies = log_note(ctx, transcript.text, source=source_of(ctx), kind=InteractionKind.voice.value,
                           transcript=transcript.text, details=details)
    _keep_audio(ctx, audio, attachment.mime_type)
    return replies


def _keep_audio(ctx: Ctx, audio: bytes, mime_type: str | None) -> None:
    """Keep the recording (under the size limit) so it can be re-transcribed later."""
    from core.services.interactions import find_by_source

    if len(audio) > ctx.app.settings.voice_keep_audio_bytes:
        return
    interaction = find_by_source(ctx.session, source_of(ctx))
    if interaction is None or interaction.id is None:
        return
    ctx.session.add(AudioClip(team_id=interaction.team_id, interaction_id=interaction.id,
                              sha256=hashlib.sha256(audio).hexdigest(), mime_type=mime_type, data=audio))
