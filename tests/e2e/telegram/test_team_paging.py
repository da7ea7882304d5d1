"""/team on a team of 50 through the real python-telegram-bot against the fake Bot API: three pages, each within
Telegram's limits (100 buttons, 4,096 characters, 64-byte callback data), turned in place with Next and
Previous, every member once and in order."""

from __future__ import annotations

import json

from tests.e2e.telegram.test_team_customers import AMY, press, say
from tests.integration.bot.test_team_paging import ROW, seed


def keyboard(body: dict) -> list[list[dict]]:
    markup = body.get("reply_markup") or {"inline_keyboard": []}
    return (json.loads(markup) if isinstance(markup, str) else markup)["inline_keyboard"]


def turn(body: dict, label: str) -> str | None:
    return next((b["callback_data"] for row in keyboard(body) for b in row if label in b["text"]), None)


def rows(body: dict) -> list[str]:
    return [m.group(1) for line in body["text"].split("\n") if (m := ROW.match(line))]


async def test_team_pages_within_telegrams_limits(fake, running):
    app, _ = running
    await say(fake, AMY, "/start")
    expected = seed(app)
    pages = [await say(fake, AMY, "/team")]
    while (data := turn(pages[-1], "Next")) is not None:
        pages.append(await press(fake, AMY, data, "editMessageText"))
        assert len(pages) < 10
    assert [name for page in pages for name in rows(page)] == expected
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of 3" in page["text"] and len(page["text"]) <= 4096
        assert sum(len(row) for row in keyboard(page)) <= 100
        assert all(len(b["callback_data"].encode()) <= 64 for row in keyboard(page) for b in row)
    back = await press(fake, AMY, turn(pages[-1], "Previous") or "", "editMessageText")
    assert rows(back) == rows(pages[-2])
    assert all(call.status == 200 for call in fake.calls if call.method in ("sendMessage", "editMessageText"))
