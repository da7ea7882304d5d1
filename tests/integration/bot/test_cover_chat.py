"""The temporary cover (issue 16 item 2) in chat: while 陳小姐 is on leave with 王大明 covering until Thursday,
her due nudge reaches him once, its card says he covers for her (in his language); he presses Snooze and Done on
it and opens her customer's card while the cover lasts, and can do none of it once it ended; after the date her
next nudge reaches her again. A covered member whose own chat is unreachable still has her nudges reach the cover;
a cover whose chat is unreachable holds them (never sent to the absent member) until he writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.handover_messages import covering_note
from bot.notifier import create_scheduler
from core.chat import ButtonIn, Reply
from core.db import session_scope
from core.models import FollowUp, Member
from core.uow import unit_of_work
from core.usecases.handover import end_due_covers
from tests.conversation import Chat, joined

THU_15 = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)  # Thursday 15:00 in Taipei, during the cover
FRI_10 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # Friday 10:00 in Taipei, the cover over
COVERING = {"en": "🤝 Covering for 陳小姐", "zh-TW": "🤝 代 陳小姐 跟進", "zh-CN": "🤝 代 陳小姐 跟进"}


def scheduler_for(app, settings):
    scheduler = create_scheduler(app.engine, settings, app.messengers, app.clock, pacer=None)
    assert scheduler.dispatcher.sender.covering is covering_note  # the cover's line on its nudges
    return scheduler


def sent(app) -> list:
    return app.messengers["test"].sent


def nudges_to(app, chat: Chat, since: int = 0) -> list[Reply]:
    return [reply for to, reply in sent(app)[since:] if to.chat_id == f"dm-{chat.user_id}"
            and any(b.payload.startswith("fu:done:") for row in reply.buttons for b in row)]


def payload(reply: Reply, prefix: str) -> str:
    return next(b.payload for row in reply.buttons for b in row if b.payload.startswith(prefix))


async def press(chat: Chat, value: str) -> list[Reply]:
    return await chat.send(ButtonIn(chat.envelope(message_id="88"), value, callback_id=f"cb-{value}-{chat.user_id}"))


def status_of(app, customer_name: str) -> list[str]:
    with session_scope(app.engine) as session:
        rows = session.exec(select(FollowUp).order_by(FollowUp.id)).all()
        from core.models import Customer
        ids = set(session.exec(select(Customer.id).where(Customer.name == customer_name)).all())
        return [row.status for row in rows if row.customer_id in ids]


async def on_leave(app, owner: Chat, sales: Chat, cover: Chat) -> None:
    """陳小姐's follow-ups on Thursday 15:00 (大同五金行) and Friday 10:00 (宏達電); 王大明 covers her until the
    end of Thursday."""
    await sales.say("拜訪大同五金行，王總要報價，明天下午3點再聯絡")
    await sales.say("宏達電林經理來電，後天上午10點回電")
    replies = await owner.say(f"/cover 陳小姐 {cover.name} until 2026-11-19")
    assert "Until the end of 2026-11-19" in replies[0].text
    await app.member_messages.drain()


@pytest.mark.parametrize("language", ["en", "zh-TW", "zh-CN"])
async def test_the_cover_gets_the_nudge_once_and_its_card_says_for_whom(app, clock, settings, owner, sales, language):
    cover = await joined(owner, "cover1", "王大明", language)
    await on_leave(app, owner, sales, cover)
    scheduler = scheduler_for(app, settings)
    clock.current = THU_15
    before = len(sent(app))
    assert await scheduler.dispatch() == 1
    assert await scheduler.dispatch() == 0  # once
    [nudge] = nudges_to(app, cover, before)
    assert not nudges_to(app, sales, before)
    first, rest = nudge.text.split("\n", 1)
    assert first == COVERING[language] and "大同五金行" in rest


async def test_the_cover_acts_on_the_nudge_while_it_lasts_and_not_after(app, clock, settings, owner, sales):
    wang = await joined(owner, "sales2", "王大明", "zh-TW")
    await on_leave(app, owner, sales, wang)
    scheduler = scheduler_for(app, settings)
    clock.current = THU_15
    before = len(sent(app))
    assert await scheduler.dispatch() == 1
    [nudge] = nudges_to(app, wang, before)
    snoozed = await press(wang, payload(nudge, "fu:snz:"))  # Snooze one hour: it comes back to the cover
    assert "16:00" in snoozed[0].text and status_of(app, "大同五金行") == ["snoozed"], snoozed[0].text
    clock.advance(hours=1)
    before = len(sent(app))
    assert await scheduler.dispatch() == 1
    [again] = nudges_to(app, wang, before)
    assert again.text.startswith(COVERING["zh-TW"])
    done = await press(wang, payload(again, "fu:done:"))
    assert "完成" in done[0].text
    assert status_of(app, "大同五金行") == ["done"]
    # Friday: the cover has ended (the periodic job tells both) ...
    clock.current = FRI_10
    with unit_of_work(app.engine) as uow:
        assert end_due_covers(uow, clock.now()) == 1
        events = list(uow.events)
    app.deliver(events)
    await app.member_messages.drain()
    # ... her next nudge reaches her, without the cover's line
    before = len(sent(app))
    assert await scheduler.dispatch() == 1
    [hers] = nudges_to(app, sales, before)
    assert "宏達電" in hers.text and "🤝" not in hers.text and not nudges_to(app, wang, before)
    # and what he was sent during the cover no longer lets him act or look
    refused = await press(wang, payload(hers, "fu:done:"))
    assert "宏達電" not in refused[0].text and status_of(app, "宏達電") == ["sent"]
    closed = await press(wang, payload(nudge, "c:open:"))
    assert "王總" not in closed[0].text, closed[0].text


async def test_the_cover_opens_the_covered_customers_card_while_it_lasts(app, clock, settings, owner, sales):
    wang = await joined(owner, "sales2", "王大明", "zh-TW")
    await on_leave(app, owner, sales, wang)
    scheduler = scheduler_for(app, settings)
    clock.current = THU_15
    before = len(sent(app))
    assert await scheduler.dispatch() == 1
    [nudge] = nudges_to(app, wang, before)
    card = await press(wang, payload(nudge, "c:open:"))  # her customer's card opens for him
    assert "大同五金行" in card[0].text and "王總" in card[0].text, card[0].text


async def test_a_covered_member_whose_chat_is_unreachable_still_has_her_nudges_reach_the_cover(
        app, clock, settings, owner, sales):
    wang = await joined(owner, "sales2", "王大明", "zh-TW")
    await on_leave(app, owner, sales, wang)
    with session_scope(app.engine) as session:  # she blocked the bot before leaving
        chen = session.exec(select(Member).where(Member.name == "陳小姐")).one()
        chen.unreachable_since = clock.now()
        session.add(chen)
    scheduler = scheduler_for(app, settings)
    clock.current = THU_15
    before = len(sent(app))
    assert await scheduler.dispatch() == 1
    assert [reply.text.split("\n")[0] for reply in nudges_to(app, wang, before)] == [COVERING["zh-TW"]]
    assert await scheduler.dispatch() == 0


async def test_a_cover_whose_chat_is_unreachable_holds_the_nudges_until_he_writes(app, clock, settings, owner,
                                                                                   sales):
    wang = await joined(owner, "sales2", "王大明", "zh-TW")
    await on_leave(app, owner, sales, wang)
    with session_scope(app.engine) as session:
        cover = session.exec(select(Member).where(Member.name == "王大明")).one()
        cover.unreachable_since = clock.now()
        session.add(cover)
    scheduler = scheduler_for(app, settings)
    clock.current = THU_15
    before = len(sent(app))
    assert await scheduler.dispatch() == 0  # neither to him nor to her: held, not failed
    assert not nudges_to(app, sales, before) and not nudges_to(app, wang, before)
    with session_scope(app.engine) as session:
        held = session.exec(select(FollowUp).where(FollowUp.status == "pending")).all()
        assert len(held) == 2 and all(row.attempts == 0 and row.last_failure is None for row in held)
    await wang.say("/todo")  # he writes: reachable again
    assert await scheduler.dispatch() == 1
    assert [reply.text.split("\n")[0] for reply in nudges_to(app, wang, before)] == [COVERING["zh-TW"]]
