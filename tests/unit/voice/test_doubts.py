"""The low-confidence flags and the loudness floor, on numbers whose answer is known."""

from __future__ import annotations

import numpy as np

from core.voice.common import _doubts
from core.voice.faster import MAX_GAIN, TARGET_RMS, level_speech, missed_speech

CLEAR = {"language_probability": 0.95, "logprobs": [-0.3, -0.2], "ratios": [1.4], "speech_end": 9.5,
         "duration": 10.0, "text": "Visited Acme, they want 300 units next week"}


def doubts(**changes) -> tuple[str, ...]:
    values = {**CLEAR, **changes}
    return _doubts(values["language_probability"], values["logprobs"], values["ratios"], values["speech_end"],
                   values["duration"], values["text"])


def test_a_clear_note_has_no_doubts():
    assert doubts() == ()


def test_each_sign_of_trouble_has_its_own_reason():
    assert doubts(language_probability=0.55) == ("language",)
    assert doubts(logprobs=[-1.4, -1.2]) == ("logprob",)
    assert doubts(ratios=[2.9]) == ("repetition",)
    assert doubts(text="thank you " * 30) == ("repetition",)
    assert doubts(speech_end=3.0, duration=20.0) == ("speech_ended_early",)


def test_a_short_note_that_stops_early_is_not_doubted():
    assert doubts(speech_end=2.0, duration=6.0) == ()


def chunk(start: float, end: float) -> dict:
    return {"start": int(start * 16000), "end": int(end * 16000)}


def test_a_stretch_of_speech_without_text_is_noticed():
    chunks = [chunk(0.6, 5.6), chunk(6.6, 10.6), chunk(12.4, 17.4)]
    assert missed_speech(chunks, [(0.6, 5.6), (12.4, 17.4)])  # the middle sentence came out as nothing
    assert not missed_speech(chunks, [(0.6, 5.6), (5.6, 12.4), (12.4, 17.4)])
    assert not missed_speech([chunk(0.0, 1.0), chunk(3.0, 6.0)], [(3.0, 6.0)])  # a cough is not a sentence


def test_only_quiet_speech_is_raised_and_never_past_full_scale():
    rng = np.random.default_rng(1)
    loud = rng.normal(0, 0.2, 16000).astype(np.float32)
    quiet = rng.normal(0, 0.01, 16000).astype(np.float32)
    faint = rng.normal(0, 0.0005, 16000).astype(np.float32)
    samples = np.concatenate([loud, np.zeros(8000, np.float32), quiet, faint])
    levelled = level_speech(samples, [chunk(0, 1), chunk(1.5, 2.5), chunk(2.5, 3.5)])

    def rms(x: np.ndarray) -> float:
        return float(np.sqrt(np.mean(np.square(x))))

    assert np.array_equal(levelled[:16000], loud)  # louder than the floor: untouched
    assert abs(rms(levelled[24000:40000]) - TARGET_RMS) < 0.002
    assert abs(rms(levelled[40000:]) / rms(faint) - MAX_GAIN) < 0.01  # gain capped
    assert not np.shares_memory(levelled, samples)
    clicky = rng.normal(0, 0.005, 16000).astype(np.float32)
    clicky[100] = 0.5  # a quiet stretch with one click: the click must not clip
    assert 0.98 < float(np.abs(level_speech(clicky, [chunk(0, 1)])).max()) <= 0.99 + 1e-6
