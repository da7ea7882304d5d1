"""faster-whisper (CTranslate2) transcription tuned not to lose words and not to invent them.

Silero VAD finds the stretches of speech (500 ms of silence ends one); each stretch is levelled to the
loudness floor before Whisper hears the stretches back to back, because a quieter second speaker in one
window was skipped whole (a 17-s note lost its middle sentence) while the louder ones came through.
Only quiet stretches are raised; louder ones are left as they are (lowering them cost accuracy).
Whisper may still end a window after its first sentence: a stretch of speech left without text is then
transcribed on its own, and flagged (`speech_missed`) only if it still gives nothing.

Memory: the workers share one encoder pass at a time (each needs ~150 MB for a moment; the decoders still
run in parallel, so throughput holds), and glibc returns the transient buffers after use (core.voice.memory).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from core.ports import Transcript
from core.text import to_script
from core.voice.common import LANGUAGES, SAMPLE_RATE, VAD_PARAMETERS, _doubts, _join, check_samples, decode
from core.voice.errors import AudioError
from core.voice.memory import trim, tune_malloc

__all__ = ["FasterWhisper", "decode", "level_speech"]
TARGET_RMS = 0.05  # about -26 dBFS: a quieter stretch of speech is raised to this loudness
MAX_GAIN = 10.0  # +20 dB at most, so faint breath or hum is not blown up into "speech"
MISSED_SECONDS = 1.5  # a stretch of speech this long with no text in it marks the note as doubtful


def speech_chunks(samples: np.ndarray) -> list[dict]:
    """Silero VAD's speech stretches as sample ranges (`start`, `end`)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    return get_speech_timestamps(samples, VadOptions(**VAD_PARAMETERS), sampling_rate=SAMPLE_RATE)


def level_speech(samples: np.ndarray, chunks: list[dict]) -> np.ndarray:
    """A copy with every quieter speech stretch raised to TARGET_RMS (by MAX_GAIN at most, peaks under full scale)."""
    levelled = samples.astype(np.float32, copy=True)
    for chunk in chunks:
        piece = levelled[chunk["start"]:chunk["end"]]
        rms = float(np.sqrt(np.mean(np.square(piece)))) if piece.size else 0.0
        peak = float(np.abs(piece).max(initial=0.0))
        if rms > 0 and (gain := min(MAX_GAIN, TARGET_RMS / rms, 0.99 / peak)) > 1:
            piece *= gain
    return levelled


