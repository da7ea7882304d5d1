"""One real Whisper model (assembled from the PyPI parts) for the whole voice test session."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import av
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


def encode(samples: np.ndarray, container: str, codec: str, rate: int = 16000) -> bytes:
    """`samples` (16 kHz mono float) encoded with PyAV, the way a phone or a browser would send them."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as output:
        stream = output.add_stream(codec, rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return buffer.getvalue()


def pink_noise(seconds: float, level: float = 0.05, seed: int = 3) -> np.ndarray:
    """1/f noise (equal energy per octave), like a car or a busy shop floor."""
    white = np.fft.rfft(np.random.default_rng(seed).normal(size=int(16000 * seconds)))
    white[1:] /= np.sqrt(np.arange(1, white.size))
    noise = np.fft.irfft(white)
    return (noise / np.abs(noise).max() * level * 3).astype(np.float32)
