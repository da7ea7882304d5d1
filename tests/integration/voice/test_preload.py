"""The speech model loads in the background at start: the bot is running before the load ends, a first voice
note waits only for the rest of it, and the model is loaded once."""

from __future__ import annotations

import asyncio
import threading

from bot.bootstrap import build
from bot.run import prepare_voice
from bot.voice_worker import preload_wanted
from core.ports import Transcript
from core.settings import load_settings
from core.voice.service import TranscriptionService

TOKEN = "123456:" + "A" * 30


class SlowModel:
    """A model whose load waits until the test lets it finish."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.loads = 0
        self.loaded = False
        self._lock = threading.Lock()

    def load(self) -> object:
        with self._lock:
            if not self.loaded:
                self.loads += 1
                assert self.release.wait(30)
                self.loaded = True
        return self

    def transcribe(self, audio: bytes, *, language: str | None = None, script: str | None = None) -> Transcript:
        self.load()
        return Transcript(text="hello", language="en", language_probability=1.0, duration=1.0, seconds=0.1,
                          low_confidence=False, reasons=(), engine="slow")


def test_preload_is_on_for_chat_platforms_and_off_for_the_console_and_a_voice_queue(tmp_path) -> None:
    base = {"database_url": f"sqlite:///{tmp_path / 'x.db'}"}
    assert not preload_wanted(load_settings("/nonexistent.toml", **base))
    assert preload_wanted(load_settings("/nonexistent.toml", telegram_bot_token=TOKEN, **base))
    assert not preload_wanted(load_settings("/nonexistent.toml", telegram_bot_token=TOKEN, whisper_preload=False,
                                            **base))
    assert preload_wanted(load_settings("/nonexistent.toml", whisper_preload=True, **base))
    assert not preload_wanted(load_settings("/nonexistent.toml", telegram_bot_token=TOKEN, voice_queue="postgres",
                                            database_url="postgresql+psycopg://u@127.0.0.1/x"))


async def test_the_model_loads_in_the_background_and_a_first_note_waits_for_it_only(tmp_path) -> None:
    settings = load_settings("/nonexistent.toml", database_url=f"sqlite:///{tmp_path / 'bot.db'}",
                             whisper_preload=True)
    model = SlowModel()
    app = build(settings, transcriber=TranscriptionService(model, workers=2))
    try:
        task = await asyncio.wait_for(prepare_voice(app), 5)  # returns while the model is still loading
        assert task is not None and not task.done()
        await asyncio.sleep(0)
        note = asyncio.create_task(app.deps.transcription.transcribe(b"OggS", language="en"))
        await asyncio.sleep(0.05)
        assert not note.done() and not model.loaded  # the loop runs; the note waits for the model
        model.release.set()
        assert (await asyncio.wait_for(note, 10)).text == "hello"
        await asyncio.wait_for(task, 10)
        assert model.loads == 1
    finally:
        model.release.set()
        app.deps.transcription.close()
        app.engine.dispose()


def test_chatcrm_voice_worker_refuses_without_a_postgres_queue(tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from bot.cli import build_app

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.delenv("VOICE_QUEUE", raising=False)
    result = CliRunner().invoke(build_app(), ["voice", "worker"])
    assert result.exit_code == 2
    assert "VOICE_QUEUE=postgres and a PostgreSQL DATABASE_URL" in result.stderr
