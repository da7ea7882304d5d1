"""The app's shared transcription service, created on the first voice note (or at start)."""

from __future__ import annotations

import logging
from typing import Any

from core.ports import Transcript

log = logging.getLogger(__name__)


class AudioProblem(Exception):
    """Audio the bot cannot use; `code` names the reply (voice.<code>)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def service(app: Any) -> Any:
    if app.transcriber is None:
        from core.voice import TranscriptionService

        app.transcriber = TranscriptionService.from_settings(app.settings)
    return app.transcriber


def whisper_language(language: str) -> str | None:
    return "zh" if language.startswith("zh") else "en" if language == "en" else None


async def transcribe(app: Any, audio: bytes, *, language: str) -> Transcript:
    from core.voice import AudioError, VoiceSetupError

    try:
        return await service(app).transcribe(audio, language=whisper_language(language), script=language)
    except AudioError as error:
        raise AudioProblem(error.code) from error
    except VoiceSetupError as error:
        log.error("voice notes unavailable: %s", error)
        raise AudioProblem("unavailable") from error
