"""The transcription queue: notes run off the event loop; beyond the queue limit a note is refused as busy."""

from __future__ import annotations

import asyncio
import threading

import pytest

from core.ports import Transcript
from core.voice import AudioError, TranscriptionService


class GatedEngine:
    """Stands in for the Whisper model (tested for real in tests/integration/voice): waits for a gate."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)

    def load(self) -> None: ...

    def transcribe(self, audio: bytes, *, language=None, script=None) -> Transcript:
        self.started.release()
        assert self.gate.wait(10)
        return Transcript(text=audio.decode(), language=language or "en", language_probability=1.0,
                          duration=1.0, seconds=0.0)


async def test_a_full_queue_answers_busy_and_the_waiting_notes_still_finish():
    engine = GatedEngine()
    service = TranscriptionService(engine, workers=1, queue_limit=2)
    first = asyncio.create_task(service.transcribe(b"one"))
    second = asyncio.create_task(service.transcribe(b"two"))
    await asyncio.to_thread(engine.started.acquire)  # the first note is with the model, the second waits
    with pytest.raises(AudioError) as refused:
        await service.transcribe(b"three")
    assert refused.value.code == "busy"
    engine.gate.set()
    assert [r.text for r in await asyncio.gather(first, second)] == ["one", "two"]
    assert (await service.transcribe(b"four")).text == "four"
    service.close()
