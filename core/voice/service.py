"""Transcription off the event loop: a bounded queue in front of a small worker pool sharing one model."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from core.ports import Transcriber, Transcript
from core.settings import Settings
from core.voice.errors import AudioError, VoiceSetupError
from core.voice.model import assemble_default_model, check_model_dir

QUEUE_LIMIT = 32


def model_dir(settings: Settings) -> Path:
    if settings.whisper_model_dir is not None:
        return check_model_dir(Path(settings.whisper_model_dir))
    return assemble_default_model(Path(settings.whisper_cache_dir))


class LoadableTranscriber(Transcriber, Protocol):
    """A transcriber whose model can be loaded before the first note (`whisper_preload`)."""

    def load(self) -> object: ...


class TranscriptionService:
    def __init__(self, engine: LoadableTranscriber, workers: int = 2, queue_limit: int = QUEUE_LIMIT) -> None:
        self.engine = engine
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="whisper")
        self._slots = asyncio.Semaphore(queue_limit)  # notes transcribing or waiting; beyond it: "busy"

    @classmethod
    def from_settings(cls, settings: Settings, engine: str | None = None) -> TranscriptionService:
        """The engine named by `engine` or WHISPER_ENGINE: faster (default) or openai (optional extra)."""
        name = engine or settings.whisper_engine
        transcriber: LoadableTranscriber
        if name == "faster":
            # numpy and the engine are imported only where voice notes are heard
            from core.voice.faster import FasterWhisper

            transcriber = FasterWhisper(model_dir(settings), cpu_threads=settings.whisper_cpu_threads,
                                        num_workers=settings.whisper_workers, max_seconds=settings.voice_max_seconds)
            return cls(transcriber, workers=settings.whisper_workers)
        if name == "openai":
            from core.voice.openai_engine import OpenAIWhisper

            transcriber = OpenAIWhisper(model_dir(settings), Path(settings.whisper_cache_dir),
                                        cpu_threads=settings.whisper_workers * settings.whisper_cpu_threads,
                                        max_seconds=settings.voice_max_seconds)
            return cls(transcriber, workers=1)  # one note at a time; it uses the cores of the faster engine's pool
        raise VoiceSetupError(f"WHISPER_ENGINE={name!r} is not an engine; use 'faster' or 'openai'")

    async def preload(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool, self.engine.load)

    async def transcribe(self, audio: bytes, *, language: str | None = None, script: str | None = None) -> Transcript:
        if self._slots.locked():
            raise AudioError("busy", "too many voice notes waiting")
        async with self._slots:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._pool, lambda: self.engine.transcribe(audio, language=language, script=script))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class LazyTranscription:
    """The app's one transcription service, built on first use (assembling the model takes a while) or at start."""

    def __init__(self, settings: Settings, service: TranscriptionService | None = None) -> None:
        self.settings = settings
        self._service = service
        self._building = threading.Lock()  # the background preload and a first note never build two

    @property
    def service(self) -> TranscriptionService:
        """The service (raises VoiceSetupError with a readable message when the model cannot be used)."""
        if self._service is None:
            with self._building:
                if self._service is None:
                    self._service = TranscriptionService.from_settings(self.settings)
        return self._service

    def replace(self, service: TranscriptionService) -> None:
        self._service = service

    async def preload(self) -> None:
        await self.service.preload()

    async def transcribe(self, audio: bytes, *, language: str | None = None, script: str | None = None) -> Transcript:
        return await self.service.transcribe(audio, language=language, script=script)

    def close(self) -> None:
        if self._service is not None:
            self._service.close()
