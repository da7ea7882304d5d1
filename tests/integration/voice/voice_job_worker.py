"""A voice worker process for the job-queue tests: `real` (the packaged model) or `hang` (marks a sentinel
file when a transcription starts, then never finishes: the test kills it there)."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from bot.bootstrap import build  # noqa: E402
from bot.voice_worker import run_voice_worker  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.voice.service import TranscriptionService  # noqa: E402


class Hanging:
    def __init__(self, sentinel: Path) -> None:
        self.sentinel = sentinel

    def load(self) -> object:
        return self

    def transcribe(self, audio: bytes, *, language: str | None = None, script: str | None = None):
        self.sentinel.write_text("transcribing")
        time.sleep(3600)
        raise AssertionError("killed before this")


def main() -> None:
    mode, sentinel = sys.argv[1], Path(sys.argv[2])
    settings = load_settings("/nonexistent.toml")
    transcriber = TranscriptionService(Hanging(sentinel), workers=1) if mode == "hang" else None
    app = build(settings, transcriber=transcriber)
    if mode == "real":
        sentinel.write_text("started")
    asyncio.run(run_voice_worker(settings, app=app, heartbeat=0.5, stalled_after=2.0))


if __name__ == "__main__":
    main()
