"""The janitor (core.usecases.housekeeping) on both databases: what is old goes, in bounded batches; what is open,
recent or still awaited stays; several runs at once remove each thing once; `chatcrm janitor --json`."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.cli import build_app
from core.db import make_engine, session_scope
from core.models import AudioClip, AuditEvent, ChatState, InboxItem, Interaction, ProcessedUpdate, ReplyOutbox
from core.uow import Database, unit_of_work
from core.usecases import chat_import_spool, housekeeping
from core.usecases.housekeeping import Retention
from tests.integration.usecases.test_notes import founder

DAY = timedelta(days=1)


def add(engine, *rows) -> None:
    with session_scope(engine) as session:
        session.add_all(rows)
        session.flush()  # seeded here, by the test (not a use case's write)


def all_of(engine, model, *order):
    with session_scope(engine) as session:
        return list(session.exec(select(model).order_by(*(order or (col(model.id),)))).all())


def deletes(engine) -> list[int]:
    """The row count of every DELETE the engine runs from now on (to see the batches)."""
    counts: list[int] = []

    @event.listens_for(engine, "after_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("DELETE"):
            counts.append(cursor.rowcount)
    return counts


def test_old_update_keys_and_done_inbox_rows_go_in_batches_and_open_rows_stay(engine, clock):
    now = clock.now()
    old, recent = now - 31 * DAY, now - 29 * DAY
    add(engine, *[ProcessedUpdate(platform="telegram", key=f"m:1:{i}", at=old) for i in range(12)],
        *[ProcessedUpdate(platform="telegram", key=f"m:1:new{i}", at=recent) for i in range(3)])
    statuses = ["done"] * 7 + ["pending", "processing", "parked"]
    add(engine, *[InboxItem(platform="telegram", key=f"u:{i}", chat_key="telegram:1", received_at=old, status=s)
                  for i, s in enumerate(statuses)],
        InboxItem(platform="telegram", key="u:new", chat_key="telegram:1", received_at=recent, status="done"))
    batches = deletes(engine)
    result = housekeeping.run(Database(engine), now, Retention(processed_update_days=30, spool_dir=None, batch=5))
    assert result.of("processed_update_keys").count == 12 and result.of("inbox_rows").count == 7
    assert max(batches) <= 5 and sum(batches) == 19  # 5 + 5 + 2 keys, 5 + 2 inbox rows: one transaction each
    assert [row.key for row in all_of(engine, ProcessedUpdate)] == ["m:1:new0", "m:1:new1", "m:1:new2"]
    assert sorted((row.key, row.status) for row in all_of(engine, InboxItem)) == [
        ("u:7", "pending"), ("u:8", "processing"), ("u:9", "parked"), ("u:new", "done")]
    again = housekeeping.run(Database(engine), now, Retention(spool_dir=None, batch=5))
    assert again.total == 0


def test_settled_replies_go_and_unsent_or_untold_ones_stay(engine, clock):
    now = clock.now()
    old, recent = now - 31 * DAY, now - 29 * DAY
    statuses = ["sent"] * 6 + ["told", "pending", "lost"]
    add(engine, *[ReplyOutbox(platform="telegram", update_key=f"u:{i}", reply={"text": "ok"}, status=s,
                              created_at=old) for i, s in enumerate(statuses)],
        ReplyOutbox(platform="telegram", update_key="u:new", reply={"text": "ok"}, status="sent", created_at=recent))
    batches = deletes(engine)
    result = housekeeping.run(Database(engine), now, Retention(processed_update_days=30, spool_dir=None, batch=4))
    assert result.of("sent_replies").count == 7
    assert max(batches) <= 4 and sum(batches) == 7  # 4 + 3: one transaction each
    assert sorted((row.update_key, row.status) for row in all_of(engine, ReplyOutbox)) == [
        ("u:7", "pending"), ("u:8", "lost"), ("u:new", "sent")]


def voice_note(engine, actor, created, text: str, audio: bytes) -> int:
    with unit_of_work(engine) as uow:
        interaction = Interaction(team_id=actor.team_id, member_id=actor.member_id, kind="voice", text=text,
                                  transcript=text, search_text=text, created_at=created, occurred_at=created,
                                  details={"audio": {"bytes": len(audio)}})
        uow.session.add(interaction)
        uow.session.flush()
        uow.session.add(AudioClip(team_id=actor.team_id, interaction_id=interaction.id, sha256="x" * 64,
                                  mime_type="audio/ogg", data=audio))
        uow.session.flush()
        return interaction.id or 0


def test_old_recordings_go_and_their_notes_keep_the_transcript_and_a_mark(engine, clock):
    amy = founder(engine)
    now = clock.now()
    old_ids = [voice_note(engine, amy, now - 200 * DAY, f"old note {i}", b"\x01" * (1000 + i)) for i in range(3)]
    new_id = voice_note(engine, amy, now - 100 * DAY, "recent note", b"\x02" * 500)
    result = housekeeping.run(Database(engine), now, Retention(audio_days=180, spool_dir=None, batch=2))
    assert result.of("audio").count == 3 and result.of("audio").bytes == 1000 + 1001 + 1002
    assert [clip.interaction_id for clip in all_of(engine, AudioClip)] == [new_id]
    notes = {row.id: row for row in all_of(engine, Interaction)}
    for interaction_id in old_ids:
        note = notes[interaction_id]
        assert note.transcript.startswith("old note") and note.details["audio"]["bytes"] >= 1000
        assert note.details["audio_removed_at"] == now.isoformat()
    assert "audio_removed_at" not in notes[new_id].details
    events = [e for e in all_of(engine, AuditEvent) if e.action == "audio_removed"]
    assert sorted(e.entity_id for e in events) == old_ids and {e.entity for e in events} == {"interaction"}
    assert {(e.team_id, e.actor_id) for e in events} == {(amy.team_id, None)}  # by the bot, in the note's team
    assert sorted(e.after["bytes"] for e in events) == [1000, 1001, 1002]
    kept = housekeeping.run(Database(engine), now + 1000 * DAY, Retention(audio_days=0, spool_dir=None))
    assert kept.of("audio").count == 0 and len(all_of(engine, AudioClip)) == 1  # 0 days: kept forever


def test_abandoned_spool_files_go_and_awaited_or_recent_ones_stay(engine, clock, tmp_path):
    amy = founder(engine)
    now = clock.now()
    spool = tmp_path / "spool"
    tokens = {name: chat_import_spool.park(spool, amy, b"chat export " * 100, f"{name}.txt")
              for name in ("abandoned", "awaited", "recent", "awaited_expired")}
    for name in ("abandoned", "awaited", "awaited_expired"):
        for path in spool.glob(f"*-{tokens[name]}.*"):
            os.utime(path, ((now - 2 * DAY).timestamp(),) * 2)
    for path in spool.glob(f"*-{tokens['recent']}.*"):
        os.utime(path, ((now - DAY / 2).timestamp(),) * 2)
    (spool / "notes.txt").write_text("not a spooled export")
    os.utime(spool / "notes.txt", ((now - 9 * DAY).timestamp(),) * 2)
    add(engine, ChatState(team_id=amy.team_id, member_id=amy.member_id, chat="telegram:100", kind="import_question",
                          payload={"button": f"im:do:{tokens['awaited']}"}, expires_at=now + DAY),
        ChatState(team_id=amy.team_id, member_id=amy.member_id, chat="telegram:200", kind="import_question",
                  payload={"token": tokens["awaited_expired"]}, expires_at=now - DAY))
    abandoned_size = sum(path.stat().st_size for name in ("abandoned", "awaited_expired")
                         for path in spool.glob(f"*-{tokens[name]}.*"))
    result = housekeeping.run(Database(engine), now, Retention(spool_dir=spool))
    assert result.of("spool_files").count == 4 and result.of("spool_files").bytes == abandoned_size
    left = {path.name for path in spool.iterdir()}
    assert left == {"notes.txt", *(f"{amy.member_id}-{tokens[name]}{suffix}" for name in ("awaited", "recent")
                                   for suffix in (".bin", ".json"))}
    assert chat_import_spool.take(spool, amy, tokens["abandoned"]) is None
    assert chat_import_spool.take(spool, amy, tokens["awaited"]) is not None


def test_several_janitors_at_once_remove_each_row_once(engine, clock):
    now = clock.now()
    add(engine, *[ProcessedUpdate(platform="slack", key=f"e:{i}", at=now - 40 * DAY) for i in range(600)])
    engines = [engine, make_engine(engine.url.render_as_string(hide_password=False))]
    barrier = threading.Barrier(2)
    results: list[housekeeping.JanitorRun] = []
    errors: list[BaseException] = []

    def janitor(index: int) -> None:
        try:
            barrier.wait()
            results.append(housekeeping.run(Database(engines[index]), now, Retention(spool_dir=None, batch=100)))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=janitor, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engines[1].dispose()
    assert errors == []
    assert sum(r.of("processed_update_keys").count for r in results) == 600
    assert all_of(engine, ProcessedUpdate) == []


def test_the_janitor_is_an_hourly_job_of_the_bot(engine, clock, tmp_path):
    from bot import periodic
    from bot.bootstrap import build
    from core.settings import load_settings

    settings = load_settings(tmp_path / "none.toml", import_spool_dir=str(tmp_path / "spool"),
                             processed_update_days=7)
    app = build(settings, clock=clock, engine=engine)
    [job] = [job for job in periodic.jobs(app) if job.name == "janitor"]
    assert job.seconds == 3600
    add(engine, ProcessedUpdate(platform="telegram", key="u:1", at=clock.now() - 8 * DAY),
        ProcessedUpdate(platform="telegram", key="u:2", at=clock.now() - 6 * DAY))
    assert asyncio.run(job.run(clock.now())) == 1
    assert [row.key for row in all_of(engine, ProcessedUpdate)] == ["u:2"]


@pytest.fixture
def cli_env(engine, clock, tmp_path, monkeypatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no config/chatcrm.toml
    monkeypatch.setattr("bot.bootstrap.SystemClock.now", lambda self: clock.now())
    return {"DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "IMPORT_SPOOL_DIR": str(tmp_path / "spool"), "AUDIO_KEEP_DAYS": "90"}


def test_chatcrm_janitor_prints_what_it_removed(engine, clock, cli_env):
    amy = founder(engine)
    voice_note(engine, amy, clock.now() - 91 * DAY, "old note", b"\x03" * 2048)
    add(engine, ProcessedUpdate(platform="telegram", key="u:1", at=clock.now() - 31 * DAY))
    result = CliRunner().invoke(build_app(), ["janitor", "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"processed_update_keys": {"count": 1, "bytes": None},
                                         "inbox_rows": {"count": 0, "bytes": None},
                                         "sent_replies": {"count": 0, "bytes": None},
                                         "audio": {"count": 1, "bytes": 2048}, "spool_files": {"count": 0, "bytes": 0}}
    text = CliRunner().invoke(build_app(), ["janitor"], env=cli_env)
    assert text.exit_code == 0, text.output
    assert text.output.splitlines() == ["processed-update keys: 0 removed", "done inbox rows: 0 removed",
                                        "sent replies: 0 removed",
                                        "stored recordings: 0 removed (0 bytes)",
                                        "abandoned import spool files: 0 removed (0 bytes)"]
