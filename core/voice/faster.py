"""faster-whisper (CTranslate2) transcription tuned not to lose words and not to invent them."""

from __future__ import annotations

import io
import os
import threading
import time
import zlib
from pathlib import Path

import numpy as np

from core.ports import Transcript
from core.text import to_script
from core.voice.errors import AudioError

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
SAMPLE_RATE = 16000
LANGUAGES = ("zh", "en")


def decode(audio: bytes) -> np.ndarray:
    """16 kHz mono float32 samples from OGG/Opus, M4A/AAC, WebM, MP3, WAV or FLAC bytes (PyAV)."""
    from faster_whisper.audio import decode_audio

    if not audio:
        raise AudioError("empty")
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


class FasterWhisper:
    """One shared model; thread-safe (CTranslate2 runs `num_workers` transcriptions in parallel)."""

    engine = "faster-whisper"

    def __init__(self, model_dir: Path, *, cpu_threads: int = 1, num_workers: int = 2, max_seconds: float = 300.0):
        self.model_dir, self.cpu_threads, self.num_workers = model_dir, cpu_threads, num_workers
        self.max_seconds = max_seconds
        self._model = None
        self._lock = threading.Lock()

    def load(self):
        with self._lock:
            if self._model is None:
                from faster_whisper import WhisperModel

                self._model = WhisperModel(str(self.model_dir), device="cpu", compute_type="int8",
                                           cpu_threads=self.cpu_threads, num_workers=self.num_workers,
                                           local_files_only=True)
        return self._model

    def transcribe(self, audio: bytes, *, language: str | None = None, script: str | None = None) -> Transcript:
        started = time.perf_counter()
        samples = decode(audio)
        duration = samples.size / SAMPLE_RATE
        if duration > self.max_seconds:
            raise AudioError("too_long", f"{duration:.0f} s")
        if duration < 0.3 or float(np.abs(samples).max(initial=0.0)) < 1e-3:
            raise AudioError("silence")
        model = self.load()
        language_probability = 1.0
        if language not in LANGUAGES:
            language, language_probability = self._detect(model, samples)
        segments, _ = model.transcribe(
            samples, language=language, beam_size=5, vad_filter=True,
            vad_parameters={"min_silence_duration_ms": 500}, condition_on_previous_text=False,
            temperature=(0.0, 0.2, 0.4), without_timestamps=False)
        deadline = started + 2 * duration + 10
        texts, logprobs, ratios, speech_end = [], [], [], 0.0
        for segment in segments:
            if time.perf_counter() > deadline:
                raise AudioError("timeout", f"{duration:.0f} s of audio")
            texts.append(segment.text.strip())
            logprobs.append(segment.avg_logprob)
            ratios.append(segment.compression_ratio)
            speech_end = max(speech_end, segment.end)
        text = _join(texts, language)
        if not text:
            raise AudioError("silence")
        if language == "zh" and script in ("zh-Hant", "zh-Hans"):
            text = to_script(text, script)
        reasons = _doubts(language_probability, logprobs, ratios, speech_end, duration, text)
        return Transcript(text=text, language=language, language_probability=language_probability,
                          duration=round(duration, 2), seconds=round(time.perf_counter() - started, 2),
                          low_confidence=bool(reasons), reasons=reasons, engine=self.engine)

    def _detect(self, model, samples: np.ndarray) -> tuple[str, float]:
        """Mandarin or English, whichever Whisper finds more likely."""
        _, _, probabilities = model.detect_language(samples[: 30 * SAMPLE_RATE])
        scores = dict(probabilities)
        best = max(LANGUAGES, key=lambda code: scores.get(code, 0.0))
        total = sum(scores.get(code, 0.0) for code in LANGUAGES) or 1.0
        return best, scores.get(best, 0.0) / total


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
