"""/team on a team of 50 through the real slack-bolt app against the fake Web API: three pages, each within Slack's
limits (50 blocks a message, 25 elements an actions block, 3,000 characters a section), turned in place with Next
and Previous (chat.update of the pressed message), every member once and in order."""

from __future__ import annotations

import re

from tests.e2e.slack.test_team_customers import OWNER, buttons, press, say
from tests.integration.bot.test_team_paging import seed

ROW = re.compile(r"^\*(.+?)\*")


def rows(body: dict) -> list[str]:
    lines = [line for block in body["blocks"] if block["type"] == "section"
             for line in block["text"]["text"].split("\n")]
    return [m.group(1) for line in lines if (m := ROW.match(line))]


def turn(body: dict, label: str) -> str | None:
    return next((value for text, value in buttons(body) if label in text), None)


async def test_team_pages_within_slacks_limits(fake, running):
    app, url = running
    await say(fake, url, OWNER, "start")
    expected = seed(app)
    pages = [await say(fake, url, OWNER, "team")]
    while (value := turn(pages[-1], "Next")) is not None:
        before = len(fake.sent("chat.update"))
        await press(fake, url, OWNER, value)
        pages.append((await fake.wait_for("chat.update", before + 1))[-1].body)
        assert len(pages) < 10
    assert [name for page in pages for name in rows(page)] == expected
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of 3" in page["text"]
        assert len(page["blocks"]) <= 50
        assert all(len(block["elements"]) <= 25 for block in page["blocks"] if block["type"] == "actions")
        assert all(len(block["text"]["text"]) <= 3000 for block in page["blocks"] if block["type"] == "section")
    before = len(fake.sent("chat.update"))
    await press(fake, url, OWNER, turn(pages[-1], "Previous") or "")
    assert rows((await fake.wait_for("chat.update", before + 1))[-1].body) == rows(pages[-2])
    assert all(call.status == 200 for call in fake.calls)
