"""/handover in chat: a manager removes a leaving salesperson and hands every customer, follow-up and deal to a
colleague in a few button presses; the next due nudge reaches the colleague exactly once. Also: the args form,
natural-language phrases (strict), chosen customers, refusals and forged payloads, /cover."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.notifier import create_scheduler
from core.chat import ButtonIn, Reply
from core.models import AuditEvent, Customer, Deal, FollowUp, Interaction, Member
from core.uow import unit_of_work
from core.usecases.deals import create_deal
from tests.conversation import Chat, joined


@pytest.fixture
async def wang(app, owner) -> Chat:
    return await joined(owner, "sales2", "王大明", "zh-TW")


@pytest.fixture
async def manager(app, owner) -> Chat:
    return await joined(owner, "manager1", "林经理", "zh-CN", "manager")


def member(app, name: str) -> Member:
    with unit_of_work(app.engine) as uow:
        found = uow.session.exec(select(Member).where(Member.name == name)).one()
        uow.session.expunge(found)
        return found


def sent_to(app, chat: Chat) -> list[Reply]:
    return [reply for to, reply in app.messengers["test"].sent if to.chat_id == f"dm-{chat.user_id}"]


def labels(reply: Reply) -> list[str]:
    return [b.label for row in reply.buttons for b in row]


async def press_payload(chat: Chat, payload: str) -> list[Reply]:
    return await chat.send(ButtonIn(chat.envelope(message_id="77"), payload, callback_id=f"cb-{payload}-{id(chat)}"))


def scheduler_for(app, settings):
    return create_scheduler(app.engine, settings, app.messengers, app.clock, pacer=None)


async def seed(app, sales: Chat) -> None:
    """陳小姐's two customers with follow-ups (Thu 19 Nov 15:00 and Fri 20 Nov 10:00 Taipei) and an open deal."""
    await sales.say("拜訪大同五金行，王總要報價，明天下午3點再聯絡")
    await sales.say("宏達電林經理來電，後天上午10點回電")
    with unit_of_work(app.engine) as uow:
        chen = uow.session.exec(select(Member).where(Member.name == "陳小姐")).one()
        datong = uow.session.exec(select(Customer).where(Customer.name == "大同五金行")).one()
        from core.services.actor import Actor
        create_deal(uow, Actor.of(chen), app.clock.now(), datong.id, "五金報價", amount=150000, currency="TWD")


async def test_done_when_remove_then_hand_everything_over_and_the_next_nudge_reaches_the_colleague_once(
        app, clock, settings, owner, sales, wang, manager):
    await seed(app, sales)
    # the manager removes the leaving salesperson (/team, two steps)
    await manager.say("/team")
    await manager.press("🗑 陳小姐")
    await manager.press("是，移除 陳小姐", manager.last[-1])
    assert not member(app, "陳小姐").active
    # … and hands everything over in four presses
    replies = await manager.say("/handover")
    assert labels(replies[-1])[0].startswith("🚪 陳小姐")  # removed members waiting for a handover come first
    await manager.press("陳小姐")
    assert "王大明" in " ".join(labels(manager.last[-1])) and "陈小姐" not in " ".join(labels(manager.last[-1]))
    await manager.press("王大明")
    await manager.press("全部 2 个客户")
    confirm = manager.last[-1]
    assert "2 个客户" in confirm.text and "2 项待跟进" in confirm.text and "1 个进行中商机" in confirm.text
    assert with_owner(app, "陳小姐") == 2  # nothing moved before the confirmation
    done = await manager.press("确定交给 王大明", confirm)
    assert "已从 陳小姐 交接给 王大明" in done[0].text and done[0].edit

    chen, wang_id = member(app, "陳小姐").id, member(app, "王大明").id
    with unit_of_work(app.engine) as uow:
        customers = uow.session.exec(select(Customer)).all()
        follow_ups = uow.session.exec(select(FollowUp).order_by(FollowUp.due_at)).all()
        deals = uow.session.exec(select(Deal)).all()
        events = uow.session.exec(select(AuditEvent).where(AuditEvent.action == "handover")).all()
    assert {c.owner_id for c in customers} == {wang_id}
    assert [f.member_id for f in follow_ups] == [wang_id, wang_id]
    assert [f.due_at for f in follow_ups] == [datetime(2026, 11, 19, 7, 0, tzinfo=UTC),
                                              datetime(2026, 11, 20, 2, 0, tzinfo=UTC)]  # same due times
    assert [d.owner_id for d in deals] == [wang_id]
    assert len(events) == 2 and all(e.before["owner_id"] == chen and e.after["owner_id"] == wang_id
                                    and e.actor_id == member(app, "林经理").id for e in events)

    # the receiver's summary: customers, next follow-ups in local time, the deal with stage and amount
    await app.handover_messages.drain()
    summary = sent_to(app, wang)[-1].text
    assert "林经理 把 陳小姐 的客戶交接給你" in summary
    assert "大同五金行" in summary and "宏達電" in summary
    assert "明天 15:00" in summary and "五金報價" in summary and "150,000" in summary
    await app.member_messages.drain()
    assert not sent_to(app, sales)  # a removed member is told nothing

    # the history goes with the customer: 王大明 sees the card and the notes
    card = await wang.say("/c 大同五金行")
    assert "王總要報價" in card[0].text

    # pressed again: nothing moves
    again = await manager.press("确定交给 王大明", confirm, message_id="100")
    assert "已经交接过了" in again[0].text
    assert len(audit(app, "handover")) == 2

    # the next due nudge reaches the colleague exactly once
    scheduler = scheduler_for(app, settings)
    clock.current = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)
    before = len(app.messengers["test"].sent)
    assert await scheduler.dispatch() == 1
    assert await scheduler.dispatch() == 0
    nudges = app.messengers["test"].sent[before:]
    assert [to.chat_id for to, _ in nudges] == ["dm-sales2"]
    assert "大同五金行" in nudges[0][1].text
    done_nudge = await wang.press("完成", nudges[0][1])
    assert "完成" in done_nudge[0].text


