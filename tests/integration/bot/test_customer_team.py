"""Two salespeople and a manager share one truth about each customer, in chat: a colleague's customer is found
and access asked and granted, nothing is doubled, and rename / merge / delete / change customer leave no junk."""

from __future__ import annotations

import asyncio

import pytest

from core.chat import Reply
from tests.conversation import Chat, joined


@pytest.fixture
def access(app):
    """Wait for the access messages the composition root sends on its own (`ChatCRM.access_requests`)."""
    async def flush() -> None:
        while app.access_requests._tasks:
            await asyncio.gather(*list(app.access_requests._tasks))
    return flush


@pytest.fixture
async def manager(app, owner) -> Chat:
    return await joined(owner, "manager1", "林經理", "zh-TW", "manager")


def sent_to(app, chat: Chat) -> list[Reply]:
    messenger = app.messengers["test"]
    return [reply for to, reply in messenger.sent if to.chat_id == f"dm-{chat.user_id}"]


def payloads(reply: Reply) -> list[str]:
    return [button.payload for row in reply.buttons for button in row]


async def test_a_colleagues_customer_is_found_and_access_is_asked_and_granted(app, owner, sales, bob, manager,
                                                                               access):
    await sales.say("拜訪大同五金行，王總要報價 200 台，下週三回覆")
    assert "大同五金行" in sales.text
    await bob.say("大同五金行 王總 called about the delivery date, follow up Friday")
    assert "陳小姐" in bob.text and "🔒" in bob.text
    card = bob.last[-1]
    assert any(p.startswith("n:ed:") for p in payloads(card))  # the edit button
    await bob.say("/c 大同五金行")
    assert "🔒" in bob.text and "陳小姐" in bob.text and "🏢" not in bob.text  # not his to read yet

    await bob.press("Ask for access", card)
    assert "陳小姐" in bob.text and "大同五金行" in bob.text
    await access()
    asked = sent_to(app, sales)
    assert len(asked) == 1 and "Bob Wu" in asked[0].text and "大同五金行" in asked[0].text
    assert len(sent_to(app, owner)) == 1 and len(sent_to(app, manager)) == 1  # the owner and a manager may answer
    await bob.press("Ask for access", card)  # asking twice sends nothing new
    await access()
    assert len(sent_to(app, sales)) == 1

    approve = next(p for p in payloads(asked[0]) if p.startswith("ac:ok:"))
    await bob.press(approve, asked[0])  # not his to decide
    assert "大同五金行" in bob.text and "manager" in bob.text
    await sales.press(approve, asked[0])
    assert "Bob Wu" in sales.text
    await access()
    told = sent_to(app, bob)
    assert len(told) == 1 and "陳小姐" in told[0].text and "大同五金行" in told[0].text
    await manager.press(next(p for p in payloads(sent_to(app, manager)[0]) if p.startswith("ac:no:")),
                        sent_to(app, manager)[0])
    assert "Bob Wu" in manager.text  # answered already: granted stays
    await bob.say("/c 大同五金行")
    assert "🏢 <b>大同五金行</b>" in bob.text and "陳小姐" in bob.text and "2 interactions" in bob.text

    await owner.say("/customers")
    assert [b.label for row in owner.last[-1].buttons for b in row].count("大同五金行") == 1


async def test_the_manager_merges_renames_and_deletes_from_the_card(app, owner, sales, bob, manager):
    await sales.say("拜訪大同五金行，王總要報價 200 台")
    await bob.say("Visited DaTong Hardware, Mr. Lee wants samples")
    await manager.say("/c DaTong Hardware")
    assert "Bob Wu" in manager.text
    await manager.press("⋯")
    await manager.press("🔗")
    await manager.press("大同五金行")
    confirm = manager.last[-1]
    assert "DaTong Hardware" in confirm.text and "大同五金行" in confirm.text
    await manager.press("🔗", confirm)
    assert "DaTong Hardware" in manager.text and "大同五金行" in manager.text
    await manager.press("🔗", confirm)  # a second press finds it done
    assert "已經合併" in manager.text
    await manager.say("/c 大同五金行")
    assert "Mr. Lee" in manager.text and "DaTong Hardware" in manager.text  # contact and name moved

    await manager.press("⋯")
    await manager.press("✏️")
    await manager.say("大同五金行股份有限公司")
    assert "大同五金行股份有限公司" in manager.text
    await sales.say("大同五金行 王總下單了")
    assert "大同五金行股份有限公司" in sales.text  # the old name still finds it

    await bob.say("拜訪新客戶永豐電子，張經理說下個月下單")
    await bob.say("/c 永豐電子")
    await bob.press("⋯")
    await bob.press("🗑")
    assert "Only owners and managers" in bob.text
    await manager.say("/c 永豐電子")
    await manager.press("⋯")
    await manager.press("🗑")
    confirm = manager.last[-1]
    await manager.press("🗑", confirm)
    assert "已刪除" in manager.text
    await manager.press("🗑", confirm)
    assert "不存在" in manager.text
    await manager.say("/c 永豐電子")
    assert "永豐電子" in manager.text and "🏢" not in manager.text


async def test_change_customer_and_undo_leave_nothing_behind(app, owner, sales):
    await owner.say("Visited Acme, Mr. Lee wants a quote")
    await owner.say("Visited Initech, Ms. Wang from purchasing wants samples, follow up Friday")
    card = owner.last[-1]
    assert "Initech" in card.text
    await owner.press("Change customer", card)
    await owner.press("Acme")
    assert "Acme" in owner.text
    await owner.say("/c Initech")
    assert "🏢" not in owner.text  # the customer the note made is gone, and Acme did not learn its name
    await owner.say("/c Acme")
    assert "Ms. Wang" in owner.text or "Wang" in owner.text

    await owner.say("Met Globex, Mr. Park wants a demo next Tuesday")
    await owner.press("Undo")
    await owner.say("/c Globex")
    assert "🏢" not in owner.text
    await owner.say("/todo")
    assert "Park" not in owner.text and "demo" not in owner.text
