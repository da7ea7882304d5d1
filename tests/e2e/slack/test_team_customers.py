"""Two salespeople and a manager on Slack (real slack-bolt over HTTP against the fake Web API): a colleague's
customer is found, not doubled, and access is asked in the DM and granted with Block Kit buttons; another form of
the company's name is asked before anything is created; `/done N` is the list as shown, a repeat changes
nothing; editing the note's DM message (message_changed) edits the note."""

from __future__ import annotations

import asyncio
import time

from sqlmodel import select

from core.db import session_scope
from core.models import Customer, CustomerAccess, FollowUp, FollowUpStatus, Interaction
from tests.fakes.slack_api import block_action, dm, event, interactive

OWNER, CHEN, BOB, LIN = "U1", "U9", "U2", "U3"  # founder, salesperson, salesperson, manager


def to(fake, user: str, methods: tuple[str, ...] = ("chat.postMessage",)) -> list[dict]:
    return [c.body for c in fake.calls if c.method in methods and c.body.get("channel") == f"D{user}"]


async def waits_for(fake, user: str, count: int, methods: tuple[str, ...] = ("chat.postMessage",)) -> list[dict]:
    deadline = time.monotonic() + 10
    while len(to(fake, user, methods)) < count:
        assert time.monotonic() < deadline, f"{len(to(fake, user, methods))} messages to {user}, expected {count}"
        await asyncio.sleep(0.02)
    return to(fake, user, methods)


async def say(fake, url: str, user: str, text: str, **extra) -> dict:
    before = len(to(fake, user))
    await event(url, dm(text, user=user, **extra))
    return (await waits_for(fake, user, before + 1))[-1]


async def press(fake, url: str, user: str, value: str) -> dict:
    """Press a button on a DM message: the answer is the message updated in place, or a new one."""
    methods = ("chat.postMessage", "chat.update")
    before = len(to(fake, user, methods))
    assert (await interactive(url, block_action(value, user=user, channel=f"D{user}")))[0] == 200
    return (await waits_for(fake, user, before + 1, methods))[-1]


def buttons(body: dict) -> list[tuple[str, str]]:
    return [(e["text"]["text"], e["value"]) for block in body.get("blocks", []) if block["type"] == "actions"
            for e in block["elements"]]


def value_of(body: dict, label: str) -> str:
    return next(value for text, value in buttons(body) if label in text)


def invite_code(reply: dict) -> str:
    return reply["blocks"][0]["text"]["text"].split("`")[1]


async def team(fake, url: str) -> None:
    fake.users.update({CHEN: "陳美玲", BOB: "Bob Wu", LIN: "林經理"})
    fake.profiles[CHEN] = {"tz": "Asia/Taipei", "locale": "zh-TW"}
    fake.profiles[LIN] = {"tz": "Asia/Taipei", "locale": "zh-TW"}
    await say(fake, url, OWNER, "start")
    for user, command in ((CHEN, "invite"), (BOB, "invite"), (LIN, "invite manager")):
        code = invite_code(await say(fake, url, OWNER, command))
        await say(fake, url, user, f"start {code}")


