"""openai-whisper (PyTorch) transcription, the optional second engine, with the faster engine's settings.

The checkpoint is exported from the same CTranslate2 model (`core.voice.openai_export`). Audio is decoded
with PyAV (`core.voice.common.decode`) and handed over as samples, so the ffmpeg binary that
openai-whisper's own file loader calls is not needed. The speech is prepared exactly as for the faster
engine (Silero VAD cuts the silence, quiet stretches are raised; `core.voice.faster`), so silence and
noise give no invented words and the same doubts are flagged.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from core.ports import Transcript
from core.text import to_script
from core.voice.common import LANGUAGES, SAMPLE_RATE, _doubts, _join, check_samples, decode
from core.voice.errors import AudioError, VoiceSetupError
from core.voice.faster import level_speech, missed_speech, speech_chunks
from core.voice.openai_export import cached_checkpoint

INSTALL_HINT = "pip install -e '.[openai-whisper]'"


def require_openai_whisper() -> None:
    """A clear setup error when the optional extra is not installed."""
    missing = [name for name in ("torch", "whisper") if importlib.util.find_spec(name) is None]
    if missing:
        raise VoiceSetupError(f"WHISPER_ENGINE=openai needs {' and '.join(missing)} (openai-whisper, torch CPU): "
                              f"{INSTALL_HINT}")


class OpenAIWhisper:
    """One shared model; one note at a time (openai-whisper's key/value cache hooks sit on the shared model)."""

    engine = "openai-whisper"

    def __init__(self, model_dir: Path, cache_dir: Path, *, cpu_threads: int | None = None,
                 max_seconds: float = 300.0, time_limit: tuple[float, float] = (2.0, 10.0)) -> None:
        require_openai_whisper()
        self.model_dir, self.cache_dir, self.cpu_threads = model_dir, cache_dir, cpu_threads
        self.max_seconds = max_seconds
        self.time_limit = time_limit  # (factor, seconds): a note may take factor × its length + seconds
        self._model = None
        self._lock = threading.Lock()
        self._deadline = 0.0

    def load(self):
        """Export the checkpoint on first use (cached by checksum) and load it on the CPU."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        import torch
        import whisper

        if self.cpu_threads:
            torch.set_num_threads(self.cpu_threads)
        checkpoint = cached_checkpoint(self.model_dir, self.cache_dir)
        model = whisper.load_model(str(checkpoint), device="cpu")
        decode_window = model.decode

        def decode_within_deadline(mel, options):  # called once per 30-s window (and per fallback)
            if time.perf_counter() > self._deadline:
                raise AudioError("timeout", "transcription took too long")
            return decode_window(mel, options)

        model.decode = decode_within_deadline
        return model

    def transcribe(self, audio: bytes, *, language: str | None = None, script: str | None = None) -> Transcript:
        started = time.perf_counter()
        samples = decode(audio, self.max_seconds)
        duration = check_samples(samples, self.max_seconds)
        chunks, speech, times = _speech(samples)
        model = self.load()
        with self._lock:  # the limit counts from here: loading the model or waiting for a note ahead is not the note's
            self._deadline = time.perf_counter() + self.time_limit[0] * duration + self.time_limit[1]
            language_probability = 1.0
            if language not in LANGUAGES:
                language, language_probability = self._detect(model, speech)
            result = model.transcribe(
                speech, language=language, task="transcribe", beam_size=5, best_of=5,
                temperature=(0.0, 0.2, 0.4), condition_on_previous_text=False, fp16=False, verbose=None,
                compression_ratio_threshold=2.4, logprob_threshold=-1.0, no_speech_threshold=0.6)
        segments = [segment for segment in result["segments"] if segment["text"].strip()]
        text = _join([segment["text"].strip() for segment in segments], language)
        if not text:
            raise AudioError("silence")
        if language == "zh" and script in ("zh-Hant", "zh-Hans"):
            text = to_script(text, script)
        spans = [(times.get_original_time(s["start"]), times.get_original_time(s["end"], is_end=True))
                 for s in segments]
        speech_end = max((end for _, end in spans), default=0.0)
        reasons = _doubts(language_probability, [s["avg_logprob"] for s in segments],
                          [s["compression_ratio"] for s in segments], speech_end, duration, text)
        if missed_speech(chunks, spans):
            reasons += ("speech_missed",)
        return Transcript(text=text, language=language, language_probability=language_probability,
                          duration=round(duration, 2), seconds=round(time.perf_counter() - started, 2),
                          low_confidence=bool(reasons), reasons=reasons, engine=self.engine)

    def _detect(self, model: Any, speech: np.ndarray) -> tuple[str, float]:
        """Mandarin or English, whichever Whisper finds more likely (on the speech, without the silences)."""
        import whisper

        window = whisper.pad_or_trim(speech[: 30 * SAMPLE_RATE])
        mel = whisper.log_mel_spectrogram(window, n_mels=model.dims.n_mels)
        _, scores = model.detect_language(mel)
        best = max(LANGUAGES, key=lambda code: scores.get(code, 0.0))
        total = sum(scores.get(code, 0.0) for code in LANGUAGES) or 1.0
        return best, scores.get(best, 0.0) / total


def _speech(samples: np.ndarray) -> tuple[list[dict[str, int]], np.ndarray, Any]:
    """The VAD's speech stretches, the levelled speech back to back, and the map back to the note's times."""
    from faster_whisper.vad import SpeechTimestampsMap, collect_chunks

    chunks = speech_chunks(samples)
    if not chunks:
        raise AudioError("silence")
    pieces, _ = collect_chunks(level_speech(samples, chunks), chunks, sampling_rate=SAMPLE_RATE)
    return chunks, np.concatenate(pieces).astype(np.float32), SpeechTimestampsMap(chunks, SAMPLE_RATE)
