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
