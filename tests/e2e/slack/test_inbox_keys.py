"""What the Slack intake stores and under which key: a retry is the same key, a channel message is not stored, a
slash command whose text says "payload" stays a slash command; the endpoint answers Slack's URL check itself."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from adapters.slack.intake import EVENTS, INTERACTIVE, SLASH, inbox_item, parse_http
from tests.fakes.slack_api import TEAM, block_action, channel_message, deliver, dm, signed_headers


def event_body(event: dict, event_id: str) -> dict:
    return {"team_id": TEAM, "type": "event_callback", "event_id": event_id, "event": event}


def test_keys_and_member_order():
    note = inbox_item(EVENTS, event_body(dm("hello"), "Ev1"))
    assert note is not None and note[:2] == ("e:Ev1", f"slack:{TEAM}:U1")
    again = inbox_item(EVENTS, event_body(dm("hello"), "Ev1"))  # a retry carries the same event id
    assert again is not None and again[0] == note[0]
    assert inbox_item(EVENTS, event_body(channel_message("chatter"), "Ev2")) is None
    edit = inbox_item(EVENTS, event_body({"type": "message", "subtype": "message_changed", "channel": "DU1",
                                          "channel_type": "im", "message": {"user": "U2", "ts": "1.1"}}, "Ev3"))
    assert edit is not None and edit[1] == f"slack:{TEAM}:U2"
    command = inbox_item(SLASH, {"team_id": TEAM, "user_id": "U1", "command": "/crm", "trigger_id": "t77"})
    assert command is not None and command[:2] == ("cmd:t77", f"slack:{TEAM}:U1")
    press = block_action("crm:x", user="U1")
    pressed = inbox_item(INTERACTIVE, press)
    assert pressed is not None and pressed[0] == f"i:{press['trigger_id']}:{press['actions'][0]['action_ts']}"
    assert pressed[1] == f"slack:{TEAM}:U1" and pressed[2] == {"kind": INTERACTIVE, "body": press}


def test_a_slash_command_saying_payload_is_read_as_a_slash_command():
    body = urlencode({"command": "/crm", "text": "log payload capacity 2 tons", "user_id": "U1"})
    assert parse_http(body, "application/x-www-form-urlencoded") == (
        SLASH, {"command": "/crm", "text": "log payload capacity 2 tons", "user_id": "U1"})
    press = urlencode({"payload": json.dumps({"type": "block_actions", "trigger_id": "t1"})})
    assert parse_http(press, "application/x-www-form-urlencoded") == (INTERACTIVE, {"type": "block_actions",
                                                                                    "trigger_id": "t1"})
    assert parse_http("ssl_check=1&token=x", "application/x-www-form-urlencoded") is None


async def test_the_url_check_is_answered_and_nothing_stored(fake, running):
    _, url = running
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"})
    status, text = await deliver(url, body, signed_headers(body, content_type="application/json"))
    assert status == 200 and json.loads(text) == {"challenge": "c-123"}
    status, _ = await deliver(url, "ssl_check=1&token=x",
                              signed_headers("ssl_check=1&token=x", content_type="application/x-www-form-urlencoded"))
    assert status == 200 and not fake.calls  # no Web API call, nothing processed
