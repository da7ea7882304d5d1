"""Two companies on one deployment, on Slack: the real slack-bolt AsyncApp over signed HTTP against the fake Web
API, two workspaces (T1, T2). Each workspace's first user founds its own team; both have a customer "Acme" with
notes; each sees only its own Acme (find, card, /crm customers, App Home); another workspace's invite code is
refused; block actions forged with the other workspace's customer and follow-up ids are refused politely, change
no row of either team, and what was sent to Slack is exactly the refusal."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from urllib.parse import urlencode

from sqlalchemy import Engine
from sqlmodel import col, select

from core.db import session_scope
from core.models import AuditEvent, Customer, FollowUp, Member, Team
from core.usecases.followup_cards import card_stamp
from tests.fakes.slack_api import FakeSlack, deliver, signed_headers
from tests.integration.bot.two_teams import team_rows

AMY, BOB = "U1", "U2"  # workspace T1: Amy founds, Bob joins
QUENTIN, XENIA = "U3", "U4"  # workspace T2: Quentin founds, Xenia tries T1's code
T1_WORDS = ("Mr. Lee", "314")  # only T1's notes say these
T2_WORDS = ("Ms. Zorro", "919")
DELIVERY_BOOKKEEPING = ("replyoutbox",)  # the presser's team stores the replies it is sent (the reply outbox)
_ids = itertools.count(1)


async def event_in(url: str, team: str, body: dict) -> None:
    payload = json.dumps({"token": "x", "team_id": team, "api_app_id": "A1", "type": "event_callback",
                          "event_id": f"EvW{next(_ids)}", "event_time": int(time.time()), "event": body})
    status, _ = await deliver(url, payload, signed_headers(payload, content_type="application/json"))
    assert status == 200


async def slash_in(url: str, team: str, user: str, text: str, channel: str = "C1") -> None:
    body = urlencode({"token": "x", "team_id": team, "channel_id": channel, "user_id": user, "command": "/crm",
                      "text": text, "trigger_id": f"t{next(_ids)}", "response_url": "http://127.0.0.1:9/r"})
    status, _ = await deliver(url, body, signed_headers(body, content_type="application/x-www-form-urlencoded"))
    assert status == 200


async def press_in(url: str, team: str, user: str, value: str, message_ts: str = "1700000000.000100") -> None:
    payload = {"type": "block_actions", "team": {"id": team}, "user": {"id": user, "team_id": team},
               "trigger_id": f"t{next(_ids)}",
               "container": {"type": "message", "channel_id": f"D{user}", "message_ts": message_ts},
               "channel": {"id": f"D{user}"}, "message": {"ts": message_ts},
               "actions": [{"action_id": "crm:0:0", "block_id": "row0", "value": value, "type": "button",
                            "action_ts": f"{time.time():.6f}"}]}
    body = urlencode({"payload": json.dumps(payload)})
    status, _ = await deliver(url, body, signed_headers(body, content_type="application/x-www-form-urlencoded"))
    assert status == 200


async def press_in_home(url: str, team: str, user: str, value: str) -> None:
    payload = {"type": "block_actions", "team": {"id": team}, "user": {"id": user, "team_id": team},
               "trigger_id": f"t{next(_ids)}", "container": {"type": "view", "view_id": "V0HOME"},
               "view": {"id": "V0HOME", "type": "home", "blocks": []},
               "actions": [{"action_id": "crm:0:0", "block_id": "row0", "value": value, "type": "button",
                            "action_ts": f"{time.time():.6f}"}]}
    body = urlencode({"payload": json.dumps(payload)})
    status, _ = await deliver(url, body, signed_headers(body, content_type="application/x-www-form-urlencoded"))
    assert status == 200


SAID = ("chat.postMessage", "chat.update", "chat.postEphemeral")


def to(fake: FakeSlack, user: str, methods: tuple[str, ...] = SAID) -> list[dict]:
    return [c.body for c in fake.calls if c.method in methods
            and (c.body.get("channel") == f"D{user}" or c.body.get("user") == user)]


async def settle(fake: FakeSlack, user: str, count: int, methods: tuple[str, ...] = SAID) -> list[dict]:
    deadline = time.monotonic() + 10
    while len(to(fake, user, methods)) < count:
        assert time.monotonic() < deadline, f"{len(to(fake, user, methods))} messages to {user}, expected {count}"
        await asyncio.sleep(0.02)
    return to(fake, user, methods)


async def say(fake: FakeSlack, url: str, team: str, user: str, text: str) -> dict:
    before = len(to(fake, user))
    await event_in(url, team, {"type": "message", "channel": f"D{user}", "channel_type": "im", "user": user,
                               "text": text, "ts": f"{time.time():.6f}"})
    return (await settle(fake, user, before + 1))[-1]


def invite_code(reply: dict) -> str:
    return reply["blocks"][0]["text"]["text"].split("`")[1]


def shown(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False)


def ids_of(engine: Engine, team_id: int) -> tuple[int, int]:
    """(Acme's id, its open follow-up's id) in that team."""
    with session_scope(engine) as session:
        acme = session.exec(select(Customer).where(Customer.team_id == team_id, Customer.name == "Acme")).one()
        follow_up = session.exec(select(FollowUp).where(FollowUp.customer_id == acme.id)).one()
        return acme.id or 0, follow_up.id or 0


def team_of(engine: Engine, workspace: str) -> int:
    with session_scope(engine) as session:
        return session.exec(select(Team.id).where(Team.workspace_id == workspace)).one() or 0


async def two_workspaces(fake: FakeSlack, url: str) -> None:
    fake.users.update({AMY: "Amy Lin", BOB: "Bob Wu", QUENTIN: "Quentin Zhao", XENIA: "Xenia Qiu"})
    assert "created" in (await say(fake, url, "T1", AMY, "start"))["text"]
    assert "created" in (await say(fake, url, "T2", QUENTIN, "start"))["text"]  # T2's first user: its own team
    code = invite_code(await say(fake, url, "T1", AMY, "invite"))
    assert "joined" in (await say(fake, url, "T1", BOB, f"start {code}"))["text"]
    refused = await say(fake, url, "T2", XENIA, f"start {invite_code(await say(fake, url, 'T1', AMY, 'invite'))}")
    assert "joined" not in refused["text"] and "Amy" not in shown(refused)
    await say(fake, url, "T1", AMY, "Visited Acme, Mr. Lee wants a quote for 314 units, follow up Friday")
    await say(fake, url, "T1", AMY, "Acme: Mr. Lee confirmed the meeting")
    await say(fake, url, "T2", QUENTIN, "Visited Acme, Ms. Zorro wants 919 samples, follow up Monday")


async def test_each_workspace_sees_only_its_own_acme(fake, running):
    app, url = running
    await two_workspaces(fake, url)
    for team, user, own, other in (("T1", AMY, T1_WORDS, T2_WORDS), ("T2", QUENTIN, T2_WORDS, T1_WORDS)):
        found = await say(fake, url, team, user, "find Acme")
        card = await say(fake, url, team, user, "c Acme")
        before = len(to(fake, user))
        await slash_in(url, team, user, "customers", channel=f"D{user}")
        listed = (await settle(fake, user, before + 1))[-1]
        await event_in(url, team, {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"})
        home = [c.body for c in await fake.wait_for("views.publish", 2 if team == "T2" else 1)
                if c.body["user_id"] == user][-1]
        for what, body in (("find", found), ("card", card), ("customers", listed), ("home", home)):
            text = shown(body)
            assert "Acme" in text, (team, what, text)
            assert not [word for word in other if word in text], (team, what, text)
        assert all(word in shown(card) for word in own), shown(card)
    # Bob, in T1, sees his team's Acme (a colleague's customer) and nothing of T2's
    bob = await say(fake, url, "T1", BOB, "c Acme")
    assert not [word for word in T2_WORDS if word in shown(bob)]
    with session_scope(app.engine) as session:
        acmes = session.exec(select(Customer).where(Customer.name == "Acme")).all()
    assert sorted(c.team_id for c in acmes) == sorted([team_of(app.engine, "T1"), team_of(app.engine, "T2")])


async def test_buttons_forged_with_the_other_workspaces_ids_are_refused_and_change_nothing(fake, running):
    app, url = running
    await two_workspaces(fake, url)
    t1, t2 = team_of(app.engine, "T1"), team_of(app.engine, "T2")
    acme2, follow_up2 = ids_of(app.engine, t2)
    before = {t1: team_rows(app.engine, t1), t2: team_rows(app.engine, t2)}
    with session_scope(app.engine) as session:
        audits = len(session.exec(select(AuditEvent)).all())
    _, follow_up1 = ids_of(app.engine, t1)
    with session_scope(app.engine) as session:
        stamp = card_stamp(session.exec(select(FollowUp.due_at).where(FollowUp.id == follow_up2)).one())  # the real stamp of T2's nudge card
        quentin = session.exec(select(Member.id).where(Member.team_id == t2, Member.name == "Quentin Zhao")).one()
    forged = [f"c:open:{acme2}", f"fu:done:{follow_up2}", f"fu:snz:{follow_up2}:1h:{stamp}",
              f"fu:rs:{follow_up2}:{stamp}", f"fu:card:{follow_up2}", f"tm:ask:{quentin}:rm",
              f"tm:ok:{quentin}:o:x", f"ho:go:{quentin}:{quentin}:a"]
    refused = "I can't find that (it may be gone, or not yours). Send todo or c to look again."
    not_ours = "That person isn't on your team; nothing changed."
    for value, method, text in zip(forged, ["chat.postMessage"] * 6 + ["chat.update", "chat.postMessage"],
                                   [refused] * 5 + [not_ours, not_ours, refused], strict=True):
        calls = len(fake.calls)
        await press_in(url, "T1", AMY, value)
        await settle(fake, AMY, len(to(fake, AMY)) + 1)
        section = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
        edited = {"ts": "1700000000.000100"} if method == "chat.update" else {}
        assert [(c.method, c.body) for c in fake.calls[calls:]] == [
            (method, {"channel": f"D{AMY}", **edited, "text": text, "blocks": section})], value
    # the same forged Done pressed on App Home: refused in the DM, Home published again as it was
    calls = len(fake.calls)
    await press_in_home(url, "T1", AMY, f"fu:done:{follow_up2}")
    await fake.wait_for("views.publish", len(fake.sent("views.publish")) + 1)
    sent = [(c.method, c.body) for c in fake.calls[calls:] if c.method not in ("conversations.open", "users.info")]
    assert sent[0] == ("chat.postMessage", {"channel": f"D{AMY}", "text": refused, "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": refused}}]})
    assert [method for method, _ in sent] == ["chat.postMessage", "views.publish"]
    assert sent[1][1]["user_id"] == AMY and not [w for w in T2_WORDS if w in shown(sent[1][1])]
    assert all(c.status == 200 for c in fake.calls)
    after = {t1: team_rows(app.engine, t1), t2: team_rows(app.engine, t2)}
    assert after[t2] == before[t2]  # not one row of the other team changed ...
    for table in DELIVERY_BOOKKEEPING:  # the refusals themselves, on their way to Slack
        after[t1].pop(table, None), before[t1].pop(table, None)
    assert after[t1] == before[t1]  # ... nor of the presser's
    with session_scope(app.engine) as session:
        assert len(session.exec(select(AuditEvent)).all()) == audits
        statuses = session.exec(select(FollowUp.status).where(col(FollowUp.id).in_([follow_up1, follow_up2]))).all()
        assert statuses == ["pending", "pending"]