class FasterWhisper:
    """One shared model; thread-safe (CTranslate2 runs `num_workers` transcriptions in parallel)."""

    engine = "faster-whisper"

    def __init__(self, model_dir: Path, *, cpu_threads: int = 1, num_workers: int = 2, max_seconds: float = 300.0,
                 time_limit: tuple[float, float] = (2.0, 10.0)) -> None:
        self.model_dir, self.cpu_threads, self.num_workers = model_dir, cpu_threads, num_workers
        self.max_seconds = max_seconds
        self.time_limit = time_limit  # (factor, seconds): a note may take factor × its length + seconds
        self._model = None
        self._lock = threading.Lock()

    def load(self):
        with self._lock:
            if self._model is None:
                from faster_whisper import WhisperModel

                tune_malloc()
                model = WhisperModel(str(self.model_dir), device="cpu", compute_type="int8",
                                     cpu_threads=self.cpu_threads, num_workers=self.num_workers,
                                     local_files_only=True)
                model.encode = one_at_a_time(model.encode)
                self._model = model
        return self._model

    def transcribe(self, audio: bytes, *, language: str | None = None, script: str | None = None) -> Transcript:
        try:
            return self._transcribe(audio, language=language, script=script)
        finally:
            trim()

    def _transcribe(self, audio: bytes, *, language: str | None, script: str | None) -> Transcript:
        from faster_whisper.vad import SpeechTimestampsMap, collect_chunks

        started = time.perf_counter()
        samples = decode(audio, self.max_seconds)
        duration = check_samples(samples, self.max_seconds)
        deadline = started + self.time_limit[0] * duration + self.time_limit[1]
        chunks = speech_chunks(samples)
        if not chunks:
            raise AudioError("silence")
        levelled = level_speech(samples, chunks)
        pieces, _ = collect_chunks(levelled, chunks, sampling_rate=SAMPLE_RATE)
        speech = np.concatenate(pieces).astype(np.float32)
        model = self.load()
        language_probability = 1.0
        if language not in LANGUAGES:
            language, language_probability = self._detect(model, speech)
        times = SpeechTimestampsMap(chunks, SAMPLE_RATE)
        found = self._segments(model, speech, language, deadline,
                               lambda start, end: (times.get_original_time(start),
                                                   times.get_original_time(end, is_end=True)))
        for chunk in missed_chunks(chunks, [(start, end) for start, end, *_ in found]):
            # Whisper sometimes stops after the first sentence of a window: hear the skipped stretch on its own
            offset = chunk["start"] / SAMPLE_RATE

            def shifted(start: float, end: float, at: float = offset) -> tuple[float, float]:
                return start + at, end + at

            found += self._segments(model, levelled[chunk["start"]:chunk["end"]], language, deadline, shifted,
                                    strict=True)
        found.sort(key=lambda item: item[0])
        text = _join([item[2] for item in found], language)
        if not text:
            raise AudioError("silence")
        if language == "zh" and script in ("zh-Hant", "zh-Hans"):
            text = to_script(text, script)
        spans = [(start, end) for start, end, *_ in found]
        speech_end = max((end for _, end in spans), default=0.0)
        reasons = _doubts(language_probability, [item[3] for item in found], [item[4] for item in found],
                          speech_end, duration, text)
        if missed_speech(chunks, spans):
            reasons += ("speech_missed",)
        return Transcript(text=text, language=language, language_probability=language_probability,
                          duration=round(duration, 2), seconds=round(time.perf_counter() - started, 2),
                          low_confidence=bool(reasons), reasons=reasons, engine=self.engine)

    @staticmethod
    def _segments(model: Any, audio: np.ndarray, language: str, deadline: float,
                  to_note: Callable[[float, float], tuple[float, float]], strict: bool = False) -> list[tuple]:
        """(start, end, text, avg_logprob, compression_ratio) per non-empty segment, times in the note's.

        `strict` (a second hearing) keeps only text Whisper is sure of and sure is speech, so noise the VAD
        took for speech does not become words.
        """
        segments, _ = model.transcribe(
            audio, language=language, beam_size=5, vad_filter=False, condition_on_previous_text=False,
            temperature=(0.0, 0.2, 0.4), without_timestamps=False)
        found = []
        for segment in segments:
            if time.perf_counter() > deadline:
                raise AudioError("timeout", "transcription took too long")
            doubtful = segment.avg_logprob < -1.0 or segment.no_speech_prob > 0.5 or segment.compression_ratio > 2.4
            if (text := segment.text.strip()) and not (strict and doubtful):
                found.append((*to_note(segment.start, segment.end), text, segment.avg_logprob,
                              segment.compression_ratio))
        return found

    def _detect(self, model: Any, speech: np.ndarray) -> tuple[str, float]:
        """Mandarin or English, whichever Whisper finds more likely (on the speech, without the silences)."""
        _, _, probabilities = model.detect_language(speech[: 30 * SAMPLE_RATE])
        scores = dict(probabilities)
        best = max(LANGUAGES, key=lambda code: scores.get(code, 0.0))
        total = sum(scores.get(code, 0.0) for code in LANGUAGES) or 1.0
        return best, scores.get(best, 0.0) / total


def one_at_a_time(encode: Callable) -> Callable:
    """`WhisperModel.encode` behind a lock: two notes never hold encoder buffers at once."""
    lock = threading.Lock()

    def encode_locked(features):
        with lock:
            return encode(features)

    return encode_locked


def missed_chunks(chunks: list[dict], spans: list[tuple[float, float]]) -> list[dict]:
    """The stretches of speech of MISSED_SECONDS or more with (almost) no transcribed text over them."""
    missed = []
    for chunk in chunks:
        start, end = chunk["start"] / SAMPLE_RATE, chunk["end"] / SAMPLE_RATE
        if end - start < MISSED_SECONDS:
            continue
        covered = sum(max(0.0, min(end, b) - max(start, a)) for a, b in spans)
        if covered < 0.2 * (end - start):
            missed.append(chunk)
    return missed


def missed_speech(chunks: list[dict], spans: list[tuple[float, float]]) -> bool:
    """True when a stretch of speech of MISSED_SECONDS or more has (almost) no transcribed text over it."""
    return bool(missed_chunks(chunks, spans))
