"""A recording's stated length is read from its container, so an over-long note is refused before decoding."""

from __future__ import annotations

import numpy as np
import pytest

from core.voice import AudioError
from core.voice.common import declared_seconds, decode
from tests.integration.voice.conftest import AUDIO, encode, wav

SPEECH = decode((AUDIO / "jfk.ogg").read_bytes())


@pytest.mark.parametrize(("container", "codec", "rate"), [
    ("ogg", "libopus", 48000), ("webm", "libopus", 48000), ("mp4", "aac", 16000), ("flac", "flac", 16000),
    ("mp3", "libmp3lame", 16000),
])
def test_the_stated_length_matches_the_recording(container, codec, rate):
    stated = declared_seconds(encode(SPEECH, container, codec, rate))
    assert stated == pytest.approx(SPEECH.size / 16000, abs=0.5)


def test_wav_and_the_shared_telegram_voice_note_state_their_length():
    assert declared_seconds(wav(SPEECH)) == pytest.approx(SPEECH.size / 16000, abs=0.1)
    assert declared_seconds((AUDIO / "jfk.ogg").read_bytes()) == pytest.approx(11.0, abs=0.5)


def test_an_over_long_recording_is_refused_without_being_decoded(monkeypatch):
    long_note = encode(np.zeros(16000 * 400, dtype=np.float32), "flac", "flac")  # 400 s, a few kB
    import faster_whisper.audio

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although the file states 400 s")

    monkeypatch.setattr(faster_whisper.audio, "decode_audio", no_decoding)
    with pytest.raises(AudioError) as refused:
        decode(long_note, max_seconds=300)
    assert refused.value.code == "too_long"


def test_garbage_states_no_length():
    assert declared_seconds(b"%PDF-1.7 not audio at all" * 10) is None
