"""App Home: a ✅ pressed there marks the follow-up done, answers the member in their DM (there is no message to
edit, and no channel) and publishes Home again without it (real slack-bolt against the fake Web API)."""

from __future__ import annotations

import json

from sqlmodel import select

from core.db import session_scope
from core.models import FollowUp
from tests.fakes.slack_api import dm, event, home_action, interactive


def home_buttons(publish) -> list[dict]:
    view = publish.body["view"]
    return [element for block in view["blocks"] if block["type"] == "actions" for element in block["elements"]]


async def test_done_on_app_home_answers_in_the_dm_and_republishes_home(fake, running):
    app, url = running
    await event(url, dm("start"))
    await fake.wait_for("chat.postMessage")
    await event(url, dm("拜訪大同五金王總,要A100一百件報價,下週三前回覆"))
    await event(url, dm("Visited Acme, Mr. Lee wants a quote, follow up Friday"))
    await fake.wait_for("chat.postMessage", 3)
    await event(url, {"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "home"})
    [first] = await fake.wait_for("views.publish")
    buttons = home_buttons(first)
    assert len(buttons) == 2
    done = next(button for button in buttons if "大同五金" in button["text"]["text"])
    posted = len(fake.sent("chat.postMessage"))
    assert (await interactive(url, home_action(done["value"])))[0] == 200
    [_, second] = await fake.wait_for("views.publish", 2)
    answer = fake.sent("chat.postMessage")[posted:]
    assert [call.body["channel"] for call in answer] == ["DU1"] and answer[0].body["text"].startswith("✅ Done:")
    assert answer[0].at <= second.at  # answered, then Home shown again
    assert fake.sent("chat.update") == [] and all(call.status == 200 for call in fake.calls)
    assert second.body["user_id"] == "U1"
    shown = json.dumps(second.body["view"], ensure_ascii=False)
    assert [button["value"] for button in home_buttons(second)] == [
        button["value"] for button in buttons if button is not done]
    assert "Acme" in shown and "大同五金" in shown  # still a recent customer, no longer a follow-up
    with session_scope(app.engine) as session:
        statuses = sorted(follow_up.status for follow_up in session.exec(select(FollowUp)))
    assert statuses == ["done", "pending"]


async def test_a_second_press_of_the_same_home_button_says_so_and_changes_nothing(fake, running):
    app, url = running
    await event(url, dm("start"))
    await fake.wait_for("chat.postMessage")
    await event(url, dm("Called Initech about the renewal, call back tomorrow"))
    await fake.wait_for("chat.postMessage", 2)
    await event(url, {"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "home"})
    [button] = home_buttons((await fake.wait_for("views.publish"))[0])
    await interactive(url, home_action(button["value"]))
    await fake.wait_for("views.publish", 2)
    await interactive(url, home_action(button["value"]))  # pressed again on a Home not yet refreshed
    await fake.wait_for("views.publish", 3)
    first, again = (call.body["text"] for call in fake.sent("chat.postMessage")[2:4])
    assert first != again and all(call.body["channel"] == "DU1" for call in fake.sent("chat.postMessage"))
    with session_scope(app.engine) as session:
        assert session.exec(select(FollowUp)).one().status == "done"
