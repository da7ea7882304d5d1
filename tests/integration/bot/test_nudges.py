"""Nudges rendered by the bot, sent through a Messenger, and answered with Done/Snooze/Reschedule.

Everything goes through the conversation helpers and the scheduler built by the bot, on SQLite and
PostgreSQL, with the fake clock (it starts on Wed 18 Nov 2026, 10:00 in Taipei).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import func, select

from bot.i18n import t
from bot.notifier import create_scheduler
from core.db import session_scope
from core.models import AuditEvent, FollowUp
from core.ports import DeliveryError, DeliveryUncertain, RateLimited, Unreachable
from tests.conversation import RecordingMessenger

UTC_9AM_TAIPEI = 1  # 09:00 in Taipei is 01:00 UTC


def scheduler_for(app, settings):
    return create_scheduler(app.engine, settings, app.messengers, app.clock, pacer=None)


def only_follow_up(engine) -> FollowUp:
    """The first follow-up created in the test."""
    with session_scope(engine) as session:
        row = session.exec(select(FollowUp).order_by(FollowUp.id)).first()
        session.expunge(row)
        return row


def labels(reply) -> list[str]:
    return [b.label for row in reply.buttons for b in row]


async def test_nudge_arrives_once_with_buttons_and_done_twice_does_nothing(app, owner, clock, settings, engine):
    await owner.say("Visited Acme, Mr. Lee wants a quote for 100 units, follow up tomorrow 3pm")
    scheduler = scheduler_for(app, settings)
    messenger = app.messengers["test"]
    assert await scheduler.dispatch() == 0
    clock.current = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)  # Thu 15:00 Taipei
    assert await scheduler.dispatch() == 1
    assert await scheduler.dispatch() == 0
    chat, nudge = messenger.sent[-1]
    assert chat.chat_id == "dm-owner"
    assert "Acme" in nudge.text and "quote" in nudge.text and "Visited Acme" in nudge.text
    assert labels(nudge) == ["✅ Done", "⏰ 1 hour", "🌅 Tomorrow", "📅 Next week", "✏️ Reschedule", "🏢 Open customer"]
    first = await owner.press("Done", nudge)
    second = await owner.press("Done", nudge)
    assert "Done" in first[0].text and first[0].edit
    assert "already closed" in second[0].text
    assert only_follow_up(engine).status == "done"
    card = await owner.press("Open customer", nudge)
    assert "Acme" in card[0].text


async def test_nudge_in_traditional_and_simplified_chinese_with_how_overdue(app, owner, sales, clock, settings, engine):
    replies = await sales.say("拜訪宏達電,王經理要報價,明天晚上7點再聯絡")
    assert "宏達電" in replies[0].text
    row = only_follow_up(engine)
    assert row.due_at == datetime(2026, 11, 19, 11, 0, tzinfo=UTC) and row.explicit_time  # Thu 19:00 Taipei
    scheduler = scheduler_for(app, settings)
    clock.current = datetime(2026, 11, 19, 10, 59, tzinfo=UTC)
    assert await scheduler.dispatch() == 0
    clock.current = datetime(2026, 11, 19, 11, 0, tzinfo=UTC)  # after working hours, but the hour was named
    assert await scheduler.dispatch() == 1
    chat, nudge = app.messengers["test"].sent[-1]
    assert chat.chat_id == "dm-sales1"
    assert "🔔 <b>宏達電</b>" in nudge.text and "聯絡報價" in nudge.text
    assert "⏰ 約定時間:今天 19:00" in nudge.text and "🗒 上次:昨天 10:00 · 拜訪宏達電" in nudge.text
    assert labels(nudge) == ["✅ 完成", "⏰ 1 小時後", "🌅 明天", "📅 下週", "✏️ 改時間", "🏢 開啟客戶"]
    clock.advance(hours=2, minutes=5)
    status = await sales.say("/狀態")
    card = status[1]
    assert "已逾期 2 小時" in card.text and "宏達電" in card.text
    await sales.say("/lang zh-Hans")
    status = await sales.say("/status")
    assert "你的提醒" in status[0].text and "已逾期:1" in status[0].text
    card = status[1]
    assert "⏰ 约定时间:今天 19:00 · 已逾期 2小时" in card.text and "🗒 上次:昨天 10:00" in card.text
    assert labels(card) == ["✅ 完成", "⏰ 1 小时后", "🌅 明天", "📅 下周", "✏️ 改时间", "🏢 打开客户"]
    done = await sales.press("完成", card)
    assert done[0].text.startswith("✅ 已完成")


async def test_snooze_twice_and_typed_reschedule_from_the_nudge(app, owner, clock, settings, engine):
    await owner.say("Called Globex, send price list today")
    scheduler = scheduler_for(app, settings)
    await scheduler.dispatch()
    nudge = app.messengers["test"].sent[-1][1]
    replies = await owner.press("1 hour", nudge)
    assert "remind you again Today 11:00" in replies[0].text and replies[0].edit
    clock.advance(minutes=5)
    again = await owner.press("1 hour", nudge)  # the same card, pressed again
    assert "already moved" in again[0].text and "Today 11:00" in again[0].text
    assert only_follow_up(engine).due_at == datetime(2026, 11, 18, 3, 0, tzinfo=UTC)
    stale = await owner.press("Reschedule", nudge)
    assert "already moved" in stale[0].text
    todo = await owner.say("/todo")
    card = (await owner.press("⋯ 1", todo[0]))[0]
    assert "Globex" in card.text and len(labels(card)) == 6
    question = await owner.press("Reschedule", card)
    assert "send price list" in question[0].text
    unreadable = await owner.say("whenever works")
    assert "couldn't read a future time" in unreadable[0].text
    past = await owner.say("yesterday 3pm")
    assert "already passed" in past[0].text
    moved = await owner.say("next friday 4pm")
    assert "Moved to" in moved[0].text and "16:00" in moved[0].text
    row = only_follow_up(engine)
    assert row.due_at == datetime(2026, 11, 27, 8, 0, tzinfo=UTC) and row.status == "snoozed" and row.explicit_time
    after = await owner.say("next monday")  # the question was answered: this is a note now, not a time
    assert "Moved" not in after[0].text
    assert only_follow_up(engine).due_at == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


async def test_todo_rows_snooze_to_tomorrow_once_and_done_once(app, owner, clock, engine):
    await owner.say("Visited Acme, wants a quote, follow up today 5pm")
    todo = await owner.say("/todo")
    assert labels(todo[0]) == ["✅ 1", "🌅 1", "⋯ 1"]
    first = await owner.press("🌅 1", todo[0])
    assert "Tomorrow 09:00" in first[0].notice
    second = await owner.press("🌅 1", todo[0])
    assert "already moved" in second[0].notice
    assert only_follow_up(engine).due_at == datetime(2026, 11, 19, UTC_9AM_TAIPEI, 0, tzinfo=UTC)
    done = await owner.say("/done 1")
    assert "Done" in done[0].text
    assert "Nothing to follow up" in (await owner.say("/todo"))[0].text
    closed = (await owner.press("✅ 1", todo[0]))[0]
    assert closed.notice == "This follow-up is already closed." and "Nothing to follow up" in closed.text


async def test_status_lists_pending_overdue_and_undeliverable(app, owner, clock, engine):
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    await owner.say("Called Globex, send price list tomorrow 2pm")
    await owner.say("Met Initech, follow up next friday")
    clock.advance(days=2)
    with session_scope(engine) as session:
        acme, globex, _ = session.exec(select(FollowUp).order_by(FollowUp.id)).all()
        acme.last_error = "unreachable: Forbidden: bot was blocked by the user"  # the platform's words, for logs
        acme.last_failure = "unreachable"  # what /status reads (core.delivery.FailureKind)
        globex.status, globex.sent_at = "sent", clock.now()  # sent, but no message id came back
        session.add_all([acme, globex])
    replies = await owner.say("/status")
    text = replies[0].text
    assert "Pending: 2" in text and "Overdue: 2" in text
    assert "Could not be delivered: 1" in text and "by the user" not in text  # the reason, not the platform's words
    assert "this chat blocked me or is gone" in text and "no answer from the platform" not in text
    assert "Sent but maybe not arrived: 1" in text and "Globex" in text
    assert "Next: Fri 27 Nov 09:00 · follow up" in text
    assert "reminders are paused" in text
    assert [r.text.split("\n")[0] for r in replies[1:]] == ["🔔 <b>Acme</b>: quote", "🔔 <b>Globex</b>: send price list"]
    assert replies[1].buttons


async def test_default_time_waits_for_working_hours_and_holidays_explicit_time_does_not(app, owner, clock, settings,
                                                                                      engine):
    assert "Asia/Hong_Kong" in (await owner.say("/tz Asia/Hong_Kong"))[0].text
    hours = await owner.say("/hours 10:00-19:00 mon-fri")
    assert "10:00–19:00, Mon–Fri" in hours[0].text
    clock.current = datetime(2026, 12, 24, 2, 0, tzinfo=UTC)  # Thu 24 Dec, 10:00 in Hong Kong
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    row = only_follow_up(engine)
    assert row.due_at == datetime(2026, 12, 25, 1, 0, tzinfo=UTC) and not row.explicit_time  # Fri 09:00 HK
    scheduler = scheduler_for(app, settings)
    clock.current = row.due_at  # Christmas Day, then Saturday 26th (holiday), Sunday
    assert await scheduler.dispatch() == 0
    clock.current = datetime(2026, 12, 28, 1, 59, tzinfo=UTC)  # Mon 09:59 HK
    assert await scheduler.dispatch() == 0
    clock.current = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)  # Mon 10:00 HK: the next working start
    assert await scheduler.dispatch() == 1
    assert "Held until your working hours" in app.messengers["test"].sent[-1][1].text
    await owner.press("Done", app.messengers["test"].sent[-1][1])
    await owner.say("Called Globex, call back on Saturday at 11am")
    explicit = only_open(engine)
    assert explicit.due_at == datetime(2027, 1, 2, 3, 0, tzinfo=UTC) and explicit.explicit_time
    clock.current = explicit.due_at + timedelta(minutes=40)  # the bot was down when it fell due
    assert await scheduler.dispatch() == 1
    late = app.messengers["test"].sent[-1][1].text
    assert "Globex" in late and "due 40 minutes ago" in late and "Sent late" in late


async def test_snooze_to_tomorrow_lands_on_the_next_working_morning(app, owner, clock, engine):
    await owner.say("/hours 10:00-19:00")
    clock.current = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # Fri 11:00 Taipei
    await owner.say("Visited Acme, wants a quote, follow up today 5pm")
    todo = await owner.say("/todo")
    moved = await owner.press("🌅 1", todo[0])
    assert "Mon 23 Nov 10:00" in moved[0].text
    assert only_follow_up(engine).due_at == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    card = (await owner.press("⋯ 1", (await owner.say("/todo"))[0]))[0]
    week = await owner.press("Next week", card)  # from a Friday, next week starts on that same Monday
    assert "already moved" in week[0].text and "Mon 23 Nov 10:00" in week[0].text


def only_open(engine) -> FollowUp:
    with session_scope(engine) as session:
        row = session.exec(select(FollowUp).where(FollowUp.status != "done")).one()
        session.expunge(row)
        return row


async def test_settings_commands_show_and_change_with_chinese_aliases(app, owner, sales, clock):
    shown = await sales.say("/設定")
    assert "時區:Asia/Taipei" in shown[0].text and "工作時間:09:00–18:00,週一至週五" in shown[0].text
    assert "早報:工作日 08:30" in shown[0].text and "TW 的國定假日算休假" in shown[0].text
    assert "07:45" in (await sales.say("/早報 7:45"))[0].text
    assert "09:30–18:30,週一至週六" in (await sales.say("/工作時間 9點半到下午6點半 週一至週六"))[0].text
    assert "休息日:週日" in (await sales.say("/休息日 週日"))[0].text
    assert "Asia/Shanghai" in (await sales.say("/時區 上海"))[0].text
    shown = await sales.say("/settings")
    assert "時區:Asia/Shanghai" in shown[0].text and "CN 的國定假日算休假" in shown[0].text
    assert "早報:工作日 07:45" in shown[0].text and "09:30–18:30,週一至週六" in shown[0].text
    assert "已關閉" in (await sales.say("/digest off"))[0].text
    assert "早報:已關閉" in (await sales.say("/settings"))[0].text
    assert "/digest 07:45" in (await sales.say("/digest sometime"))[0].text  # the usage, nothing changed
    assert "/tz" in (await sales.say("/tz Mars/Olympus"))[0].text
    assert "/hours" in (await sales.say("/hours whenever"))[0].text
    await sales.say("/lang en")
    assert "Only owners and managers" in (await sales.say("/silentdays 10"))[0].text
    assert "after 10 days" in (await owner.say("/silentdays 10"))[0].text
    assert "flagged after 10 days" in (await sales.say("/settings"))[0].text


def done_count(engine, follow_up_id: int) -> int:
    with session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity_id == follow_up_id, AuditEvent.action == "done")).one()


async def test_pressing_done_on_the_todo_list_redraws_the_list_without_the_item(app, owner, clock, engine):
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    await owner.say("Called Globex, send price list tomorrow 2pm")
    todo = await owner.say("/todo")
    assert "Acme" in todo[0].text and "Globex" in todo[0].text
    payloads = [b.payload for row in todo[0].buttons for b in row]
    assert all(len(p.encode()) <= 64 for p in payloads) and payloads[0].endswith(":t")
    [pressed] = await owner.press("✅ 1", todo[0])
    assert pressed.edit and pressed.notice == "✅ Done: quote"
    assert "Your open follow-ups (1):" in pressed.text and "Globex" in pressed.text
    assert "<b>Acme</b>" not in pressed.text
    assert labels(pressed) == ["✅ 1", "🌅 1", "⋯ 1"]  # Globex is number 1 now, with its own buttons
    acme = only_follow_up(engine)
    assert acme.status == "done"
    [again] = await owner.press("✅ 1", todo[0])  # the old list, pressed again: nothing more happens
    assert again.edit and again.notice == "This follow-up is already closed."
    assert "Globex" in again.text and "<b>Acme</b>" not in again.text
    assert only_follow_up(engine).done_at == acme.done_at and done_count(engine, acme.id) == 1
    [last] = await owner.press("✅ 1", pressed)
    assert last.edit and "Nothing to follow up" in last.text and not last.buttons
    assert last.notice == "✅ Done: send price list"


async def test_snoozing_from_the_todo_list_redraws_it_with_the_new_time_once(app, owner, clock, engine):
    await owner.say("Visited Acme, wants a quote, follow up today 5pm")
    await owner.say("Called Globex, send price list today 4pm")
    todo = await owner.say("/todo")
    assert todo[0].text.index("Globex") < todo[0].text.index("Acme")
    [moved] = await owner.press("🌅 1", todo[0])  # Globex to tomorrow morning
    assert moved.edit and moved.notice == "⏰ I'll remind you again Tomorrow 09:00."
    assert moved.text.index("Acme") < moved.text.index("Globex")  # it moved below Acme
    assert "send price list · Tomorrow 09:00" in moved.text and len(labels(moved)) == 6
    [again] = await owner.press("🌅 1", todo[0])
    assert again.edit and "already moved" in again.notice and "Tomorrow 09:00" in again.notice
    assert again.text.split("\n", 1)[1] == moved.text.split("\n", 1)[1]  # the same list as after the first press
    with session_scope(engine) as session:
        globex = session.exec(select(FollowUp).where(FollowUp.action == "send price list")).one()
    assert globex.due_at == datetime(2026, 11, 19, UTC_9AM_TAIPEI, 0, tzinfo=UTC)


class FailingMessenger(RecordingMessenger):
    """Raises the next queued error on each send (the way the adapters report platform answers)."""

    def __init__(self, errors: list[Exception]) -> None:
        super().__init__("test")
        self.errors = errors

    async def send(self, to, reply) -> str:
        if self.errors:
            raise self.errors.pop(0)
        return await super().send(to, reply)


async def test_status_gives_delivery_problems_in_the_members_language(app, owner, clock, settings, engine):
    for note in ("Visited Acme, wants a quote, follow up tomorrow", "Called Globex, send price list tomorrow 2pm",
                 "Met Initech, call back tomorrow 3pm", "Visited Umbrella, send samples tomorrow 4pm",
                 "Called Hooli, follow up tomorrow 5pm"):
        await owner.say(note)
    app.attach(FailingMessenger([RateLimited(30), DeliveryError("Bad Request: can't parse entities"),
                                 RuntimeError("template exploded"), DeliveryUncertain("Timed out"),
                                 Unreachable("Forbidden: bot was blocked by the user")]))
    scheduler = scheduler_for(app, settings)
    clock.current = datetime(2026, 11, 19, 9, 30, tzinfo=UTC)  # Thu 17:30 Taipei: all five are due
    await scheduler.dispatch()
    await owner.say("/lang zh-Hant")
    status = (await owner.say("/status"))[0].text
    assert "無法送達:4" in status and "已發送但可能沒收到:1" in status
    for key in ("reason_rate_limited", "reason_platform_error", "reason_uncertain", "reason_unreachable"):
        assert t("zh-Hant", f"nudges.{key}") in status
    assert status.count(t("zh-Hant", "nudges.reason_platform_error")) == 2  # raw text and a rendering bug
    for raw in ("rate limited", "Bad Request", "template exploded", "error", "Timed out", "no answer",
                "Forbidden", "unreachable"):
        assert raw not in status
    assert t("zh-Hant", "nudges.status_unreachable") in status
    app.messengers.pop("test")
    app.attach(RecordingMessenger("other"))  # the member has no chat on any platform the bot runs
    clock.advance(minutes=5)  # past every retry time
    await scheduler.dispatch()
    await owner.say("/lang zh-Hans")
    status = (await owner.say("/status"))[0].text
    assert status.count(t("zh-Hans", "nudges.reason_no_chat")) == 4 and "no chat" not in status
    assert t("zh-Hans", "nudges.reason_uncertain") in status
    await owner.say("/lang en")
    status = (await owner.say("/status"))[0].text
    assert t("en", "nudges.reason_no_chat") in status and "no chat for this member" not in status
