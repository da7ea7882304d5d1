"""One real Whisper model (assembled from the PyPI parts) for the whole voice test session."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest

from core.settings import load_settings
from core.voice import TranscriptionService

AUDIO = Path(__file__).resolve().parents[2] / "fixtures" / "audio"


@pytest.fixture(scope="session")
def voice_settings(whisper_cache):
    return load_settings("/nonexistent.toml", whisper_cache_dir=whisper_cache)


@pytest.fixture(scope="session")
def service(voice_settings):
    created = TranscriptionService.from_settings(voice_settings)
    yield created
    created.close()


def wav(samples: np.ndarray, rate: int = 16000) -> bytes:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm)
    return buffer.getvalue()
