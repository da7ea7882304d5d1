"""Voice notes: transcribe a recording, then log it like a typed note (or, forwarded, as the customer's words).

The transcription runs before the unit of work that records it (`record_voice_note`), so a long note holds
no database connection while the model works.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from core.models import AudioClip, InteractionKind
from core.ports import Transcript
from core.services.actor import Actor
from core.services.interactions import Source
from core.uow import UnitOfWork
from core.usecases.forwards import ForwardedMessage, ForwardResult, append_forward
from core.usecases.notes import NoteInput, NoteResult, NoteStatus, log_note
from core.voice.errors import AudioError, VoiceSetupError

log = logging.getLogger(__name__)
MAX_AUDIO_BYTES = 25 * 1024 * 1024  # a recording larger than this is refused, before download when its size is known


class Transcription(Protocol):
    async def transcribe(self, audio: bytes, *, language: str | None = None,
                         script: str | None = None) -> Transcript: ...


class VoiceNoteError(Exception):
    """A recording the bot cannot use; `code` names the reply (`voice.<code>`): empty, truncated, not_audio,
    too_long, silence, timeout, busy, or unavailable (no speech model)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def too_big(size: int | None) -> bool:
    """Is a recording of `size` bytes (None: not known yet) over `MAX_AUDIO_BYTES`?"""
    return size is not None and size > MAX_AUDIO_BYTES


def whisper_language(language: str) -> str | None:
    """The language Whisper should hear for a member's language (None: let it detect)."""
    return "zh" if language.startswith("zh") else "en" if language == "en" else None


async def transcribe_for(transcription: Transcription, audio: bytes, language: str) -> Transcript:
    """The transcript of a member's recording in their language and script; VoiceNoteError when unusable."""
    try:
        return await transcription.transcribe(audio, language=whisper_language(language), script=language)
    except AudioError as error:
        raise VoiceNoteError(error.code) from error
    except VoiceSetupError as error:
        log.error("voice notes unavailable: %s", error)
        raise VoiceNoteError("unavailable") from error


@dataclass(frozen=True, slots=True)
class VoiceClip:
    """A transcribed recording: what was said, the audio itself, and how much audio may be kept."""

    transcript: Transcript
    audio: bytes
    mime_type: str | None
    source: Source
    keep_bytes: int  # recordings up to this size are kept (to transcribe again later)


def record_voice_note(uow: UnitOfWork, actor: Actor, now: datetime, clip: VoiceClip, *,
                      forward: ForwardedMessage | None = None,
                      window: timedelta = timedelta(0)) -> NoteResult | ForwardResult:
    """Log the transcript as the actor's voice note, with the audio's facts; keep the audio under the limit.

    A forwarded recording (`forward`: where and from whom; its text is the transcript) is the customer's
    words instead: it joins the chat's forward burst (`window` as in `append_forward`)."""
    transcript = clip.transcript
    facts = audio_facts(clip)
    if forward is not None:
        message = dataclasses.replace(forward, text=transcript.text, kind="voice",
                                      audio={**facts, "low_confidence": transcript.low_confidence})
        joined = append_forward(uow, actor, now, message, window=window)
        _keep_audio(uow, actor, joined.note_id, clip)
        return joined
    details = {"audio": facts, "low_confidence": transcript.low_confidence,
               "low_confidence_reasons": list(transcript.reasons)}
    result = log_note(uow, actor, now, NoteInput(transcript.text, clip.source, kind=InteractionKind.voice.value,
                                                 transcript=transcript.text, details=details))
    if result.status is NoteStatus.STORED and result.note is not None:
        _keep_audio(uow, actor, result.note.id, clip)
    return result


def audio_facts(clip: VoiceClip) -> dict[str, Any]:
    """What is stored about a recording: its hash and size, and how the engine heard it."""
    transcript = clip.transcript
    return {"sha256": hashlib.sha256(clip.audio).hexdigest(), "bytes": len(clip.audio),
            "duration": transcript.duration, "language": transcript.language,
            "language_probability": round(transcript.language_probability, 3),
            "engine": transcript.engine, "seconds": round(transcript.seconds, 2)}


def _keep_audio(uow: UnitOfWork, actor: Actor, interaction_id: int, clip: VoiceClip) -> None:
    if len(clip.audio) > clip.keep_bytes or not interaction_id:
        return
    uow.session.add(AudioClip(team_id=actor.team_id, interaction_id=interaction_id,
                              sha256=hashlib.sha256(clip.audio).hexdigest(), mime_type=clip.mime_type,
                              data=clip.audio))
