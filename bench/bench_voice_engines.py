"""faster-whisper vs openai-whisper side by side: same audio, same weights, beam 5, same CPU threads.

    .venv/bin/python bench/bench_voice_engines.py [--reps 3] [--threads 1]

Both engines are chatcrm's own (`FasterWhisper`, `OpenAIWhisper`): PyAV decoding, Silero VAD, language
given (no detection), beam 5, temperature fallback 0/0.2/0.4. openai-whisper runs on the checkpoint
converted from the same CTranslate2 `base` model (`chatcrm voice export-openai`); faster-whisper
computes in int8, openai-whisper in float32 (its only CPU mode). After one warm-up pass per clip and
engine, the clips are transcribed `--reps` times, the two engines alternating note by note, so load
from other processes falls on both alike. Prints seconds per note (median per clip, mean over all
notes) for each engine and the ratio; target: faster-whisper at least 2.5x faster.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import time
import wave
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.settings import load_settings
from core.voice.common import SAMPLE_RATE, decode
from core.voice.faster import FasterWhisper
from core.voice.openai_engine import OpenAIWhisper
from core.voice.service import model_dir

AUDIO = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "audio"
TARGET = 2.5


def wav(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(SAMPLE_RATE)
        handle.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def clips() -> list[tuple[str, str, bytes]]:
    """10-second-ish notes: the English recordings and two Mandarin ones joined (about 10.8 s)."""
    mandarin = np.concatenate([decode((AUDIO / "funasr_asr_example.ogg").read_bytes()),
                               np.zeros(SAMPLE_RATE, dtype=np.float32),  # with 0.5 s both engines drop the 2nd
                               decode((AUDIO / "aishell-BAC009S0724W0121.ogg").read_bytes())])
    return [("jfk.ogg", "en", (AUDIO / "jfk.ogg").read_bytes()),
            ("librispeech-1995-1837-0001.ogg", "en", (AUDIO / "librispeech-1995-1837-0001.ogg").read_bytes()),
            ("funasr+aishell (zh)", "zh", wav(mandarin)),
            ("funasr_asr_example.ogg", "zh", (AUDIO / "funasr_asr_example.ogg").read_bytes())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for each engine (1: as each of the "
                        "faster engine's two workers runs, and steady on a busy machine)")
    args = parser.parse_args()

    settings = load_settings()
    source = model_dir(settings)
    engines = {"faster-whisper": FasterWhisper(source, cpu_threads=args.threads, num_workers=1),
               "openai-whisper": OpenAIWhisper(source, Path(settings.whisper_cache_dir), cpu_threads=args.threads)}
    for engine in engines.values():
        engine.load()
    notes = clips()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {args.threads} threads per "
          f"engine, Python {platform.python_version()}, model {source}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    psutil.cpu_percent()  # start the machine-wide CPU counter
    own = psutil.Process()
    own_start = sum(own.cpu_times()[:2])
    started = time.perf_counter()

    seconds: dict[str, dict[str, list[float]]] = {name: {clip: [] for clip, _, _ in notes} for name in engines}
    for rep in range(args.reps + 1):  # rep 0 warms up
        for clip, language, audio in notes:
            for name, engine in engines.items():
                began = time.perf_counter()
                result = engine.transcribe(audio, language=language, script="zh-Hans")
                took = time.perf_counter() - began
                if rep == 0:
                    print(f"  {name:15} {clip:32} {result.duration:5.1f} s  {result.text}")
                else:
                    seconds[name][clip].append(took)

    wall = time.perf_counter() - started
    machine = psutil.cpu_percent()
    mine = (sum(own.cpu_times()[:2]) - own_start) / wall / (os.cpu_count() or 1) * 100
    print(f"\n{'clip':34} {'faster-whisper':>15} {'openai-whisper':>15} {'ratio':>7}")
    for clip, _, _ in notes:
        fast, slow = (statistics.median(seconds[name][clip]) for name in engines)
        print(f"{clip:34} {fast:13.2f} s {slow:13.2f} s {slow / fast:6.1f}x")
    fast, slow = (statistics.mean(t for ts in seconds[name].values() for t in ts) for name in engines)
    verdict = "met" if slow / fast >= TARGET else "missed"
    print(f"{'mean seconds per note':34} {fast:13.2f} s {slow:13.2f} s {slow / fast:6.1f}x  "
          f"(target >= {TARGET}x: {verdict})")
    print(f"{args.reps} timed reps x {len(notes)} clips per engine, {wall:.0f} s; machine CPU {machine:.0f}% "
          f"(this process {mine:.0f}%, others {max(0.0, machine - mine):.0f}%); load average after: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