async def test_a_colleagues_customer_is_found_and_access_asked_and_granted_in_the_dm(fake, running):
    app, url = running
    await team(fake, url)
    card = await say(fake, url, CHEN, "拜訪大同五金行，王總要報價 200 台，下週三回覆")
    assert "大同五金行" in card["text"]
    told = await say(fake, url, BOB, "大同五金行 王總 called about the delivery date, follow up Friday")
    assert "🔒" in told["text"] and "陳美玲" in told["text"]
    ask = value_of(told, "Ask for access")
    asked = await press(fake, url, BOB, ask)
    assert "陳美玲" in asked["text"] and "大同五金行" in asked["text"]

    request = (await waits_for(fake, CHEN, 3))[-1]  # the customer's owner is asked in her DM ...
    assert "Bob Wu" in request["text"] and [label for label, _ in buttons(request)] == ["✅ 同意", "❌ 拒絕"]
    assert "Bob Wu" in (await waits_for(fake, LIN, 2))[-1]["text"]  # ... and the manager
    again = await press(fake, url, BOB, ask)
    assert again["text"] == "You already asked for access to 大同五金行; the answer is on its way."

    decline = value_of((await waits_for(fake, LIN, 2))[-1], "拒絕")
    approve = value_of(request, "同意")
    assert "Bob Wu" in (await press(fake, url, CHEN, approve))["text"]
    late = await press(fake, url, LIN, decline)  # the manager answers after her: granted stays
    assert "Bob Wu" in late["text"]
    answer = (await waits_for(fake, BOB, 5))[-1]
    assert "陳美玲" in answer["text"] and "大同五金行" in answer["text"]
    full = await say(fake, url, BOB, "c 大同五金行")
    assert "2 interactions" in full["text"] and "陳美玲" in full["text"]
    for user in (OWNER, CHEN, LIN):  # one request each, however often asked
        assert len([m for m in to(fake, user) if any(v.startswith("ac:ok:") for _, v in buttons(m))]) == 1, user
    with session_scope(app.engine) as session:
        assert session.exec(select(Customer.name)).all() == ["大同五金行"]
        assert session.exec(select(CustomerAccess.status)).all() == ["granted"]


async def test_another_form_of_the_name_is_asked_done_numbers_hold_and_an_edit_edits_the_note(fake, running):
    app, url = running
    await team(fake, url)
    await say(fake, url, CHEN, "new 大同五金行股份有限公司")
    refused = await say(fake, url, BOB, "new 大同五金行有限公司")  # not a second one: whose it is
    assert "大同五金行股份有限公司" in refused["text"] and "陳美玲" in refused["text"]
    assert [label for label, _ in buttons(refused)] == ["🔑 Ask for access"]
    question = await say(fake, url, BOB, "Visited 大同五金行公司, Mr. Lee wants samples, follow up Friday")
    assert buttons(question)[0][0] == "大同五金行股份有限公司"
    filed = await press(fake, url, BOB, buttons(question)[0][1])
    assert "大同五金行股份有限公司" in filed["text"] and "陳美玲" in filed["text"]
    assert "Already filed" in (await press(fake, url, BOB, buttons(question)[0][1]))["text"]

    original = "1763430300.000100"
    await say(fake, url, BOB, "Visited Globex, send the price list Monday", ts=original)
    listed = await say(fake, url, BOB, "todo")
    assert "1." in listed["text"] and "Globex" in listed["text"]
    assert "Done" in (await say(fake, url, BOB, "done ２"))["text"]
    assert "Already done" in (await say(fake, url, BOB, "done 2"))["text"]
    assert "number" in (await say(fake, url, BOB, "done ²"))["text"]

    edited = {"type": "message", "subtype": "message_changed", "channel": f"D{BOB}", "channel_type": "im",
              "hidden": True, "ts": f"{time.time():.6f}",
              "message": {"type": "message", "user": BOB, "text": "Visited Globex, send the price list and samples "
                          "Monday", "ts": original, "edited": {"user": BOB, "ts": f"{time.time():.6f}"}},
              "previous_message": {"type": "message", "user": BOB, "text": "Visited Globex, send the price list "
                                   "Monday", "ts": original}}
    before = len(to(fake, BOB))
    await event(url, edited)
    updated = (await waits_for(fake, BOB, before + 1))[-1]
    assert "Note updated" in updated["text"]
    with session_scope(app.engine) as session:
        assert sorted(session.exec(select(Customer.name)).all()) == ["Globex", "大同五金行股份有限公司"]
        globex = session.exec(select(Interaction).join(Customer).where(Customer.name == "Globex")).one()
        assert "and samples" in globex.text
        done = session.exec(select(FollowUp.action).where(FollowUp.status == FollowUpStatus.done)).all()
        assert len(done) == 1
