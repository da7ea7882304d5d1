""""刪除「電子」這個客戶", "删除电子这个客户", "delete customer Acme" open the delete confirmation instead of being
logged as notes; a note that only mentions deleting stays a note."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from core.models import Customer, Interaction
from core.uow import unit_of_work
from tests.conversation import Chat, joined


@pytest.fixture
async def manager(app, owner) -> Chat:
    return await joined(owner, "manager1", "林经理", "zh-CN", "manager")


def notes(app) -> int:
    with unit_of_work(app.engine) as uow:
        return int(uow.session.exec(select(func.count()).select_from(Interaction)).one())


def customer_names(app) -> set[str]:
    with unit_of_work(app.engine) as uow:
        return {c.name for c in uow.session.exec(select(Customer))}


async def test_delete_phrases_in_three_languages_ask_to_confirm_and_are_not_notes(app, owner, manager):
    for name in ("電子", "Acme"):
        await owner.say(f"/new {name}")
    before = notes(app)
    await owner.say("刪除「電子」這個客戶")
    assert "Delete <b>電子</b>?" in owner.text
    await owner.press("Delete")
    assert "Deleted 電子" in owner.text and customer_names(app) == {"Acme"}

    await manager.say("/new 电子")
    await manager.say("删除电子这个客户")
    assert "电子" in manager.text and any(b.payload.startswith("ca:dy:") for row in manager.last[-1].buttons
                                         for b in row)
    await manager.press("取消")
    assert "电子" in customer_names(app)

    await owner.say("delete customer Acme")
    assert "Delete <b>Acme</b>?" in owner.text
    assert notes(app) == before  # none of them was logged


def delete_prompt(chat: Chat) -> bool:
    return any(b.payload.startswith("ca:dy:") for reply in chat.last for row in reply.buttons for b in row)


async def test_a_note_about_deleting_stays_a_note_and_a_salesperson_may_not_delete(app, owner, sales):
    await owner.say("/new 電子")
    before = notes(app)
    await sales.say("客戶說要刪除舊訂單")  # goes to the note flow (too vague to store: it asks what to log)
    assert not delete_prompt(sales) and "刪除" not in sales.text
    await sales.say("大同五金行王總說要刪除舊訂單，明天回電")
    assert notes(app) == before + 1 and "大同五金行" in sales.text and not delete_prompt(sales)
    await sales.say("刪除「電子」這個客戶")
    assert "只有擁有者和主管" in sales.text or "Only owners" in sales.text, sales.text
    assert "電子" in customer_names(app) and notes(app) == before + 1
    await owner.say("删除不存在这个客户")  # an unquoted name of no customer: the note flow after all
    assert not delete_prompt(owner) and "I don't know a customer" not in owner.text
    await owner.say("刪除「不存在」這個客戶")  # quoted: surely a request, answered as unknown
    assert "I don't know a customer called “不存在”" in owner.text and not delete_prompt(owner)
