"""A recording whose container states no length (a browser's MediaRecorder WebM, streamed) is decoded only up to
the limit: past VOICE_MAX_SECONDS (+ a 1-s margin) decoding stops and the member gets the usual "too long" reply.
Memory is bounded by the limit, not by what the file expands to."""

from __future__ import annotations

import io
import tracemalloc
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from sqlmodel import select

from bot.bootstrap import build
from bot.i18n import t
from core.db import session_scope
from core.models import AudioClip, Interaction
from core.settings import load_settings
from core.voice import AudioError, TranscriptionService
from core.voice.common import MARGIN_SECONDS, SAMPLE_RATE, declared_seconds, decode
from core.voice.faster import FasterWhisper
from tests.conversation import Chat, RecordingMessenger
from tests.integration.voice.conftest import AUDIO, pink_noise


class _Unseekable(io.RawIOBase):
    """Where a live recorder writes: the muxer cannot go back to fill in the length."""

    def __init__(self) -> None:
        self.written = io.BytesIO()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data) -> int:  # type: ignore[override]
        return self.written.write(data)


def streamed_webm(samples: np.ndarray, repeat: int = 1) -> bytes:
    """16 kHz mono samples as Opus in WebM written as a stream (no duration in the header, no cues), `repeat`
    times in a row (the encoded packets muxed again later in time: a long recording made in no time)."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
    sink = _Unseekable()
    with av.open(sink, "w", format="webm") as output:
        stream = output.add_stream("libopus", rate=48000)
        stream.layout = "mono"
        stream.bit_rate = 12_000  # a phone's voice-note rate
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, 0, Fraction(1, SAMPLE_RATE)
        packets = [*stream.encode(frame), *stream.encode(None)]
        span = packets[-1].pts + packets[-1].duration - packets[0].pts
        for round_ in range(repeat):
            for packet in packets:
                again = av.Packet(bytes(packet))
                again.stream, again.time_base, again.duration = stream, packet.time_base, packet.duration
                again.pts, again.dts = packet.pts + round_ * span, packet.dts + round_ * span
                output.mux(again)
    return sink.written.getvalue()


@pytest.fixture(scope="module")
def ten_minutes() -> bytes:
    return streamed_webm(pink_noise(10, level=0.1), repeat=60)


def peak_bytes(work) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_streamed_recording_states_no_length(ten_minutes):
    assert declared_seconds(ten_minutes) is None
    assert len(ten_minutes) < 1_000_000  # under 1 MB that expands to 38 MB of float samples (57 MB while decoded)


def test_decoding_stops_past_the_limit_with_too_long_and_memory_stays_bounded(ten_minutes):
    def refused() -> None:
        with pytest.raises(AudioError) as error:
            decode(ten_minutes, max_seconds=20)
        assert error.value.code == "too_long"

    bounded = peak_bytes(refused)
    unbounded = peak_bytes(lambda: decode(ten_minutes))  # what decoding the whole file costs
    limit_bytes = (20 + MARGIN_SECONDS) * SAMPLE_RATE * 2  # int16 chunks up to the ceiling
    assert bounded < limit_bytes + 1_000_000, bounded
    assert unbounded > 30 * bounded  # ~57 MB (int16 + float32 of 600 s) against ~0.7 MB


def test_a_streamed_recording_within_the_limit_decodes_as_before():
    from faster_whisper.audio import decode_audio

    speech = decode((AUDIO / "jfk.ogg").read_bytes())
    data = streamed_webm(speech)
    assert declared_seconds(data) is None
    ours = decode(data, max_seconds=20)
    theirs = decode_audio(io.BytesIO(data), sampling_rate=SAMPLE_RATE)
    assert ours.size == theirs.size and np.allclose(ours, theirs)
    assert ours.size / SAMPLE_RATE == pytest.approx(speech.size / SAMPLE_RATE, abs=0.1)


async def test_the_member_gets_the_too_long_reply_and_nothing_is_stored(engine, clock, tmp_path):
    # no model is loaded: the note is refused while decoding, before the model would be needed
    engine_ = FasterWhisper(Path(tmp_path / "no-model"), max_seconds=60)
    service = TranscriptionService(engine_, workers=1)
    try:
        settings = load_settings(tmp_path / "none.toml", default_language="en", voice_max_seconds=60,
                                 whisper_preload=False)
        app = build(settings, clock=clock, engine=engine, transcriber=service)
        messenger = RecordingMessenger("test")
        app.attach(messenger)
        messenger.files["long"] = streamed_webm(pink_noise(10, level=0.1), repeat=15)
        chat = Chat(app, "u1", "Amy Lin", "en")
        await chat.say("/start")
        replies = await chat.voice("long", duration=None)  # the platform did not say either
        assert [reply.text for reply in replies] == [t("en", "voice.too_long", minutes=1)]
        with session_scope(engine) as session:
            assert session.exec(select(Interaction)).all() == [] and session.exec(select(AudioClip)).all() == []
    finally:
        service.close()
