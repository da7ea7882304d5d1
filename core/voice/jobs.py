"""Voice notes as durable jobs on PostgreSQL (procrastinate), for voice workers on any machine.

With `VOICE_QUEUE=postgres` and a PostgreSQL database, a voice note becomes a procrastinate job (queue
`voice`, one job per note: the queueing lock is the note's key) instead of a call into the in-process pool.
A voice worker (`bot.voice_worker.run_voice_worker`) takes jobs, transcribes with the model from disk and
stores the note once: the store checks and records the key `v:<chat>:<message>` in `processedupdate` in the
same transaction as the note, so a job run again (its worker died after the commit, or before procrastinate
marked it done) stores nothing the second time. Workers send procrastinate heartbeats; a job whose worker
stopped sending them (SIGKILL, a lost machine) is put back to `todo` by any live worker's stalled-job sweep.

The audio travels in the job (base64 in JSONB; notes are refused above 25 MB before they get here).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from core.ports import Transcript
from core.services import inbox
from core.services.interactions import Source
from core.settings import Settings
from core.uow import unit_of_work
from core.usecases.members import who_wrote
from core.usecases.notes import NoteResult
from core.usecases.voice_notes import (
    Transcription,
    VoiceClip,
    VoiceNoteError,
    record_voice_note,
    transcribe_for,
)

log = logging.getLogger(__name__)
QUEUE = "voice"
TASK = "chatcrm.transcribe_voice_note"
SCHEMA_LOCK = 0x766F696365  # pg advisory lock while the procrastinate schema is applied ("voice")


def queue_enabled(settings: Settings) -> bool:
    """Do voice notes go through the PostgreSQL job queue (VOICE_QUEUE=postgres on a PostgreSQL database)?"""
    return settings.voice_queue == "postgres" and settings.database_url.startswith("postgresql")


def conninfo(database_url: str) -> str:
    """The libpq form of a SQLAlchemy URL (`postgresql+psycopg://…` → `postgresql://…`)."""
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        raise ValueError("the voice job queue needs a PostgreSQL DATABASE_URL")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True, slots=True)
class VoiceJob:
    """One member's voice note waiting to be transcribed: who sent it, where, and the audio."""

    platform: str
    user_id: str
    chat_id: str
    message_id: str
    language: str
    audio_b64: str
    mime_type: str | None = None
    keep_bytes: int = 5_000_000

    @classmethod
    def of(cls, source: Source, user_id: str, language: str, audio: bytes, mime_type: str | None,
           keep_bytes: int) -> VoiceJob:
        return cls(source.platform, user_id, source.chat, source.message_id, language,
                   base64.b64encode(audio).decode("ascii"), mime_type, keep_bytes)

    @property
    def key(self) -> str:
        """The note's identity: a job for it is queued once, its note stored once."""
        return f"v:{self.chat_id}:{self.message_id}"

    @property
    def audio(self) -> bytes:
        return base64.b64decode(self.audio_b64)


@dataclass(frozen=True, slots=True)
class VoiceOutcome:
    """What a job came to: the stored note (`result`), a refusal code (`problem`), or None for both when the
    note had been stored before (a job run again) or its sender is no longer a member."""

    job: VoiceJob
    result: NoteResult | None = None
    problem: str | None = None
    transcript: Transcript | None = None


def store_once(engine: Engine, job: VoiceJob, transcript: Transcript, now: datetime) -> NoteResult | None:
    """Record the transcribed note unless its key was recorded before; None when nothing was stored."""
    with unit_of_work(engine) as uow:
        if inbox.seen_before(uow, job.platform, [job.key]):
            return None
        actor = who_wrote(uow, job.platform, job.user_id)
        if actor is None:
            return None
        clip = VoiceClip(transcript, job.audio, job.mime_type, Source(job.platform, job.chat_id, job.message_id),
                         job.keep_bytes)
        result = record_voice_note(uow, actor, now, clip)
        inbox.mark_handled(uow, job.platform, [job.key])  # a concurrent store of the same note fails here
        assert isinstance(result, NoteResult)  # own notes only: forwards stay in-process (their burst timer)
        return result