def with_owner(app, name: str) -> int:
    owner_id = member(app, name).id
    with unit_of_work(app.engine) as uow:
        return len(uow.session.exec(select(Customer).where(Customer.owner_id == owner_id)).all())


def audit(app, action: str) -> list[AuditEvent]:
    with unit_of_work(app.engine) as uow:
        return list(uow.session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


async def test_args_form_and_the_old_owner_is_told(app, owner, sales, wang):
    await seed(app, sales)
    await owner.say("/handover 陳小姐 to 王大明")
    assert "All 2 customers" in labels(owner.last[-1])
    await owner.press("All 2 customers")
    await owner.press("Yes, hand over to 王大明")
    assert "Handed over from 陳小姐 to 王大明: 2 customers, 2 open follow-ups, 1 open deal." in owner.text
    await app.member_messages.drain()
    told = sent_to(app, sales)[-1].text
    assert "Amy Lin 已把你的客戶交接給 王大明" in told and "大同五金行" in told
    # the same again from the args form: nothing left
    await owner.say("/交接 陳小姐 王大明")
    assert "Already handed over" in owner.text


async def test_natural_language_hands_one_customer_over_and_a_note_stays_a_note(app, owner, sales, wang):
    await seed(app, sales)
    notes = count_notes(app)
    replies = await owner.say("把大同五金行轉給王大明負責")
    assert "Hand 大同五金行 (now 陳小姐's) over to 王大明?" in replies[0].text
    assert count_notes(app) == notes
    await owner.press("Yes, hand over")
    assert "1 customer, 1 open follow-up, 1 open deal" in owner.text
    assert with_owner(app, "王大明") == 1 and with_owner(app, "陳小姐") == 1
    await owner.say("hand 宏達電 over to 王大明")
    assert "Hand 宏達電" in owner.text
    await owner.say("transfer 大同五金行 to 王大明")
    assert "大同五金行 is 王大明's customer already." in owner.text
    for note in ("客戶說要轉給他們的會計", "把報價轉給王經理", "把大同五金行轉給他們的會計負責"):
        replies = await owner.say(note)
        assert "Hand " not in replies[0].text and "ho:" not in str(replies[0].buttons), note
    assert count_notes(app) > notes  # logged as notes (the parser's own answers), nothing handed over
    assert with_owner(app, "王大明") == 1


def count_notes(app) -> int:
    with unit_of_work(app.engine) as uow:
        return len(uow.session.exec(select(Interaction)).all())


async def test_choose_some_customers_with_toggles(app, owner, sales, wang):
    await seed(app, sales)
    await owner.say("/handover")
    await owner.press("陳小姐")
    await owner.press("王大明")
    await owner.press("Choose customers")
    page = owner.last[-1]
    assert labels(page)[:2] == ["⬜ 大同五金行", "⬜ 宏達電"]
    await owner.press("Continue", page)
    assert "at least one" in owner.text
    await owner.press("⬜ 宏達電", page)
    assert labels(owner.last[-1])[:2] == ["⬜ 大同五金行", "✅ 宏達電"]
    await owner.press("Continue with 1 customer")
    assert "宏達電" in owner.text and "大同五金行" not in owner.text.split("?")[1]
    await owner.press("Yes, hand over")
    assert with_owner(app, "王大明") == 1
    with unit_of_work(app.engine) as uow:
        moved = uow.session.exec(select(Customer).where(Customer.owner_id == member(app, "王大明").id)).one()
    assert moved.name == "宏達電"


async def test_salespeople_are_refused_and_forged_payloads_change_nothing(app, owner, sales, wang):
    await seed(app, sales)
    chen, wang_id = member(app, "陳小姐").id, member(app, "王大明").id
    assert "只有擁有者和主管" in (await wang.say("/handover 陳小姐 王大明"))[0].text
    assert "只有擁有者和主管" in (await wang.say("把大同五金行轉給王大明負責"))[0].text
    assert "只有擁有者和主管" in (await press_payload(wang, f"ho:go:{chen}:{wang_id}:a"))[0].text
    await press_payload(owner, f"ho:go:{chen}:999999:a")  # no such member (another team's id, a made-up one)
    assert "can't find" in owner.text
    await press_payload(owner, f"ho:go:{chen}:x:a")
    await press_payload(owner, "ho:go:1:2:3:4:5")
    assert with_owner(app, "陳小姐") == 2
    # a receiver removed since the confirmation was drawn
    with unit_of_work(app.engine) as uow:
        row = uow.session.get(Member, wang_id)
        row.active = False
        uow.session.add(row)
    await press_payload(owner, f"ho:go:{chen}:{wang_id}:a")
    assert "no longer a member" in owner.text
    assert with_owner(app, "陳小姐") == 2


async def test_cover_sends_nudges_to_the_cover_until_the_date_then_back(app, clock, settings, owner, sales, wang):
    await seed(app, sales)
    replies = await owner.say("/cover 陳小姐 王大明 until 2026-11-19")
    assert "Until the end of 2026-11-19, 陳小姐's nudges go to 王大明" in replies[0].text
    await app.member_messages.drain()
    assert "王大明" in sent_to(app, sales)[-1].text and "陳小姐" in sent_to(app, wang)[-1].text
    scheduler = scheduler_for(app, settings)
    clock.current = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)  # Thu 15:00 Taipei: during the cover
    before = len(app.messengers["test"].sent)
    assert await scheduler.dispatch() == 1
    to, nudge = app.messengers["test"].sent[before]
    assert to.chat_id == "dm-sales2" and "大同五金行" in nudge.text
    pressed = await wang.press("完成", nudge)  # the cover may act on it
    assert "完成" in pressed[0].text
    # after the date: back to 陳小姐, and both are told once the periodic job ends it
    clock.current = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # Fri 10:00 Taipei
    from core.usecases.handover import end_due_covers
    with unit_of_work(app.engine) as uow:
        assert end_due_covers(uow, clock.now()) == 1
        events = list(uow.events)
    app.deliver(events)
    await app.member_messages.drain()
    assert "已結束" in sent_to(app, sales)[-1].text
    before = len(app.messengers["test"].sent)
    assert await scheduler.dispatch() == 1
    assert app.messengers["test"].sent[before][0].chat_id == "dm-sales1"


async def test_cover_off_and_refusals(app, owner, sales, wang):
    assert "Nobody is covering 陳小姐" in (await owner.say("/cover off 陳小姐"))[0].text
    await sales.say("/代理 陳小姐 王大明 到 2026-12-20")  # a salesperson arranges their own cover
    assert "2026-12-20" in sales.text and "王大明" in sales.text
    assert "只有擁有者和主管" in (await wang.say("/cover 陳小姐 Amy Lin until 2026-12-21"))[0].text
    assert "passed" in (await owner.say("/cover 陳小姐 王大明 until 2026-11-01"))[0].text
    assert "王大明 covers 陳小姐 until the end of 2026-12-20" in (await owner.say("/cover 陳小姐"))[0].text
    assert "has ended" in (await owner.say("/cover off 陳小姐"))[0].text
    assert len(audit(app, "cover")) == 1 and len(audit(app, "cover_end")) == 1
