"""Who writes: time zone and language from users.info (asked once per user per run), and the member's own edits
of their DM messages (real slack-bolt against the fake Web API)."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from adapters.slack import SlackAdapter
from adapters.slack.blocks import plain
from bot.i18n import t
from core.chat import EditedIn, TextIn
from core.db import session_scope
from core.models import Interaction, Member
from tests.e2e.slack.conftest import slack_settings
from tests.fakes.slack_api import channel_message, dm, event, slash


def invite_code(reply: dict) -> str:
    return reply["blocks"][0]["text"]["text"].split("`")[1]


async def test_a_new_member_takes_zone_and_language_from_slack(fake, running):
    app, url = running
    fake.users["U3"] = "陳美玲"
    fake.profiles["U3"] = {"tz": "Asia/Hong_Kong", "tz_label": "China Standard Time", "tz_offset": 28800,
                           "locale": "zh-HK"}
    await event(url, dm("start"))
    await fake.wait_for("chat.postMessage")
    await event(url, dm("invite"))
    code = invite_code((await fake.wait_for("chat.postMessage", 2))[-1].body)
    await event(url, dm(f"start {code}", user="U3"))
    joined = (await fake.wait_for("chat.postMessage", 3))[-1].body
    assert joined["channel"] == "DU3" and "陳美玲" in joined["text"]
    await event(url, dm("todo", user="U3"))
    await slash(url, "todo", user="U3", channel="DU3")
    todo = (await fake.wait_for("chat.postMessage", 5))[-1].body
    assert todo["text"] == plain(t("zh-Hant", "todo.empty"))
    asked = [call.body for call in fake.sent("users.info") if call.body["user"] == "U3"]
    assert asked == [{"user": "U3", "include_locale": "1"}]  # once per run, with the locale asked for
    with session_scope(app.engine) as session:
        member = session.exec(select(Member).where(Member.name == "陳美玲")).one()
    assert member.language == "zh-Hant"
    assert member.timezone == "Asia/Hong_Kong"


async def test_an_unknown_zone_from_slack_is_not_passed_on(fake, tmp_path):
    seen = []

    async def handle(incoming):
        seen.append(incoming)
        return []

    fake.profiles["U4"] = {"tz": "Mars/Olympus_Mons", "locale": "en-US"}
    fake.profiles["U5"] = {"tz": "Asia/Shanghai", "locale": "zh-CN"}
    adapter = SlackAdapter(slack_settings(fake, tmp_path), handle)
    await adapter.start()
    try:
        url = f"http://127.0.0.1:{adapter.port}/slack/events"
        await asyncio.gather(event(url, dm("hello", user="U4")), event(url, dm("again", user="U4")))
        await event(url, dm("你好", user="U5"))
        while len(seen) < 3:
            await asyncio.sleep(0.02)
    finally:
        await adapter.stop()
    senders = {incoming.env.sender.platform_user_id: incoming.env.sender for incoming in seen}
    assert (senders["U4"].timezone, senders["U4"].language_code) == (None, "en-US")
    assert (senders["U5"].timezone, senders["U5"].language_code) == ("Asia/Shanghai", "zh-CN")
    assert [call.body["user"] for call in fake.sent("users.info")].count("U4") == 1  # two events, one request


async def test_the_members_edit_of_a_dm_message_becomes_edited_in_with_the_original_ts(fake, tmp_path):
    seen = []

    async def handle(incoming):
        seen.append(incoming)
        return []

    original = "1763430300.000100"
    edit = {"type": "message", "subtype": "message_changed", "hidden": True, "channel": "DU1",
            "channel_type": "im", "ts": "1763430360.000200", "event_ts": "1763430360.000200",
            "message": {"type": "message", "user": "U1", "text": "拜訪大同五金王總,要A100兩百件報價",
                        "ts": original, "edited": {"user": "U1", "ts": "1763430360.000000"}},
            "previous_message": {"type": "message", "user": "U1", "text": "拜訪大同五金王總,要A100一百件報價",
                                 "ts": original}}
    bot_edit = {**edit, "message": {"type": "message", "user": "U0BOT", "bot_id": "B0BOT", "text": "✅ Done",
                                    "ts": "1763430301.000100"},
                "previous_message": {"type": "message", "user": "U0BOT", "bot_id": "B0BOT", "text": "⏰ Acme"}}
    unfurl = {**edit, "message": {**edit["message"], "text": "see https://acme.example"},
              "previous_message": {**edit["previous_message"], "text": "see https://acme.example"}}
    in_channel = {**edit, "channel": "C1", "channel_type": "channel"}
    adapter = SlackAdapter(slack_settings(fake, tmp_path), handle)
    await adapter.start()
    try:
        url = f"http://127.0.0.1:{adapter.port}/slack/events"
        for body in (bot_edit, unfurl, in_channel, channel_message("hi")):
            assert (await event(url, body))[0] == 200
        await event(url, edit, event_id="EvEdit")
        await event(url, dm("sentinel"))
        while len(seen) < 2:
            await asyncio.sleep(0.02)
    finally:
        await adapter.stop()
    [edited] = [incoming for incoming in seen if isinstance(incoming, EditedIn)]
    assert [incoming.text for incoming in seen if isinstance(incoming, TextIn)] == ["sentinel"]
    assert edited.text == "拜訪大同五金王總,要A100兩百件報價"
    assert (edited.env.message_id, edited.env.chat.chat_id, edited.env.sender.platform_user_id) == (
        original, "DU1", "U1")
    assert edited.env.update_id == "EvEdit" and edited.env.sent_at.timestamp() == 1763430360
    assert [call.method for call in fake.calls] == ["auth.test", "users.info"]  # the ignored events called nothing


async def test_editing_a_note_in_the_dm_edits_the_stored_note(fake, running):
    app, url = running
    await event(url, dm("start"))
    await fake.wait_for("chat.postMessage")
    original = "1763430400.000100"
    first = "拜訪大同五金王總,要A100一百件報價"
    await event(url, dm(first, ts=original))
    await fake.wait_for("chat.postMessage", 2)
    edited_text = "拜訪大同五金王總,要A100兩百件報價"
    await event(url, {"type": "message", "subtype": "message_changed", "hidden": True, "channel": "DU1",
                      "channel_type": "im", "ts": "1763430460.000200",
                      "message": {"type": "message", "user": "U1", "text": edited_text, "ts": original,
                                  "edited": {"user": "U1", "ts": "1763430460.000000"}},
                      "previous_message": {"type": "message", "user": "U1", "text": first, "ts": original}})
    answer = (await fake.wait_for("chat.postMessage", 3))[-1].body
    assert answer["channel"] == "DU1"
    with session_scope(app.engine) as session:
        [record] = session.exec(select(Interaction)).all()
    assert record.text == edited_text, answer["text"]
