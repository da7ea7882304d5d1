"""What both Whisper engines share: PyAV decoding, the audio checks, joining text and the doubt flags."""

from __future__ import annotations

import io
import os
import zlib

import numpy as np

from core.voice.errors import AudioError

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
SAMPLE_RATE = 16000
LANGUAGES = ("zh", "en")
# Silero VAD: 500 ms of silence ends a stretch of speech (the default 2000 ms dropped whole sentences)
VAD_PARAMETERS = {"min_silence_duration_ms": 500}


def declared_seconds(audio: bytes) -> float | None:
    """The length the container states (read from its headers, nothing decoded); None when it states none."""
    import av

    try:
        with av.open(io.BytesIO(audio), "r", metadata_errors="ignore") as container:
            if container.duration:
                return container.duration / 1_000_000  # av.time_base: microseconds
            stream = container.streams.audio[0] if container.streams.audio else None
            if stream is not None and stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
    except Exception:  # damaged or foreign data: decoding will say what is wrong
        return None
    return None


def decode(audio: bytes, max_seconds: float | None = None) -> np.ndarray:
    """16 kHz mono float32 samples from OGG/Opus, M4A/AAC, WebM, MP3, WAV or FLAC bytes (PyAV).

    With `max_seconds`, a recording whose container states a longer length is refused (`too_long`) before
    it is decoded: an hour of audio would otherwise become ~230 MB of samples first.
    """
    from faster_whisper.audio import decode_audio

    if not audio:
        raise AudioError("empty")
    if max_seconds is not None and (stated := declared_seconds(audio)) is not None and stated > max_seconds + 1:
        raise AudioError("too_long", f"{stated:.0f} s stated by the file")
    try:
        samples = decode_audio(io.BytesIO(audio), sampling_rate=SAMPLE_RATE)
    except Exception as error:  # PyAV raises many kinds for damaged or foreign data
        raise AudioError("not_audio" if len(audio) < 64 or not _looks_like_audio(audio) else "truncated",
                         str(error)[:200]) from error
    if samples.size == 0:
        raise AudioError("truncated" if _looks_like_audio(audio) else "not_audio")
    return samples


def _looks_like_audio(data: bytes) -> bool:
    head = data[:12]
    return (head.startswith((b"OggS", b"RIFF", b"fLaC", b"ID3", b"\x1aE\xdf\xa3")) or head[4:8] == b"ftyp"
            or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf1", b"\xff\xf9"))


def check_samples(samples: np.ndarray, max_seconds: float) -> float:
    """The note's length in seconds; `too_long` over the limit, `silence` if nothing is there."""
    duration = samples.size / SAMPLE_RATE
    if duration > max_seconds:
        raise AudioError("too_long", f"{duration:.0f} s")
    if duration < 0.3 or float(np.abs(samples).max(initial=0.0)) < 1e-3:
        raise AudioError("silence")
    return duration


def _join(texts: list[str], language: str) -> str:
    separator = "" if language == "zh" else " "
    return separator.join(t for t in texts if t).strip()


def _doubts(language_probability: float, logprobs: list[float], ratios: list[float], speech_end: float,
            duration: float, text: str) -> tuple[str, ...]:
    reasons = []
    if language_probability < 0.6:
        reasons.append("language")
    if logprobs and sum(logprobs) / len(logprobs) < -1.0:
        reasons.append("logprob")
    if (ratios and max(ratios) > 2.4) or len(zlib.compress(text.encode())) * 3 < len(text.encode()) > 60:
        reasons.append("repetition")
    if duration > 8 and speech_end < duration * 0.5:
        reasons.append("speech_ended_early")
    return tuple(reasons)
