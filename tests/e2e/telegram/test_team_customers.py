"""Two salespeople and a manager on Telegram (real python-telegram-bot against the fake Bot API): a colleague's
customer is found, not doubled, and access is asked and granted with buttons; another form of the company's name
is asked before anything is created; `/done N` is the list as shown and a repeat changes nothing; the card
shows whose it is, its contacts and its files; editing the note's message edits the note."""

from __future__ import annotations

import asyncio
import json
import time

from sqlmodel import select

from core.db import session_scope
from core.models import Customer, CustomerAccess, FollowUp, FollowUpStatus, Interaction
from tests.fakes.telegram_api import callback, message, user

AMY = user(42, "Amy", "Lin", "en")  # founds the team
CHEN = user(43, "美玲", "陳", "zh-hant")  # salesperson
BOB = user(44, "Bob", "Wu", "en")  # salesperson
LIN = user(45, "經理", "林", "zh-hant")  # manager


def to(fake, chat_id: int, method: str = "sendMessage") -> list[dict]:
    """What the bot sent to a chat: `method` one of sendMessage, editMessageText, or "any" (either)."""
    methods = ("sendMessage", "editMessageText") if method == "any" else (method,)
    return [c.body for c in fake.calls if c.method in methods and str(c.body.get("chat_id")) == str(chat_id)]


async def reply_to(fake, who: dict, update: dict, method: str = "sendMessage", count: int = 1) -> dict:
    """Inject `update` from `who` and wait for `count` new messages (`method`) to their chat; the last one."""
    before = len(to(fake, who["id"], method))
    fake.inject(update)
    deadline = time.monotonic() + 10
    while len(to(fake, who["id"], method)) < before + count:
        assert time.monotonic() < deadline, f"no {method} to {who['id']}; seen {[c.method for c in fake.calls]}"
        await asyncio.sleep(0.02)
    return to(fake, who["id"], method)[-1]


async def say(fake, who: dict, text: str) -> dict:
    return await reply_to(fake, who, message(text, chat_id=who["id"], sender=who))


async def press(fake, who: dict, data: str, method: str = "any") -> dict:
    return await reply_to(fake, who, callback(data, message_id=9000, chat_id=who["id"], sender=who), method)


def buttons(body: dict) -> list[tuple[str, str]]:
    markup = body.get("reply_markup") or {"inline_keyboard": []}
    markup = json.loads(markup) if isinstance(markup, str) else markup
    return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]


def data_of(body: dict, label: str) -> str:
    return next(data for text, data in buttons(body) if label in text)


async def waits_for(fake, chat_id: int, count: int) -> list[dict]:
    deadline = time.monotonic() + 10
    while len(to(fake, chat_id)) < count:
        assert time.monotonic() < deadline, f"{len(to(fake, chat_id))} messages to {chat_id}, expected {count}"
        await asyncio.sleep(0.02)
    return to(fake, chat_id)


async def team(fake) -> None:
    await say(fake, AMY, "/start")
    for who, command in ((CHEN, "/invite"), (BOB, "/invite"), (LIN, "/invite manager")):
        code = (await say(fake, AMY, command))["text"].split("<code>")[1].split("</code>")[0]
        await say(fake, who, f"/start {code}")


async def test_a_colleagues_customer_is_found_and_access_asked_and_granted_with_buttons(fake, running):
    app, _ = running
    await team(fake)
    card = await say(fake, CHEN, "拜訪大同五金行，王總要報價 200 台，下週三回覆")
    assert "<b>大同五金行</b>" in card["text"]
    told = await say(fake, BOB, "大同五金行 王總 called about the delivery date, follow up Friday")
    assert "🔒" in told["text"] and "陳美玲" in told["text"]
    ask = data_of(told, "Ask for access")
    asked = await press(fake, BOB, ask, "sendMessage")
    assert "陳美玲" in asked["text"] and "大同五金行" in asked["text"]

    request = (await waits_for(fake, CHEN["id"], 3))[-1]  # the owner of the customer is asked ...
    assert "Bob Wu" in request["text"] and "大同五金行" in request["text"]
    assert [text for text, _ in buttons(request)] == ["✅ 同意", "❌ 拒絕"]  # in her language
    assert "Bob Wu" in (await waits_for(fake, LIN["id"], 2))[-1]["text"]  # ... and so is the manager
    assert "Bob Wu" in (await waits_for(fake, AMY["id"], 5))[-1]["text"]  # ... and the team's owner
    again = await press(fake, BOB, ask, "sendMessage")  # asking again sends no second request (counted below)
    assert again["text"] == "You already asked for access to 大同五金行; the answer is on its way."

    approve = next(data for _, data in buttons(request) if data.startswith("ac:ok:"))
    granted = await press(fake, CHEN, approve)
    assert "Bob Wu" in granted["text"]
    answer = (await waits_for(fake, BOB["id"], 5))[-1]
    assert "陳美玲" in answer["text"] and "大同五金行" in answer["text"]
    full = await say(fake, BOB, "/c 大同五金行")
    assert "🏢 <b>大同五金行</b>" in full["text"] and "2 interactions" in full["text"]
    assert "陳美玲" in full["text"]  # the owner on the card
    assert len(to(fake, CHEN["id"])) == 3 and len(to(fake, LIN["id"])) == 2  # one request each, however often asked

    with session_scope(app.engine) as session:
        assert session.exec(select(Customer.name)).all() == ["大同五金行"]  # never a second one
        [stored] = session.exec(select(CustomerAccess)).all()
        assert stored.status == "granted"
        assert {i.member_id for i in session.exec(select(Interaction))} == {2, 3}  # each note is its writer's


