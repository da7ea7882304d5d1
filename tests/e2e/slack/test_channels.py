"""Files and audio are taken only from the member's DM with the bot; a channel is never read or answered, and
one upload is handled once however many events announce it (real slack-bolt against the fake Web API)."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import func, select

from core.db import session_scope
from core.models import AudioClip, Customer, Interaction
from core.ports import Transcript
from tests.e2e.slack.conftest import slack_settings, start_bot
from tests.fakes.slack_api import TEAM, channel_message, dm, event, interactive

NOTE = "Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday"


class FakeTranscription:
    """Stands in for Whisper: what is tested here is which Slack events reach it, and how often."""

    def __init__(self, text: str = NOTE) -> None:
        self.text, self.calls = text, 0

    async def preload(self) -> None:
        return None

    async def transcribe(self, audio: bytes, *, language: str | None = None, script: str | None = None) -> Transcript:
        self.calls += 1
        return Transcript(self.text, "en", 0.97, 4.2, 0.4, engine="fake")


def count(app, model) -> int:
    with session_scope(app.engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


async def start_owner(fake, url) -> None:
    await event(url, dm("start"))
    await fake.wait_for("chat.postMessage")


async def test_files_clips_and_words_in_channels_are_ignored_with_no_web_api_call(fake, running):
    app, url = running
    await start_owner(fake, url)
    before = len(fake.calls)
    clip = fake.add_file("FC1", b"\x00\x00\x00\x18ftypM4A audio", name="audio_message.m4a", mimetype="audio/mp4",
                         subtype="slack_audio", channels=["C1"])
    sheet = fake.add_file("FC2", "客戶名稱,電話\n永豐電子,02-1234-5678\n".encode(), name="customers.csv",
                          mimetype="text/csv", channels=["C1"])
    for channel_type, channel in (("channel", "C1"), ("group", "G1"), ("mpim", "G2")):
        assert (await event(url, channel_message("", channel=channel, channel_type=channel_type,
                                                 subtype="file_share", files=[clip])))[0] == 200
        await event(url, channel_message("客戶名單", channel=channel, channel_type=channel_type,
                                         subtype="file_share", files=[sheet]))
        await event(url, channel_message("拜訪大同五金王總,下週三前回覆", channel=channel, channel_type=channel_type))
    for file_id in ("FC1", "FC2"):  # Slack also announces each upload with file_shared (ids only)
        assert (await event(url, {"type": "file_shared", "file_id": file_id, "user_id": "U1", "channel_id": "C1",
                                  "file": {"id": file_id}, "event_ts": "1763430000.000200"}))[0] == 200
    await event(url, dm("help"))  # a sentinel after the channel events
    await fake.wait_for("chat.postMessage", 2)
    after = fake.calls[before:]
    assert [call.method for call in after] == ["chat.postMessage"]  # the sentinel's answer, and nothing else
    assert after[0].body["channel"] == "DU1" and "todo" in after[0].body["text"]
    assert count(app, Interaction) == 0 and count(app, Customer) == 0 and count(app, AudioClip) == 0


async def test_one_dm_upload_announced_by_several_events_is_handled_once(fake, running):
    app, url = running
    heard = FakeTranscription()
    app.deps.transcription.replace(heard)
    await start_owner(fake, url)
    clip = fake.add_file("FV1", b"\x00\x00\x00\x18ftypM4A a real clip", name="audio_message.m4a",
                         mimetype="audio/mp4", subtype="slack_audio", channels=["DU1"])
    message = dm("", ts="1763430100.000100", subtype="file_share", files=[clip])
    shared = {"type": "file_shared", "file_id": "FV1", "user_id": "U1", "channel_id": "DU1", "file": {"id": "FV1"},
              "event_ts": "1763430100.000200"}
    results = await asyncio.gather(event(url, message, event_id="EvMsg"), event(url, shared, event_id="EvShared"),
                                   event(url, message, event_id="EvMsgAgain", retry=1))
    assert [status for status, _ in results] == [200, 200, 200]
    await fake.wait_for("chat.update", 1)  # "Transcribing…" became the note card
    await event(url, dm("help"))  # a sentinel
    await fake.wait_for("chat.postMessage", 3)
    assert [call.body["file"] for call in fake.sent("download")] == ["FV1"]
    assert fake.sent("files.info") == []
    statuses = [call for call in fake.sent("chat.postMessage") if call.body["text"] == "🎙 Transcribing…"]
    assert len(statuses) == 1 and heard.calls == 1
    [update] = fake.sent("chat.update")
    assert update.body["ts"] == fake.posted_ts[1] and "Acme" in update.body["text"]
    with session_scope(app.engine) as session:
        [record] = session.exec(select(Interaction)).all()
        assert record.kind == "voice" and record.transcript == NOTE
    assert count(app, AudioClip) == 1


@pytest.fixture
async def quick_forwards(fake, tmp_path):
    """A bot whose forwarded messages are summed up 0.2 s after the last one."""
    app, adapter = await start_bot(slack_settings(fake, tmp_path, forward_batch_seconds=0.2))
    yield app, f"http://127.0.0.1:{adapter.port}/slack/events"
    await adapter.stop()
    await app.stop()
    app.engine.dispose()


async def test_log_to_crm_on_a_channel_audio_clip_transcribes_it_into_the_members_dm(fake, quick_forwards):
    app, url = quick_forwards
    heard = FakeTranscription("王總說A100要兩百件,十二月三日前報價")
    app.deps.transcription.replace(heard)
    await start_owner(fake, url)
    clip = fake.add_file("FV2", b"\x00\x00\x00\x18ftypM4A customer's clip", name="audio_message.m4a",
                         mimetype="audio/mp4", subtype="slack_audio", user="U9", channels=["C77"])
    shortcut = {"type": "message_action", "callback_id": "log_to_crm", "trigger_id": "t-short-clip",
                "team": {"id": TEAM}, "user": {"id": "U1", "team_id": TEAM},
                "channel": {"id": "C77", "name": "shared-datong"}, "message_ts": "1763430200.000100",
                "message": {"type": "message", "subtype": "file_share", "user": "U9", "ts": "1763430200.000100",
                            "text": "", "files": [clip]},
                "response_url": "http://127.0.0.1:9/r"}
    assert (await interactive(url, shortcut))[0] == 200
    [_, status, summary] = await fake.wait_for("chat.postMessage", 3)
    assert status.body["channel"] == "DU1" and status.body["text"] == "🎙 Transcribing…"
    [deleted] = fake.sent("chat.delete")  # a forward is summed up once its burst ends: the status goes
    assert deleted.body == {"channel": "DU1", "ts": fake.posted_ts[1]}
    assert summary.body["channel"] == "DU1" and "陳小姐" in summary.body["text"]
    assert [call.body["file"] for call in fake.sent("download")] == ["FV2"] and heard.calls == 1
    assert all(call.body.get("channel") != "C77" for call in fake.calls)  # nothing said in the channel
    with session_scope(app.engine) as session:
        record = session.exec(select(Interaction)).one()
        assert record.kind == "forwarded" and "兩百件" in record.text, (record.kind, record.text)
