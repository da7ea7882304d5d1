"""What both Whisper engines share: PyAV decoding, the audio checks, joining text and the doubt flags."""

from __future__ import annotations

import gc
import io
import os
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from core.voice.errors import AudioError

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
SAMPLE_RATE = 16000
LANGUAGES = ("zh", "en")
# Silero VAD: 500 ms of silence ends a stretch of speech (the default 2000 ms dropped whole sentences)
VAD_PARAMETERS = {"min_silence_duration_ms": 500}
MARGIN_SECONDS = 1.0  # decoding a file that states no length stops this far past the limit


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
    it is decoded: an hour of audio would otherwise become ~230 MB of samples first. One that states no length
    (a browser's streamed WebM, a WAV with a bogus size) is decoded in chunks and refused as soon as it passes
    `max_seconds` + `MARGIN_SECONDS`, so memory and time stay bounded by the limit, never by the file.
    """
    if not audio:
        raise AudioError("empty")
    if max_seconds is not None and (stated := declared_seconds(audio)) is not None and stated > max_seconds + 1:
        raise AudioError("too_long", f"{stated:.0f} s stated by the file")
    limit = None if max_seconds is None else int((max_seconds + MARGIN_SECONDS) * SAMPLE_RATE)
    try:
        samples = _decode_bounded(audio, limit)
    except AudioError:
        raise
    except Exception as error:  # PyAV raises many kinds for damaged or foreign data
        raise AudioError("not_audio" if len(audio) < 64 or not _looks_like_audio(audio) else "truncated",
                         str(error)[:200]) from error
    if samples.size == 0:
        raise AudioError("truncated" if _looks_like_audio(audio) else "not_audio")
    return samples


def _decode_bounded(audio: bytes, limit: int | None) -> np.ndarray:
    """Decode and resample in chunks of about a second (what faster_whisper's `decode_audio` does, with a ceiling):
    past `limit` output samples it stops with `too_long`."""
    import av

    resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    try:
        with av.open(io.BytesIO(audio), mode="r", metadata_errors="ignore") as container:
            for frame in _grouped(_valid_frames(container.decode(audio=0))):
                for resampled in resampler.resample(frame):
                    chunk = resampled.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += chunk.size
                if limit is not None and total > limit:
                    raise AudioError("too_long", f"over {limit / SAMPLE_RATE:.0f} s decoded, the file states no length")
            for resampled in resampler.resample(None):  # flush
                chunks.append(resampled.to_ndarray().reshape(-1))
    finally:
        del resampler
        gc.collect()  # PyAV's resampler objects are freed only by the collector (faster-whisper issue 390)
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32) / 32768.0


def _valid_frames(frames: Iterator[Any]) -> Iterator[Any]:
    while True:
        try:
            yield next(frames)
        except StopIteration:
            return
        except _invalid_data():  # a damaged frame is skipped, as faster_whisper does
            continue


def _grouped(frames: Iterator[Any], seconds: float = 1.0) -> Iterator[Any]:
    """Frames joined into chunks of about `seconds` (a FIFO, timestamps ignored), so the ceiling is checked often."""
    import av

    fifo = av.audio.fifo.AudioFifo()
    for frame in frames:
        frame.pts = None  # ignore the timestamp check
        fifo.write(frame)
        if fifo.samples >= seconds * (frame.sample_rate or SAMPLE_RATE):
            yield fifo.read()
    if fifo.samples > 0:
        yield fifo.read()


def _invalid_data() -> type[Exception]:
    import av

    return av.error.InvalidDataError


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
