"""/team on a big team pages with buttons: each page complete (within Telegram's and Slack's limits), every row once
and in order across pages, Next and Previous agree; a page drawn before members left (its last row among them)
still turns to exactly the rows after it, and its buttons for a member who left say so and change nothing."""

from __future__ import annotations

import itertools
import re

from sqlmodel import select

from bot.handlers.team import PAGE
from core.chat import ButtonIn, Reply
from core.db import session_scope
from core.models import Member, Team
from core.services import customers
from core.services.actor import Actor
from tests.conversation import Chat

_presses = itertools.count(1)
ROW = re.compile(r"^<b>(.+?)</b>")
SALES = 44
WAITING = 3  # removed, their customers waiting for a handover


def seed(app) -> list[str]:
    """Amy's team: 2 managers, 44 salespeople (Latin and Chinese names), 3 removed members still holding a
    customer each, 2 removed with nothing. Returns every name in the roster's order (owner first)."""
    with session_scope(app.engine) as session:
        team = session.exec(select(Team)).one()
        members = [Member(team_id=team.id or 0, name=f"Manager {n}", role="manager") for n in (1, 2)]
        members += [Member(team_id=team.id or 0, name=name, role="sales")
                    for name in [f"Sales {n:02d}" for n in range(1, 23)] + [f"業務{n:02d}" for n in range(1, 23)]]
        gone = [Member(team_id=team.id or 0, name=f"Former {n}", role="sales", active=False) for n in range(1, 6)]
        session.add_all(members + gone)
        session.flush()
        for member in gone[:WAITING]:
            member.active = True  # a customer of theirs, created while they were a member
            customers.create_customer(session, Actor.of(member), f"Customer of {member.name}")
            member.active = False
            session.add(member)
    active = ["Manager 1", "Manager 2", *sorted([m.name for m in members if m.role == "sales"], key=str.casefold)]
    return ["Amy Lin", *active, *[f"Former {n}" for n in range(1, WAITING + 1)]]


def names(reply: Reply) -> list[str]:
    return [m.group(1) for line in reply.text.split("\n") if (m := ROW.match(line))]


def payload(reply: Reply, prefix: str) -> str | None:
    return next((b.payload for row in reply.buttons for b in row if b.payload.startswith(prefix)), None)


async def press(chat: Chat, value: str) -> Reply:
    [reply] = await chat.send(ButtonIn(chat.envelope(message_id="50"), value, callback_id=f"cb{next(_presses)}"))
    return reply


def within_limits(reply: Reply) -> None:
    buttons = sum(len(row) for row in reply.buttons)
    assert buttons <= 100 and len(reply.text) <= 4096, (buttons, len(reply.text))  # Telegram
    sections = -(-len(reply.text) // 2900)
    assert sections + len(reply.buttons) <= 50 and all(len(row) <= 25 for row in reply.buttons)  # Slack blocks
    assert all(len(b.payload.encode()) <= 64 for row in reply.buttons for b in row)  # Telegram callback data


async def walk(chat: Chat, page: Reply, verb: str = "tm:nx:") -> list[Reply]:
    pages = [page]
    while (turn := payload(pages[-1], verb)) is not None:
        turned = await press(chat, turn)
        assert turned.edit  # drawn over the page pressed
        pages.append(turned)
        assert len(pages) < 20
    return pages


async def test_a_big_team_pages_with_every_row_once_and_in_order(app, owner):
    expected = seed(app)
    [first] = await owner.say("/team")
    pages = await walk(owner, first)
    assert len(pages) == -(-len(expected) // PAGE) == 3
    for number, page in enumerate(pages, start=1):
        within_limits(page)
        assert f"Page {number} of 3" in page.text
        assert len(names(page)) == (PAGE if number < 3 else len(expected) - 2 * PAGE)
    assert [name for page in pages for name in names(page)] == expected  # each row once, in order
    assert "waiting for a handover" in pages[-1].text and "waiting" not in pages[0].text
    assert all("Former 4" not in page.text for page in pages)  # removed with nothing: not listed
    # each member on a page has their buttons on that page, and only there
    for page in pages:
        shown = set(names(page))
        for row in page.buttons:
            for button in row:
                if button.payload.startswith("tm:ask:"):
                    assert button.label.split(" ", 1)[1] in shown
    # Previous from the last page gives the same pages back
    back = await walk(owner, pages[-1], "tm:pv:")
    assert [names(page) for page in reversed(back)] == [names(page) for page in pages]


async def test_a_small_team_has_no_paging(app, owner, sales):
    [roster] = await owner.say("/team")
    assert "Page" not in roster.text and payload(roster, "tm:nx:") is None and payload(roster, "tm:pv:") is None


async def test_a_stale_page_still_turns_after_members_left(app, owner):
    expected = seed(app)
    [first] = await owner.say("/team")
    second = await press(owner, payload(first, "tm:nx:") or "")
    on_first, on_second = names(first), names(second)
    anchor = on_first[-1]  # the last row of page 1 leaves: Next on page 1 is drawn from them
    leaving = [anchor, on_first[5], on_second[3]]
    for name in leaving:
        with session_scope(app.engine) as session:
            member_id = session.exec(select(Member.id).where(Member.name == name)).one()
        confirm = await press(owner, f"tm:ask:{member_id}:rm")
        done = await press(owner, payload(confirm, "tm:ok:") or "")
        assert "was removed" in done.text
    # the page drawn before they left turns to exactly the rows after its last one
    pages = await walk(owner, await press(owner, payload(first, "tm:nx:") or ""))
    remaining = [name for name in expected if name not in leaving]
    after_anchor = remaining[remaining.index(on_first[-2]) + 1:]
    assert [name for page in pages for name in names(page)] == after_anchor
    for page in pages:
        within_limits(page)
    # Previous from a stale page 2: fewer rows than a page precede its first one now, so the first page, full
    back = await press(owner, payload(second, "tm:pv:") or "")
    assert names(back) == remaining[:PAGE] and "Page 1 of 3" in back.text
    # the stale page's button for someone who left changes nothing and says so
    with session_scope(app.engine) as session:
        gone_id = session.exec(select(Member.id).where(Member.name == on_second[3])).one()
    stale = await press(owner, f"tm:ask:{gone_id}:rm")
    assert stale.text == f"{on_second[3]} is no longer on the team; nothing changed."
    with session_scope(app.engine) as session:
        assert not session.exec(select(Member.active).where(Member.name == on_second[3])).one()
