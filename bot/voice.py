"""The app's shared transcription service, created on the first voice note (or at start)."""

from __future__ import annotations

import logging

from core.ports import Transcript
from core.voice.service import LazyTranscription

log = logging.getLogger(__name__)


class AudioProblem(Exception):
    """Audio the bot cannot use; `code` names the reply (voice.<code>)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def whisper_language(language: str) -> str | None:
    return "zh" if language.startswith("zh") else "en" if language == "en" else None


async def transcribe(transcription: LazyTranscription, audio: bytes, *, language: str) -> Transcript:
    from core.voice import AudioError, VoiceSetupError

    try:
        return await transcription.transcribe(audio, language=whisper_language(language), script=language)
    except AudioError as error:
        raise AudioProblem(error.code) from error
    except VoiceSetupError as error:
        log.error("voice notes unavailable: %s", error)
        raise AudioProblem("unavailable") from error