async def test_another_form_of_the_name_is_asked_and_done_numbers_hold(fake, running):
    app, _ = running
    await team(fake)
    await say(fake, CHEN, "/new 大同五金行股份有限公司")
    refused = await say(fake, BOB, "/new 大同五金行")
    assert refused["text"] == "🔒 大同五金行股份有限公司 is 陳美玲's customer. Ask for access to see it."
    assert [label for label, _ in buttons(refused)] == ["🔑 Ask for access"]  # not a second one, and whose
    question = await say(fake, BOB, "Visited 大同五金行公司, Mr. Lee wants samples, follow up tomorrow")  # before Monday, any day
    assert buttons(question)[0][0] == "大同五金行股份有限公司"
    filed = await press(fake, BOB, buttons(question)[0][1])
    assert "<b>大同五金行股份有限公司</b>" in filed["text"] and "陳美玲" in filed["text"]
    again = await press(fake, BOB, buttons(question)[0][1])
    assert "Already filed" in again["text"]

    await say(fake, BOB, "Visited Globex, send the price list Monday")
    listed = await say(fake, BOB, "/todo")
    assert "1. <b>大同五金行股份有限公司</b>" in listed["text"] and "2. <b>Globex</b>" in listed["text"]
    assert "Done" in (await say(fake, BOB, "/done ２"))["text"]
    assert "Already done" in (await say(fake, BOB, "/done 2"))["text"]
    assert "number" in (await say(fake, BOB, "/done ²"))["text"]
    with session_scope(app.engine) as session:
        names = sorted(session.exec(select(Customer.name)).all())
        assert names == ["Globex", "大同五金行股份有限公司"]
        done = session.exec(select(FollowUp).where(FollowUp.status == FollowUpStatus.done)).all()
        assert [f.action for f in done] == ["send the price list"]


async def test_the_manager_merges_two_names_of_one_company_from_the_card(fake, running):
    app, _ = running
    await team(fake)
    await say(fake, CHEN, "拜訪大同五金行，王總要報價 200 台")
    await say(fake, BOB, "Visited DaTong Hardware, Mr. Lee wants samples")
    card = await say(fake, LIN, "/c DaTong Hardware")
    menu = await press(fake, LIN, data_of(card, "⋯"))
    targets = await press(fake, LIN, data_of(menu, "🔗"))
    confirm = await press(fake, LIN, data_of(targets, "大同五金行"))
    assert "DaTong Hardware" in confirm["text"] and "大同五金行" in confirm["text"]
    merged = await press(fake, LIN, data_of(confirm, "🔗"))
    assert "DaTong Hardware" in merged["text"]
    twice = await press(fake, LIN, data_of(confirm, "🔗"))
    assert "已經合併" in twice["text"]
    shown = await say(fake, LIN, "/c 大同五金行")
    assert "Mr. Lee" in shown["text"] and "2 筆往來紀錄" in shown["text"]
    with session_scope(app.engine) as session:
        live = session.exec(select(Customer.name).where(Customer.merged_into_id.is_(None))).all()
        assert live == ["大同五金行"]


async def test_a_forwarded_customer_message_makes_its_sender_the_customers_contact(fake, running):
    app, _ = running
    await team(fake)
    await say(fake, CHEN, "/new 永豐電子")
    origin = {"type": "user", "date": 1763430000,
              "sender_user": {"id": 9001, "is_bot": False, "first_name": "志明", "last_name": "張"}}
    summary = await reply_to(fake, CHEN, message("永豐電子這邊，請報 500 片的價格", chat_id=CHEN["id"], sender=CHEN,
                                                forward_origin=origin))
    assert buttons(summary)[0][0] == "永豐電子"
    await press(fake, CHEN, buttons(summary)[0][1])
    card = await say(fake, CHEN, "/c 永豐電子")
    assert "👥 張志明" in card["text"]
    with session_scope(app.engine) as session:
        from core.models import Contact, CustomerAlias

        [contact] = session.exec(select(Contact)).all()
        assert contact.name == "張志明" and contact.handles.get("telegram") == "9001"
        assert "張志明" not in session.exec(select(CustomerAlias.alias)).all()  # a person, not a name of the company