OnDone = Callable[[VoiceOutcome], Awaitable[None]]


class VoiceJobs:
    """The procrastinate app for voice notes: defer jobs (the bot) and run them (a voice worker)."""

    def __init__(self, database_url: str, *, min_pool: int = 1, max_pool: int = 4) -> None:
        import procrastinate

        self.connector = procrastinate.PsycopgConnector(conninfo=conninfo(database_url),
                                                        min_size=min_pool, max_size=max_pool)
        self.app = procrastinate.App(connector=self.connector)
        self.task = self.app.task(name=TASK, queue=QUEUE, retry=2)(self._run)  # an error (not a bad note): twice more
        self.engine: Engine | None = None
        self.transcription: Transcription | None = None
        self.on_done: OnDone | None = None
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    # -- the bot's side -------------------------------------------------------------------------
    async def open(self) -> None:
        await self.app.open_async()

    async def close(self) -> None:
        await self.app.close_async()

    async def ensure_schema(self) -> None:
        """Create procrastinate's tables once (under an advisory lock: several processes may start at once)."""
        async with self.connector.pool.connection() as connection:
            await connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
            try:
                found = await (await connection.execute("SELECT to_regclass('procrastinate_jobs')")).fetchone()
                if found is None or found[0] is None:
                    await self.app.schema_manager.apply_schema_async()
            finally:
                await connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))

    async def defer(self, job: VoiceJob) -> bool:
        """Queue the note; False when a job for the same note is already waiting (a redelivered update)."""
        from procrastinate.exceptions import AlreadyEnqueued

        try:
            await self.task.configure(queueing_lock=job.key).defer_async(**asdict(job))
        except AlreadyEnqueued:
            return False
        return True

    # -- the worker's side ----------------------------------------------------------------------
    async def _run(self, **fields: Any) -> None:
        assert self.engine is not None and self.transcription is not None, "use run_worker"
        job = VoiceJob(**fields)
        try:
            transcript = await transcribe_for(self.transcription, job.audio, job.language)
        except VoiceNoteError as problem:
            outcome = VoiceOutcome(job, problem=problem.code)
        else:
            result = await asyncio.to_thread(store_once, self.engine, job, transcript, self.clock())
            outcome = VoiceOutcome(job, result=result, transcript=transcript)
        if self.on_done is not None:
            try:
                await self.on_done(outcome)
            except Exception:  # the note is stored; a reply that failed is not a reason to transcribe again
                log.exception("could not answer voice note %s", job.key)

    async def retry_stalled(self, stalled_after: float) -> int:
        """Put back the jobs of workers silent for `stalled_after` seconds; how many."""
        jobs = list(await self.app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after,
                                                                queue=QUEUE))
        for job in jobs:
            log.warning("voice job %s stalled (its worker stopped); retrying", job.id)
            await self.app.job_manager.retry_job(job)
        return len(jobs)

    async def run_worker(self, engine: Engine, transcription: Transcription, *, on_done: OnDone | None = None,
                         concurrency: int = 2, heartbeat: float = 5.0, stalled_after: float = 20.0,
                         stop: asyncio.Event | None = None) -> None:
        """Take voice jobs until `stop` is set; sweep stalled jobs every `heartbeat` seconds meanwhile."""
        self.engine, self.transcription, self.on_done = engine, transcription, on_done
        stop = stop or asyncio.Event()
        worker = asyncio.create_task(self.app.run_worker_async(
            queues=[QUEUE], concurrency=concurrency, install_signal_handlers=False, delete_jobs="successful",
            update_heartbeat_interval=heartbeat, stalled_worker_timeout=stalled_after,
            fetch_job_polling_interval=min(heartbeat, 5.0)))

        async def sweep() -> None:
            while not stop.is_set():
                with contextlib.suppress(Exception):
                    await self.retry_stalled(stalled_after)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), heartbeat)

        sweeper = asyncio.create_task(sweep())
        try:
            await asyncio.wait({worker, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.set()
            sweeper.cancel()
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await worker
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
