"""Voice notes through the PostgreSQL job queue (procrastinate): stored once, and a job whose worker was
killed in the middle of transcribing is finished by another worker (real processes, the real model)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from core.ports import Transcript
from core.services.interactions import Source
from core.uow import unit_of_work
from core.usecases.team import Newcomer, local_owner
from core.voice.jobs import VoiceJob, VoiceJobs, conninfo, queue_enabled, store_once
from core.voice.service import model_dir
from tests.conftest import drop_postgres, fresh_postgres, postgres_url

pytestmark = pytest.mark.postgres
AUDIO = Path(__file__).resolve().parents[2] / "fixtures" / "audio"
WORKER = Path(__file__).with_name("voice_job_worker.py")
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def pg(postgres_template: str) -> Iterator[tuple]:
    engine, name = fresh_postgres(postgres_template)
    with unit_of_work(engine) as uow:
        local_owner(uow, Newcomer("console", "u1", "c1", "Amy", language="en"))
    yield engine, postgres_url(name)
    engine.dispose()
    drop_postgres(name)


def job_for(message_id: str, audio: bytes) -> VoiceJob:
    return VoiceJob.of(Source("console", "c1", message_id), "u1", "en", audio, "audio/ogg", 5_000_000)


def count(engine, sql: str, **params) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql), params).scalar_one())


def test_settings_choose_the_queue_only_on_postgres(voice_settings) -> None:
    assert not queue_enabled(voice_settings)
    assert queue_enabled(voice_settings.model_copy(update={"voice_queue": "postgres",
                                                           "database_url": "postgresql+psycopg://x@h/db"}))
    assert not queue_enabled(voice_settings.model_copy(update={"voice_queue": "postgres"}))  # SQLite
    assert conninfo("postgresql+psycopg://a:b@h:5/db") == "postgresql://a:b@h:5/db"


def test_a_note_is_stored_once_whatever_runs_the_job_again(pg) -> None:
    engine, _ = pg
    job = job_for("m1", b"OggS fake")
    transcript = Transcript(text="Met Acme, call back Friday", language="en", language_probability=1.0,
                            duration=3.0, seconds=1.0, low_confidence=False, reasons=(), engine="test")
    from datetime import UTC, datetime

    now = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
    first = store_once(engine, job, transcript, now)
    again = store_once(engine, job, transcript, now)
    assert first is not None and first.note is not None and again is None
    assert count(engine, "SELECT count(*) FROM interaction WHERE transcript = :t", t=transcript.text) == 1


def test_a_job_is_queued_once_per_note(pg) -> None:
    _, url = pg

    async def scenario() -> list[bool]:
        jobs = VoiceJobs(url)
        await jobs.open()
        try:
            await jobs.ensure_schema()
            await jobs.ensure_schema()  # a second process starting: nothing applied twice
            job = job_for("m7", b"OggS")
            return [await jobs.defer(job), await jobs.defer(job)]
        finally:
            await jobs.close()

    assert asyncio.run(scenario()) == [True, False]


def _worker(mode: str, url: str, sentinel: Path, cache: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "VOICE_QUEUE": "postgres", "WHISPER_CACHE_DIR": str(cache),
           "WHISPER_WORKERS": "1", "DEFAULT_LANGUAGE": "en"}
    return subprocess.Popen([sys.executable, str(WORKER), mode, str(sentinel)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait(condition, seconds: float, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"worker exited ({process.returncode}): {process.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_worker_killed_mid_transcription_leaves_the_note_to_another(pg, voice_settings, tmp_path) -> None:
    engine, url = pg
    cache = Path(voice_settings.whisper_cache_dir)
    model_dir(voice_settings)  # assembled once here, so the worker processes only load it
    audio = (AUDIO / "jfk.ogg").read_bytes()

    async def enqueue() -> None:
        jobs = VoiceJobs(url)
        await jobs.open()
        try:
            await jobs.ensure_schema()
            assert await jobs.defer(job_for("m42", audio))
        finally:
            await jobs.close()

    asyncio.run(enqueue())
    hanging = _worker("hang", url, tmp_path / "hang", cache)
    try:
        _wait((tmp_path / "hang").exists, 60, "the first worker to start transcribing", hanging)
        assert count(engine, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'") == 1
        os.kill(hanging.pid, signal.SIGKILL)
        hanging.wait(10)
    finally:
        if hanging.poll() is None:
            hanging.kill()
    assert count(engine, "SELECT count(*) FROM interaction") == 0
    real = _worker("real", url, tmp_path / "real", cache)
    try:
        _wait(lambda: count(engine, "SELECT count(*) FROM interaction WHERE kind = 'voice'") > 0, 120,
              "the second worker to store the note", real)
        _wait(lambda: count(engine, "SELECT count(*) FROM procrastinate_jobs") == 0, 30,
              "the job to be done (deleted when successful)", real)
    finally:
        real.send_signal(signal.SIGTERM)
        try:
            real.wait(20)
        except subprocess.TimeoutExpired:
            real.kill()
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT transcript FROM interaction WHERE kind = 'voice'")).all()
    assert len(rows) == 1
    assert "ask not what your country can do for you" in rows[0][0].lower()
    assert count(engine, "SELECT count(*) FROM processedupdate WHERE key = 'v:c1:m42'") == 1


class FixedModel:
    """Stands in for Whisper in the chat test (the real model runs in the kill test above)."""

    def __init__(self) -> None:
        self.calls = 0

    def load(self) -> object:
        return self

    def transcribe(self, audio: bytes, *, language: str | None = None, script: str | None = None) -> Transcript:
        self.calls += 1
        return Transcript(text="Visited Kennedy Library, they want 3 servers", language="en",
                          language_probability=1.0, duration=4.0, seconds=0.1, low_confidence=False, reasons=(),
                          engine="fixed")


async def test_in_chat_a_queued_note_is_answered_by_the_voice_worker_with_its_card(pg, clock, tmp_path) -> None:
    from bot.bootstrap import build
    from bot.voice_queue import close_all
    from bot.voice_worker import run_voice_worker
    from core.settings import load_settings
    from core.voice.service import TranscriptionService
    from tests.conversation import Chat, RecordingMessenger

    engine, url = pg
    settings = load_settings(tmp_path / "none.toml", database_url=url, voice_queue="postgres",
                             default_language="en")
    model = FixedModel()
    bot = build(settings, clock=clock, engine=engine, transcriber=TranscriptionService(model, workers=1))
    bot.attach(bot_messenger := RecordingMessenger("console"))
    chat = Chat(bot, "u1", "Amy", "en", platform="console")  # the team's owner (the `pg` fixture)
    await chat.say("/new Kennedy Library")
    bot_messenger.files["v1"] = (AUDIO / "jfk.ogg").read_bytes()
    [queued] = await chat.voice("v1", duration=11, message_id="501")
    assert "Transcribing" in queued.text and model.calls == 0  # nothing transcribed in the bot process
    await chat.voice("v1", duration=11, message_id="501", update_id="again")  # redelivered: not queued twice
    await close_all()
    assert count(engine, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'") == 1

    worker_app = build(settings, clock=clock, engine=engine, transcriber=TranscriptionService(model, workers=1))
    worker_app.attach(worker_messenger := RecordingMessenger("console"))
    stop = asyncio.Event()
    worker = asyncio.create_task(run_voice_worker(settings, app=worker_app, stop=stop, heartbeat=0.5))
    try:
        for _ in range(300):
            if worker_messenger.sent or worker.done():
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
    [(to, card)] = worker_messenger.sent
    assert to.chat_id == "dm-u1" and "Kennedy Library" in card.text and "3 servers" in card.text
    assert model.calls == 1
    assert count(engine, "SELECT count(*) FROM interaction WHERE kind = 'voice'") == 1


async def test_the_voice_worker_answers_on_telegram_through_the_bot_api(pg, tmp_path) -> None:
    """The worker's send-only Telegram messenger (real python-telegram-bot against the fake Bot API)."""
    from bot.voice_worker import run_voice_worker
    from core.settings import load_settings
    from tests.fakes.telegram_api import FakeTelegram

    engine, url = pg
    with unit_of_work(engine) as uow:
        local_owner(uow, Newcomer("telegram", "42", "42", "Amy Lin", language="en"))
    fake = await FakeTelegram().start()
    try:
        settings = load_settings(tmp_path / "none.toml", database_url=url, voice_queue="postgres",
                                 default_language="en", telegram_bot_token=fake.token,
                                 telegram_api_base_url=fake.base_url, telegram_file_base_url=fake.file_url)
        jobs = VoiceJobs(url)
        await jobs.open()
        await jobs.ensure_schema()
        await jobs.defer(VoiceJob.of(Source("telegram", "42", "77"), "42", "en", b"OggS", "audio/ogg", 0))
        await jobs.close()
        from bot.bootstrap import build
        from core.voice.service import TranscriptionService

        app = build(settings, engine=engine, transcriber=TranscriptionService(FixedModel(), workers=1))
        stop = asyncio.Event()
        worker = asyncio.create_task(run_voice_worker(settings, app=app, stop=stop, heartbeat=0.5))
        try:
            [call] = await fake.wait_for("sendMessage", 1, timeout=30)
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)
        assert str(call.body.get("chat_id")) == "42" and "3 servers" in call.body.get("text", "")
        assert not fake.sent("getUpdates")  # a voice worker never polls
    finally:
        await fake.stop()
