"""faster-whisper (CTranslate2) transcription tuned not to lose words and not to invent them."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from core.ports import Transcript
from core.text import to_script
from core.voice.common import LANGUAGES, SAMPLE_RATE, _doubts, _join, check_samples, decode
from core.voice.errors import AudioError

__all__ = ["LANGUAGES", "SAMPLE_RATE", "FasterWhisper", "decode"]


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
        duration = check_samples(samples, self.max_seconds)
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

