"""Every Slack flow through the real slack-bolt AsyncApp over signed HTTP, asserting the Web API requests made."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from sqlmodel import func, select

from core.db import session_scope
from core.models import ConversationMessage, Customer, FollowUp, Interaction, Member
from tests.fakes.slack_api import (
    TEAM,
    block_action,
    deliver,
    dm,
    event,
    interactive,
    signed_headers,
    slash,
)


def count(app, model) -> int:
    with session_scope(app.engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def texts(fake) -> list[str]:
    return [c.body.get("text", "") for c in fake.sent("chat.postMessage")]


async def start_owner(fake, url) -> None:
    assert (await event(url, dm("start")))[0] == 200
    await fake.wait_for("chat.postMessage")


def invite_code(reply: dict) -> str:
    """The code from "Invite code for a new sales: `CODE`" (Block Kit mrkdwn)."""
    return reply["blocks"][0]["text"]["text"].split("`")[1]


def buttons(call) -> list[dict]:
    return [element for block in call.body["blocks"] if block["type"] == "actions" for element in block["elements"]]


async def test_onboarding_in_a_dm_then_invites_and_a_refused_stranger(fake, running):
    app, url = running
    await start_owner(fake, url)
    first = fake.sent("chat.postMessage")[0].body
    assert first["channel"] == "DU1" and "You created the team" in first["text"]
    assert any(c.method == "users.info" and c.body["user"] == "U1" for c in fake.calls)
    await event(url, dm("invite"))
    reply = (await fake.wait_for("chat.postMessage", 2))[-1].body
    code = invite_code(reply)
    await event(url, dm(f"start {code}", user="U2"))
    joined = (await fake.wait_for("chat.postMessage", 3))[-1].body
    assert joined["channel"] == "DU2" and "joined" in joined["text"]
    await event(url, dm("Visited Acme, wants a quote", user="U7"))
    refused = (await fake.wait_for("chat.postMessage", 4))[-1].body
    assert refused["channel"] == "DU7" and "invite code" in refused["text"]
    assert count(app, Member) == 2 and count(app, Interaction) == 0


async def test_an_invite_used_from_another_workspace_is_refused_and_nothing_stored(fake, running):
    app, url = running
    await start_owner(fake, url)
    await event(url, dm("invite"))
    reply = (await fake.wait_for("chat.postMessage", 2))[-1].body
    code = invite_code(reply)
    payload = json.dumps({"token": "x", "team_id": "T0OTHER", "api_app_id": "A1", "type": "event_callback",
                          "event_id": "EvOther", "event_time": int(time.time()),
                          "event": dm(f"start {code}", user="U5")})
    status, _ = await deliver(url, payload, signed_headers(payload, content_type="application/json"))
    assert status == 200
    refused = (await fake.wait_for("chat.postMessage", 3))[-1].body
    assert refused["channel"] == "DU5" and "joined" not in refused["text"]
    assert count(app, Member) == 1


async def test_dm_note_gets_block_kit_buttons_and_a_press_updates_in_place_once(fake, running):
    app, url = running
    await start_owner(fake, url)
    await event(url, dm("Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday"))
    card = (await fake.wait_for("chat.postMessage", 2))[-1]
    labels = [b["text"]["text"] for b in buttons(card)]
    assert labels == ["👤 Change customer", "📅 Change date", "✏️ Edit", "🚫 No follow-up", "↩️ Undo",
                      "📈 Proposal & quote ✅", "Change stage", "Not a deal"]  # the quote proposes a deal (issue 15)
    assert "*Acme*" in card.body["blocks"][0]["text"]["text"] and "Mr. Lee" in card.body["text"]
    undo = buttons(card)[labels.index("↩️ Undo")]["value"]
    press = block_action(undo, message_ts="1700000000.000200")
    assert (await interactive(url, press))[0] == 200
    update = (await fake.wait_for("chat.update"))[-1].body
    assert update["channel"] == "DU1" and update["ts"] == "1700000000.000200" and "Undone" in update["text"]
    assert (await interactive(url, press))[0] == 200  # Slack retried the very same press
    await interactive(url, block_action(undo, message_ts="1700000000.000200"))  # a second, impatient press
    updates = await fake.wait_for("chat.update", 2)
    await event(url, dm("help"))  # a sentinel after the presses
    assert "todo" in (await fake.wait_for("chat.postMessage", 3))[-1].body["text"]  # the help answer
    assert len(fake.sent("chat.update")) == 2 and "already undone" in updates[1].body["text"]
    with session_scope(app.engine) as session:
        assert session.exec(select(Interaction)).one().deleted_at is not None


async def test_word_commands_in_a_dm(fake, running):
    _, url = running
    await start_owner(fake, url)
    await event(url, dm("拜訪大同五金王總,要A100一百件報價,下週三前回覆"))
    await fake.wait_for("chat.postMessage", 2)
    await event(url, dm("c 大同"))
    card = (await fake.wait_for("chat.postMessage", 3))[-1].body["text"]
    assert "大同五金" in card and "王總" in card
    await event(url, dm("todo"))
    todo = (await fake.wait_for("chat.postMessage", 4))[-1]
    assert "大同五金" in todo.body["text"] and buttons(todo)
    await event(url, dm("help"))
    help_text = (await fake.wait_for("chat.postMessage", 5))[-1].body["text"]
    assert "\ntodo" in help_text and "/todo" not in help_text and "/crm todo" in help_text


async def test_slash_command_answers_in_the_dm_even_with_the_word_payload(fake, running):
    app, url = running
    await start_owner(fake, url)
    status, body = await slash(url, "log payload capacity 2 tons for Acme, call back tomorrow")
    assert status == 200 and "unhandled" not in body
    reply = (await fake.wait_for("chat.postMessage", 2))[-1].body
    assert reply["channel"] == "DU1" and "Acme" in reply["text"]
    assert any(c.method == "conversations.open" and c.body["users"] == "U1" for c in fake.calls)
    with session_scope(app.engine) as session:
        record = session.exec(select(Interaction)).one()
        assert "payload capacity 2 tons" in record.text
        assert session.exec(select(FollowUp)).one().status == "pending"
    await slash(url, "c acme")
    assert "Acme" in (await fake.wait_for("chat.postMessage", 3))[-1].body["text"]


async def test_log_to_crm_shortcut_files_a_channel_message_with_its_author_and_time(fake, running):
    app, url = running
    await start_owner(fake, url)
    await event(url, dm("new 大同五金"))
    await fake.wait_for("chat.postMessage", 2)
    shortcut = {"type": "message_action", "callback_id": "log_to_crm", "trigger_id": "t-short-1",
                "team": {"id": TEAM}, "user": {"id": "U1", "team_id": TEAM},
                "channel": {"id": "C77", "name": "shared-datong"}, "message_ts": "1763430000.000100",
                "message": {"type": "message", "user": "U9", "ts": "1763430000.000100",
                            "text": "請報 A100 兩百件的價格, 12月3日前要"},
                "response_url": "http://127.0.0.1:9/r"}
    assert (await interactive(url, shortcut))[0] == 200
    ask = (await fake.wait_for("chat.postMessage", 3, timeout=10))[-1]
    assert ask.body["channel"] == "DU1"
    choice = next(b for b in buttons(ask) if "大同五金" in b["text"]["text"])
    await interactive(url, block_action(choice["value"], message_ts="1700000000.000300"))
    await fake.wait_for("chat.update")
    with session_scope(app.engine) as session:
        record = session.exec(select(Interaction)).one()
        message = session.exec(select(ConversationMessage)).one()
        customer = session.get(Customer, record.customer_id)
    assert customer.name == "大同五金" and record.kind == "forwarded"
    assert message.sender == "陳小姐" and int(message.sent_at.timestamp()) == 1763430000
    assert "12月3日" in message.text


async def test_a_retried_event_creates_nothing_twice(fake, running):
    app, url = running
    await start_owner(fake, url)
    note = dm("Called Acme about the invoice", ts="1763430001.000100")
    await event(url, note, event_id="EvSame")
    await fake.wait_for("chat.postMessage", 2)
    status, _ = await event(url, note, event_id="EvSame", retry=1)
    assert status == 200
    await event(url, note, event_id="EvOtherId", retry=2)  # the same message under a new event id
    await event(url, dm("help"))  # a sentinel after the retries
    assert "todo" in (await fake.wait_for("chat.postMessage", 3))[-1].body["text"]  # the help answer
    assert count(app, Interaction) == 1 and len(fake.sent("chat.postMessage")) == 3


async def test_a_bad_signature_is_refused_with_401_and_nothing_happens(fake, running):
    app, url = running
    status, _ = await event(url, dm("start"), secret="not-the-secret")
    assert status == 401
    body = urlencode({"command": "/crm", "text": "help", "user_id": "U1", "team_id": TEAM})
    stale = signed_headers(body, content_type="application/x-www-form-urlencoded",
                           timestamp=int(time.time()) - 3600)
    assert (await deliver(url, body, stale))[0] == 401
    await event(url, dm("help", user="U9"))  # a sentinel, correctly signed, from a stranger
    [answer] = await fake.wait_for("chat.postMessage")
    assert answer.body["channel"] == "DU9"  # the only message posted: none for the refused requests
    assert count(app, Member) == 0


async def test_rate_limits_and_api_errors_never_lose_the_note(fake, running):
    app, url = running
    await start_owner(fake, url)
    fake.fail("chat.postMessage", retry_after=1)
    await event(url, dm("Visited Globex, they want 20 units"))
    await fake.wait_for("chat.postMessage", 3, timeout=10)  # 429, then the SDK retries after Retry-After
    assert "Globex" in texts(fake)[-1]
    fake.fail("chat.postMessage", error="channel_not_found")
    await event(url, dm("Called Initech about renewal"))
    await fake.wait_for("chat.postMessage", 4)
    await event(url, dm("todo"))
    await fake.wait_for("chat.postMessage", 5)
    assert count(app, Interaction) == 2


async def test_events_are_acknowledged_before_the_slow_work(fake, running):
    app, url = running
    await start_owner(fake, url)
    fake.slow("chat.postMessage", 2.0)
    status, _ = await event(url, dm("Visited Hooli, demo went well"))
    # acked while the reply (held 2 s by the fake) is still unanswered
    assert status == 200 and fake.answered.count("chat.postMessage") == 1
    await fake.wait_for("chat.postMessage", 2, timeout=10)
    with session_scope(app.engine) as session:
        assert session.exec(select(Interaction)).one().text == "Visited Hooli, demo went well"


async def test_app_home_shows_open_follow_ups_and_recent_customers(fake, running):
    _, url = running
    await start_owner(fake, url)
    await event(url, dm("Visited Acme, Mr. Lee wants a quote, follow up Friday"))
    await fake.wait_for("chat.postMessage", 2)
    await event(url, {"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "home"})
    view = (await fake.wait_for("views.publish"))[-1].body
    assert view["user_id"] == "U1" and view["view"]["type"] == "home"
    shown = json.dumps(view["view"], ensure_ascii=False)
    assert "Acme" in shown and "quote" in shown and "crm:0:0" in shown
    await event(url, {"type": "app_home_opened", "user": "U8", "channel": "DU8", "tab": "home"})
    stranger = (await fake.wait_for("views.publish", 2))[-1].body
    assert "Acme" not in json.dumps(stranger["view"], ensure_ascii=False)
