"""/history in chat on both databases: who did what and when for a customer, as sentences in the reader's language
and zone, newest first, 10 a page with Older/Newer buttons; only for whoever may see the customer (a forged page
button shows nothing); a merged customer's events come along; an unknown event is still shown."""

from __future__ import annotations

from sqlmodel import select

from core.chat import ButtonIn
from core.db import session_scope
from core.models import AuditEvent, Customer
from tests.conversation import Chat


def payloads(chat: Chat) -> list[str]:
    return [b.payload for row in chat.last[-1].buttons for b in row]


def customer_id(app, name: str) -> int:
    with session_scope(app.engine) as session:
        found = session.exec(select(Customer).where(Customer.name == name)).one()
        assert found.id is not None
        return found.id


async def test_history_tells_who_did_what_newest_first(app, owner, clock):
    await owner.say("Visited Acme, Mr. Lee wants a quote for 200 units, follow up Friday")
    clock.advance(minutes=5)
    await owner.say("/deal Acme 200 units US$12,000")
    clock.advance(minutes=5)
    await owner.press("Proposal & quote")
    await owner.say("/history Acme")
    text = owner.text
    assert "History of Acme · page 1/1" in text
    lines = text.splitlines()[1:]
    assert "Amy Lin changed the stage of 200 units: Initial contact → Proposal &amp; quote" in lines[0]
    assert any("Amy Lin logged a visit" in line for line in lines)
    assert any("Amy Lin added the customer Acme" in line for line in lines)
    assert payloads(owner) == []


async def test_pages_buttons_rights_merges_and_unknown_events(app, owner, sales):
    for n in range(12):
        await sales.say(f"打電話給大同五金行,確認第{n + 1}批交期")
    first = (await sales.say("/歷史 大同五金行"))[0]
    assert "大同五金行 的歷史 · 第 1/2 頁" in first.text and "陳小姐 記錄了一則電話" in first.text
    assert [b.payload for row in first.buttons for b in row] == [f"hi:p:{customer_id(app, '大同五金行')}:1"]
    older = (await sales.press("較早", first))[0]
    assert older.edit and "第 2/2 頁" in older.text and "陳小姐 新增了客戶 大同五金行" in older.text
    newer = (await sales.press("較新", older))[0]
    assert "第 1/2 頁" in newer.text

    await owner.say("Visited Globex, Ms. Wang wants samples")
    globex = customer_id(app, "Globex")
    forged = await sales.send(ButtonIn(sales.envelope(), f"hi:p:{globex}:0", callback_id="forged"))  # not hers
    assert "Globex" not in forged[0].text and "Ms. Wang" not in forged[0].text
    refused = (await sales.say("/history Globex"))[0].text
    assert "的歷史" not in refused and "Amy Lin" not in refused

    await owner.say("/new Globex Trading")
    await owner.say("/c Globex Trading")
    await owner.press("⋯")
    await owner.press("🔗")
    await owner.press("Globex")
    await owner.press("🔗")
    with session_scope(app.engine) as session:
        team_id = session.exec(select(Customer.team_id).where(Customer.id == globex)).one()
        session.add(AuditEvent(team_id=team_id, actor_id=None, action="frobnicate", entity="widget",
                               customer_id=globex))
    text = (await owner.say("/history Globex"))[0].text
    assert "the bot did “frobnicate” on widget" in text  # an event nobody taught /history to read
    assert "merged" in text and "Amy Lin logged a visit" in text
    assert "Amy Lin added the customer Globex Trading" in text  # the merged customer's own events come along
