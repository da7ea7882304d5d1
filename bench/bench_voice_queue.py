"""Voice notes through the PostgreSQL job queue (VOICE_QUEUE=postgres) against the in-process pool.

    .venv/bin/python bench/bench_voice_queue.py [postgresql://postgres@127.0.0.1:5432/test] [--notes 10]

A scratch database is created next to the one named (and dropped at the end), migrated, with one member.
The real model (multilingual base, int8, WHISPER_WORKERS=2) transcribes a 10-s English note:
- in-process: `TranscriptionService.transcribe`, one note at a time (warm): seconds per note;
- queued: a note deferred, taken by a voice worker (procrastinate, LISTEN/NOTIFY), transcribed and stored
  once: seconds from `defer` to the stored note, one at a time; then `--notes` deferred at once: notes/min
  with the worker's two slots (concurrency 2), against as many at once through the in-process pool.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.bench_voice import CACHE, ten_second_notes  # noqa: E402
from core.db import make_engine, upgrade  # noqa: E402
from core.services.interactions import Source  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.uow import unit_of_work  # noqa: E402
from core.usecases.team import Newcomer, local_owner  # noqa: E402
from core.voice.jobs import VoiceJob, VoiceJobs, VoiceOutcome  # noqa: E402
from core.voice.service import TranscriptionService  # noqa: E402


async def run(url: str, notes: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(engine) as uow:
        local_owner(uow, Newcomer("console", "u1", "c1", "Amy", language="en"))
    service = TranscriptionService.from_settings(load_settings("/nonexistent.toml", whisper_cache_dir=CACHE))
    await service.preload()
    audio = ten_second_notes()["en"]
    await service.transcribe(audio, language="en")  # warm-up
    local = []
    for _ in range(notes):
        started = time.perf_counter()
        await service.transcribe(audio, language="en")
        local.append(time.perf_counter() - started)
    print(f"  in-process, one at a time: median {statistics.median(local):.2f} s, max {max(local):.2f} s")
    started = time.perf_counter()
    await asyncio.gather(*(service.transcribe(audio, language="en") for _ in range(notes * 2)))
    wall = time.perf_counter() - started
    print(f"  in-process, {notes * 2} at once (2 workers): {wall:.1f} s, {notes * 2 / wall * 60:.1f} notes/min")

    jobs = VoiceJobs(url)
    await jobs.open()
    await jobs.ensure_schema()
    done: dict[str, float] = {}
    arrived = asyncio.Event()

    async def on_done(outcome: VoiceOutcome) -> None:
        assert outcome.result is not None, outcome
        done[outcome.job.key] = time.perf_counter()
        arrived.set()

    stop = asyncio.Event()
    worker = asyncio.create_task(jobs.run_worker(engine, service, on_done=on_done, concurrency=2, stop=stop))
    counter = iter(range(10**6))

    def job() -> VoiceJob:
        return VoiceJob.of(Source("console", "c1", f"b{next(counter)}"), "u1", "en", audio, "audio/ogg", 0)

    queued = []
    for _ in range(notes + 1):  # the first one warms the worker's connections; not counted
        item = job()
        started = time.perf_counter()
        arrived.clear()
        await jobs.defer(item)
        while item.key not in done:
            await arrived.wait()
            arrived.clear()
        queued.append(done[item.key] - started)
    queued = queued[1:]
    print(f"  queued, one at a time (defer → stored): median {statistics.median(queued):.2f} s, "
          f"max {max(queued):.2f} s; queue and store overhead about "
          f"{statistics.median(queued) - statistics.median(local):+.2f} s")
    burst = [job() for _ in range(notes * 2)]
    started = time.perf_counter()
    for item in burst:
        await jobs.defer(item)
    while not all(item.key in done for item in burst):
        await arrived.wait()
        arrived.clear()
    wall = time.perf_counter() - started
    print(f"  queued, {len(burst)} at once, one voice worker (2 slots): {wall:.1f} s, "
          f"{len(burst) / wall * 60:.1f} notes/min")
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM interaction WHERE kind = 'voice'")).scalar_one()
    print(f"  notes stored: {stored} of {notes + 1 + len(burst)} deferred")
    stop.set()
    await worker
    await jobs.close()
    service.close()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--notes", type=int, default=10)
    args = parser.parse_args()
    admin_url = make_url(args.url).set(drivername="postgresql+psycopg")
    name = f"chatcrm_bench_voiceq_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    print(f"{os.cpu_count()} CPUs; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    try:
        asyncio.run(run(admin_url.set(database=name).render_as_string(hide_password=False), args.notes))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
