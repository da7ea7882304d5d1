"""faster-whisper (CTranslate2) transcription tuned not to lose words and not to invent them.

Silero VAD finds the stretches of speech (500 ms of silence ends one); each stretch is levelled to the
loudness floor before Whisper hears the stretches back to back, because a quieter second speaker in one
window was skipped whole (a 17-s note lost its middle sentence) while the louder ones came through.
Only quiet stretches are raised; louder ones are left as they are (lowering them cost accuracy).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from core.ports import Transcript
from core.text import to_script
from core.voice.common import LANGUAGES, SAMPLE_RATE, VAD_PARAMETERS, _doubts, _join, check_samples, decode
from core.voice.errors import AudioError

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

                self._model = WhisperModel(str(self.model_dir), device="cpu", compute_type="int8",
                                           cpu_threads=self.cpu_threads, num_workers=self.num_workers,
                                           local_files_only=True)
        return self._model

    def transcribe(self, audio: bytes, *, language: str | None = None, script: str | None = None) -> Transcript:
        from faster_whisper.vad import SpeechTimestampsMap, collect_chunks

        started = time.perf_counter()
        samples = decode(audio)
        duration = check_samples(samples, self.max_seconds)
        deadline = started + self.time_limit[0] * duration + self.time_limit[1]
        chunks = speech_chunks(samples)
        if not chunks:
            raise AudioError("silence")
        pieces, _ = collect_chunks(level_speech(samples, chunks), chunks, sampling_rate=SAMPLE_RATE)
        speech = np.concatenate(pieces).astype(np.float32)
        model = self.load()
        language_probability = 1.0
        if language not in LANGUAGES:
            language, language_probability = self._detect(model, speech)
        segments, _ = model.transcribe(
            speech, language=language, beam_size=5, vad_filter=False, condition_on_previous_text=False,
            temperature=(0.0, 0.2, 0.4), without_timestamps=False)
        times = SpeechTimestampsMap(chunks, SAMPLE_RATE)
        texts, logprobs, ratios, spans = [], [], [], []
        for segment in segments:
            if time.perf_counter() > deadline:
                raise AudioError("timeout", f"{duration:.0f} s of audio")
            if not (text := segment.text.strip()):
                continue
            texts.append(text)
            logprobs.append(segment.avg_logprob)
            ratios.append(segment.compression_ratio)
            spans.append((times.get_original_time(segment.start),
                          times.get_original_time(segment.end, is_end=True)))
        text = _join(texts, language)
        if not text:
            raise AudioError("silence")
        if language == "zh" and script in ("zh-Hant", "zh-Hans"):
            text = to_script(text, script)
        speech_end = max((end for _, end in spans), default=0.0)
        reasons = _doubts(language_probability, logprobs, ratios, speech_end, duration, text)
        if missed_speech(chunks, spans):
            reasons += ("speech_missed",)
        return Transcript(text=text, language=language, language_probability=language_probability,
                          duration=round(duration, 2), seconds=round(time.perf_counter() - started, 2),
                          low_confidence=bool(reasons), reasons=reasons, engine=self.engine)

    def _detect(self, model, speech: np.ndarray) -> tuple[str, float]:
        """Mandarin or English, whichever Whisper finds more likely (on the speech, without the silences)."""
        _, _, probabilities = model.detect_language(speech[: 30 * SAMPLE_RATE])
        scores = dict(probabilities)
        best = max(LANGUAGES, key=lambda code: scores.get(code, 0.0))
        total = sum(scores.get(code, 0.0) for code in LANGUAGES) or 1.0
        return best, scores.get(best, 0.0) / total


def missed_speech(chunks: list[dict], spans: list[tuple[float, float]]) -> bool:
    """True when a stretch of speech of MISSED_SECONDS or more has (almost) no transcribed text over it."""
    for chunk in chunks:
        start, end = chunk["start"] / SAMPLE_RATE, chunk["end"] / SAMPLE_RATE
        if end - start < MISSED_SECONDS:
            continue
        covered = sum(max(0.0, min(end, b) - max(start, a)) for a, b in spans)
        if covered < 0.2 * (end - start):
            return True
    return False
