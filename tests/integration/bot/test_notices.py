"""Morning digests, silent-customer alerts and weekly manager summaries, sent once, never lost.

The fake clock starts on Wed 18 Nov 2026, 10:00 in Taipei; members are in Taipei (TW holidays)
unless a test moves them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.notifier import create_scheduler
from core.db import session_scope
from core.models import ChatIdentity, Customer, Deal, FollowUp, Member, Notice, Role, Team
from core.ports import DeliveryError, RateLimited, Unreachable
from tests.conversation import RecordingMessenger


class FlakyMessenger(RecordingMessenger):
    """Raises the queued errors on the next sends, then behaves; counts every call."""

    def __init__(self, platform: str = "test") -> None:
        super().__init__(platform)
        self.errors: list[Exception] = []
        self.calls = 0

    async def send(self, to, reply):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return await super().send(to, reply)


def flaky(app) -> FlakyMessenger:
    app.messengers["test"] = FlakyMessenger()
    return app.messengers["test"]


def scheduler_for(app, settings):
    return create_scheduler(app.engine, settings, app.messengers, app.clock, pacer=None)


def taipei(day: int, hour: int, minute: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def texts(app, marker: str, chat: str | None = None) -> list[str]:
    return [r.text for c, r in app.messengers["test"].sent if marker in r.text and (chat is None or c.chat_id == chat)]


def notices(engine) -> dict[str, tuple[str, int]]:
    with session_scope(engine) as session:
        return {n.key: (n.status, n.attempts) for n in session.exec(select(Notice).where(Notice.kind == "digest"))}


async def test_digest_at_the_chosen_time_lists_undeliverable_and_respects_off_days_and_holidays(
        app, owner, clock, settings, engine):
    scheduler = scheduler_for(app, settings)
    assert "07:45" in (await owner.say("/digest 07:45"))[0].text
    await owner.say("Visited Acme, wants a quote, follow up today 5pm")
    await owner.say("Called Globex, send price list tomorrow 2pm")
    with session_scope(engine) as session:
        acme = session.exec(select(FollowUp).order_by(FollowUp.id)).first()
        acme.last_error = "NetworkError: 502"
        session.add(acme)
    clock.current = taipei(19, 7, 44)
    assert await scheduler.send_notices() == 0
    clock.current = taipei(19, 7, 46)
    assert await scheduler.send_notices() == 1
    assert await scheduler.send_notices() == 0
    [digest] = texts(app, "Good morning")
    assert "2 follow-ups for today" in digest and "Acme" in digest and "Globex" in digest
    assert "(reminder could not be delivered)" in digest and "1 reminder above could not be delivered" in digest
    assert notices(engine) == {"digest:2026-11-19": ("sent", 0)}

    await owner.say("/digest off")
    clock.current = taipei(20, 9, 0)
    assert await scheduler.send_notices() == 0
    await owner.say("/digest on")
    await owner.say("/hours mon-thu")  # Friday becomes a day off
    clock.current = taipei(27, 9, 0)
    assert await scheduler.send_notices() == 0
    clock.current = taipei(30, 8, 31)  # Monday: the digest and the owner's weekly summary
    assert await scheduler.send_notices() == 2 and len(texts(app, "Good morning")) == 2
    await owner.say("/hours mon-fri")
    clock.current = taipei(25, 8, 31, month=12)  # Constitution Day, a public holiday in Taiwan
    assert await scheduler.send_notices() == 0
    clock.current = taipei(28, 8, 31, month=12)
    assert await scheduler.send_notices() == 2 and len(texts(app, "Good morning")) == 3
    assert set(notices(engine)) == {"digest:2026-11-19", "digest:2026-11-30", "digest:2026-12-28"}


async def test_digest_missed_by_hours_waits_for_the_next_day(app, owner, clock, settings, engine):
    scheduler = scheduler_for(app, settings)
    await owner.say("Visited Acme, wants a quote, follow up today 5pm")
    clock.current = taipei(19, 11, 31)  # the bot was down from before 08:30 until 11:31
    assert await scheduler.send_notices() == 0
    clock.current = taipei(20, 8, 30)
    assert await scheduler.send_notices() == 1


async def test_digest_skipped_when_empty_and_in_chinese(app, sales, clock, settings, engine):
    scheduler = scheduler_for(app, settings)
    clock.current = taipei(18, 8, 35)
    assert await scheduler.send_notices() == 0  # nothing due: no digest
    await sales.say("拜訪宏達電,王經理要報價,明天跟進")
    clock.current = taipei(19, 8, 31)
    assert await scheduler.send_notices() == 1
    [digest] = texts(app, "早安")
    assert "今天及逾期的跟進共 1 項" in digest and "宏達電" in digest and "傳 /todo" in digest
    with session_scope(engine) as session:
        assert {n.key: n.status for n in session.exec(select(Notice))} == {
            "digest:2026-11-18": "skipped", "digest:2026-11-19": "sent"}


async def test_a_failed_digest_is_not_recorded_as_sent_and_goes_out_once_later(app, owner, clock, settings, engine):
    messenger = flaky(app)
    scheduler = scheduler_for(app, settings)
    assert scheduler.notices.pacer is scheduler.dispatcher.pacer  # notices share the platform pacing
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    messenger.errors = [DeliveryError("502 Bad Gateway"), RateLimited(3)]
    clock.current = taipei(19, 8, 31)
    assert await scheduler.send_notices() == 0
    assert notices(engine) == {"digest:2026-11-19": ("failed", 1)}
    clock.advance(minutes=1)
    assert await scheduler.send_notices() == 0  # the 429: not counted as an attempt
    clock.advance(minutes=1)
    assert await scheduler.send_notices() == 1
    clock.advance(minutes=1)
    assert await scheduler.send_notices() == 0
    assert len(texts(app, "Good morning")) == 1
    assert notices(engine) == {"digest:2026-11-19": ("sent", 1)}


async def test_blocked_chat_pauses_digests_until_the_member_writes_again(app, owner, clock, settings, engine):
    messenger = flaky(app)
    scheduler = scheduler_for(app, settings)
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    messenger.errors = [Unreachable("Forbidden: bot was blocked by the user")]
    clock.current = taipei(19, 8, 31)
    assert await scheduler.send_notices() == 0
    with session_scope(engine) as session:
        assert session.exec(select(Member.unreachable_since)).first() == clock.now()
    clock.advance(minutes=5)
    assert await scheduler.send_notices() == 0 and not texts(app, "Good morning")
    await owner.say("/todo")  # they are back
    assert await scheduler.send_notices() == 1


async def test_a_reservation_abandoned_by_a_dead_process_is_taken_again(app, owner, clock, settings, engine):
    scheduler = scheduler_for(app, settings)
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    clock.current = taipei(19, 8, 31)
    with session_scope(engine) as session:
        member = session.exec(select(Member)).one()
        session.add(Notice(team_id=member.team_id, member_id=member.id, key="digest:2026-11-19", kind="digest",
                           created_at=clock.now() - timedelta(minutes=2)))
    assert await scheduler.send_notices() == 0  # another process may still be sending it
    clock.advance(minutes=10)
    assert await scheduler.send_notices() == 1
    assert notices(engine) == {"digest:2026-11-19": ("sent", 0)}


async def test_important_customer_alerts_its_owner_once_per_silence(app, owner, sales, clock, settings, engine):
    scheduler = scheduler_for(app, settings)
    await sales.say("拜訪宏達電,王經理要報價")
    marked = await owner.say("/important 宏達電 14")
    assert "宏達電" in marked[0].text and "14 days" in marked[0].text
    clock.advance(days=13)
    await scheduler.send_notices()
    assert not texts(app, "🔕")
    clock.advance(days=2)
    await scheduler.send_notices()
    clock.advance(days=1)
    await scheduler.send_notices()
    alerts = texts(app, "🔕")
    assert alerts == ["🔕 <b>宏達電</b> 已經 15 天沒有聯絡了。要不要關心一下?"]
    assert [c.chat_id for c, r in app.messengers["test"].sent if "🔕" in r.text] == ["dm-sales1"]  # its owner
    await sales.say("打電話給宏達電,王經理說下個月決定")
    with session_scope(engine) as session:
        assert session.exec(select(Customer.silent_alerted_at)).one() is None  # re-armed
    clock.advance(days=10)
    await scheduler.send_notices()
    assert len(texts(app, "🔕")) == 1
    clock.advance(days=5)
    await scheduler.send_notices()
    assert len(texts(app, "🔕")) == 2
    off = await owner.say("/important 宏達電 off")
    assert "no longer" in off[0].text


async def test_card_button_marks_important_once_and_team_default_applies_to_open_deals(
        app, owner, clock, settings, engine):
    scheduler = scheduler_for(app, settings)
    await owner.say("Visited Acme, Mr. Lee wants a quote")
    await owner.say("Visited Globex, talked about the renewal")
    card = (await owner.say("/c Acme"))[0]
    first = await owner.press("Mark important", card)
    second = await owner.press("Mark important", card)
    assert "⭐ Important · alert after 30 quiet days" in first[0].text and first[0].edit
    assert second[0].text == first[0].text and second[0].buttons[0][0].label == "☆ Not important"
    with session_scope(engine) as session:
        globex = session.exec(select(Customer).where(Customer.name == "Globex")).one()
        session.add(Deal(team_id=globex.team_id, customer_id=globex.id, title="renewal", stage="proposal"))
    assert "20 days" in (await owner.say("/silentdays 20"))[0].text
    clock.advance(days=21)
    await scheduler.send_notices()
    assert sorted(texts(app, "🔕")) == ["🔕 <b>Acme</b> has been quiet for 21 days. Time to get in touch?",
                                          "🔕 <b>Globex</b> has been quiet for 21 days. Time to get in touch?"]


async def test_a_failed_silent_alert_is_armed_again(app, owner, clock, settings, engine):
    messenger = flaky(app)
    scheduler = scheduler_for(app, settings)
    await owner.say("Visited Acme, Mr. Lee wants a quote")
    await owner.say("/important Acme 5")
    clock.advance(days=6)
    messenger.errors = [DeliveryError("502 Bad Gateway")]  # surely not sent: armed again
    await scheduler.send_notices()
    with session_scope(engine) as session:
        assert session.exec(select(Customer.silent_alerted_at)).one() is None
    await scheduler.send_notices()
    await scheduler.send_notices()
    assert len(texts(app, "🔕")) == 1


def other_team(engine, now: datetime) -> None:
    """A second team with a manager and an overdue follow-up (never shown to the first team)."""
    with session_scope(engine) as session:
        team = Team(name="Other")
        session.add(team)
        session.flush()
        boss = Member(team_id=team.id, name="Other Boss", role=Role.manager.value, language="en")
        session.add(boss)
        session.flush()
        session.add(ChatIdentity(team_id=team.id, member_id=boss.id, platform="test", platform_user_id="other",
                                 chat_id="dm-other"))
        session.add(FollowUp(team_id=team.id, member_id=boss.id, due_at=now - timedelta(days=3), action="x"))


async def test_weekly_summary_per_salesperson_of_the_managers_team_once_a_week(app, owner, sales, clock, settings,
                                                                               engine):
    scheduler = scheduler_for(app, settings)
    await sales.say("拜訪宏達電,王經理要報價,明天跟進")
    await sales.say("拜訪台積電,陳經理要樣品,週五寄樣品")
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    other_team(engine, clock.now())
    clock.current = taipei(23, 8, 29)  # Monday
    await scheduler.send_notices()
    assert not texts(app, "Weekly summary")
    clock.current = taipei(23, 8, 31)
    await scheduler.send_notices()
    clock.current = taipei(24, 9, 0)
    await scheduler.send_notices()
    [weekly] = texts(app, "Weekly summary", "dm-owner")
    head, _, report = weekly.partition("\n\n")
    assert head == "📊 Weekly summary: 3 overdue follow-ups in your team:\n• 陳小姐: 2\n• Amy Lin: 1"
    # below it, the past week's team report (Mon 16 – Sun 22 Nov): 陳小姐's two visits, Amy's one
    assert report.startswith("📊 <b>Report</b> · last week, Nov 16, 2026 – Nov 22, 2026\nYour team, per salesperson")
    assert "<b>陳小姐</b>\n🚗 visits 2" in report and "<b>Amy Lin</b>\n🚗 visits 1" in report
    assert [text.split("\n\n")[0] for text in texts(app, "Weekly summary", "dm-other")] == [
        "📊 Weekly summary: 1 overdue follow-up in your team:\n• Other Boss: 1"]
    assert not texts(app, "每週摘要")  # salespeople get none
    clock.current = taipei(30, 8, 31)
    await scheduler.send_notices()
    assert len(texts(app, "Weekly summary", "dm-owner")) == 2


async def test_weekly_summary_waits_for_the_first_working_day_when_monday_is_a_holiday(app, owner, clock, settings):
    clock.current = taipei(21, 10, 0, month=10)
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    scheduler = scheduler_for(app, settings)
    clock.current = taipei(26, 8, 31, month=10)  # Mon 26 Oct 2026: Retrocession Day (observed) in Taiwan
    await scheduler.send_notices()
    assert not texts(app, "Weekly summary")
    clock.current = taipei(27, 8, 31, month=10)
    await scheduler.send_notices()
    assert [text.split("\n\n")[0] for text in texts(app, "Weekly summary")] == [
        "📊 Weekly summary: 1 overdue follow-up in your team:\n• Amy Lin: 1"]


async def test_two_processes_send_one_digest_and_one_alert(app, owner, clock, settings, engine):
    import asyncio

    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    await owner.say("/important Acme 1")
    first, second = scheduler_for(app, settings), scheduler_for(app, settings)
    clock.current = taipei(20, 8, 31)  # Friday: a digest is due and Acme has been quiet for two days
    sent = await asyncio.gather(first.send_notices(), second.send_notices(), first.send_notices())
    assert sum(sent) == 2
    assert len(texts(app, "Good morning")) == 1 and len(texts(app, "🔕")) == 1


async def test_important_answers_for_unknown_and_usage(app, owner, engine):
    assert "/important Acme 14" in (await owner.say("/important"))[0].text
    await owner.say("/new Acme")
    assert "Acme" in (await owner.say("/重要 Acme 10天"))[0].text
    unknown = (await owner.say("/important Nobody Inc"))[0].text
    assert "Nobody Inc" in unknown and "important" not in unknown
    with session_scope(engine) as session:
        acme = session.exec(select(Customer)).one()
        assert acme.important and acme.silent_days == 10


async def minutes_called(scheduler, messenger, clock, minutes: int) -> list[int]:
    """Run the notices once a minute for `minutes` minutes; the minutes (from the start) the platform was called."""
    called = []
    for minute in range(minutes):
        before = messenger.calls
        await scheduler.send_notices()
        if messenger.calls > before:
            called.append(minute)
        clock.advance(minutes=1)
    return called


async def test_a_failing_digest_backs_off_and_still_goes_out_after_long_platform_trouble(
        app, owner, clock, settings, engine):
    messenger = flaky(app)
    scheduler = scheduler_for(app, settings)
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    messenger.errors = [DeliveryError("502 Bad Gateway")] * 10  # about an hour and a half of failures
    clock.current = taipei(19, 8, 30)
    called = await minutes_called(scheduler, messenger, clock, 150)
    assert called == [0, 1, 3, 7, 15, 30, 45, 60, 75, 90, 105]  # 1, 2, 4, 8 minutes, then every 15
    assert len(texts(app, "Good morning")) == 1
    assert notices(engine) == {"digest:2026-11-19": ("sent", 10)}


async def test_a_digest_failing_all_morning_stops_with_its_window_and_tomorrows_goes_out(
        app, owner, clock, settings, engine):
    messenger = flaky(app)
    scheduler = scheduler_for(app, settings)
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    messenger.errors = [DeliveryError("502 Bad Gateway")] * 100
    clock.current = taipei(19, 8, 30)
    called = await minutes_called(scheduler, messenger, clock, 24 * 60)
    assert called[-1] < 180 and len(called) == 15  # up to 11:30, the end of the digest window
    assert notices(engine) == {"digest:2026-11-19": ("failed", 15)}
    messenger.errors = []
    await minutes_called(scheduler, messenger, clock, 1)  # Friday 08:30
    assert len(texts(app, "Good morning")) == 1
    assert notices(engine)["digest:2026-11-20"] == ("sent", 0)


async def test_a_429_waits_its_retry_after_and_is_not_an_attempt(app, owner, clock, settings, engine):
    messenger = flaky(app)
    scheduler = scheduler_for(app, settings)
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    messenger.errors = [RateLimited(150), RateLimited(30)]
    clock.current = taipei(19, 8, 31)
    assert await minutes_called(scheduler, messenger, clock, 6) == [0, 3, 4]  # 2.5 min, then 30 s
    assert len(texts(app, "Good morning")) == 1
    assert notices(engine) == {"digest:2026-11-19": ("sent", 0)}


async def test_a_timeout_may_have_delivered_the_digest_so_it_is_not_sent_again(app, owner, clock, settings, engine):
    messenger = flaky(app)
    scheduler = scheduler_for(app, settings)
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    messenger.errors = [TimeoutError()]
    clock.current = taipei(19, 8, 31)
    assert await minutes_called(scheduler, messenger, clock, 30) == [0]
    assert not texts(app, "Good morning")
    with session_scope(engine) as session:
        notice = session.exec(select(Notice)).one()
        assert (notice.status, notice.message_id) == ("sent", None)


async def test_a_member_with_a_broken_time_zone_does_not_stop_the_others(app, owner, sales, clock, settings, engine):
    scheduler = scheduler_for(app, settings)
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    await sales.say("拜訪宏達電,王經理要報價,明天跟進")
    await owner.say("/important Acme 5")
    with session_scope(engine) as session:
        broken = session.exec(select(Member).where(Member.role == Role.owner.value)).one()
        broken.timezone = "Mars/Olympus"  # e.g. a zone removed from tzdata
        session.add(broken)
    clock.current = taipei(23, 10, 1)  # Monday: the sales digest; Acme silent for 5 days (its owner is broken)
    assert await scheduler.send_notices() == 2
    assert len(texts(app, "早安", "dm-sales1")) == 1
    assert texts(app, "🔕", "dm-owner") == ["🔕 <b>Acme</b> has been quiet for 5 days. Time to get in touch?"]


async def test_a_notice_that_cannot_be_rendered_is_rolled_back_alone(app, owner, sales, clock, settings, engine,
                                                                      monkeypatch):
    import bot.notifier

    real = bot.notifier.digest

    def digest(data, member, now, commands=None):
        if member.role == Role.owner.value:
            raise ValueError("corrupt row")
        return real(data, member, now, commands)

    monkeypatch.setattr(bot.notifier, "digest", digest)
    scheduler = scheduler_for(app, settings)
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    await sales.say("拜訪宏達電,王經理要報價,明天跟進")
    clock.current = taipei(23, 8, 31)  # Monday: both digests and the owner's weekly summary
    assert await scheduler.send_notices() == 2
    assert len(texts(app, "早安", "dm-sales1")) == 1 and len(texts(app, "Weekly summary", "dm-owner")) == 1
    with session_scope(engine) as session:  # the owner's digest reservation was rolled back, to be taken again
        assert {(n.kind, n.status) for n in session.exec(select(Notice))} == {("digest", "sent"), ("weekly", "sent")}
    monkeypatch.setattr(bot.notifier, "digest", real)
    assert await scheduler.send_notices() == 1 and len(texts(app, "Good morning", "dm-owner")) == 1


def link(engine, platform: str, chat_id: str) -> None:
    """The owner also joins from another platform (a newer identity)."""
    with session_scope(engine) as session:
        member = session.exec(select(Member).where(Member.role == Role.owner.value)).one()
        session.add(ChatIdentity(team_id=member.team_id, member_id=member.id, platform=platform,
                                 platform_user_id=f"{platform}-owner", chat_id=chat_id))


async def test_nudges_and_digests_go_to_the_platform_the_member_joined_from_last(app, owner, clock, settings, engine):
    await owner.say("Visited Acme, Mr. Lee wants a quote, follow up tomorrow 3pm")
    app.attach(RecordingMessenger("other"))
    link(engine, "other", "other-dm")
    link(engine, "gone", "gone-dm")  # a platform this process has no messenger for
    scheduler = scheduler_for(app, settings)
    clock.current = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)  # Thu 15:00 Taipei
    assert await scheduler.dispatch() == 1
    [(chat, nudge)] = app.messengers["other"].sent
    assert (chat.platform, chat.chat_id) == ("other", "other-dm") and "Acme" in nudge.text
    clock.current = taipei(20, 8, 31)
    assert await scheduler.send_notices() == 1
    assert "Good morning" in app.messengers["other"].sent[-1][1].text
    assert not [r for _, r in app.messengers["test"].sent if "Acme" in r.text or "Good morning" in r.text]


async def test_nudge_lookup_and_rendering_run_off_the_event_loop(app, owner, clock, settings, engine):
    import threading

    from sqlalchemy import event

    await owner.say("Visited Acme, Mr. Lee wants a quote, follow up tomorrow 3pm")
    scheduler = scheduler_for(app, settings)
    loop_thread, on_loop = threading.get_ident(), []

    def statement(conn, cursor, sql, *args):
        if threading.get_ident() == loop_thread:
            on_loop.append(sql)

    event.listen(app.engine, "before_cursor_execute", statement)
    try:
        clock.current = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)
        assert await scheduler.dispatch() == 1
    finally:
        event.remove(app.engine, "before_cursor_execute", statement)
    assert on_loop == []


async def test_weekly_summary_is_not_sent_at_night_after_a_late_start(app, owner, clock, settings):
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    scheduler = scheduler_for(app, settings)
    clock.current = taipei(23, 23, 0)  # Monday night: the bot was down all day
    await scheduler.send_notices()
    clock.current = taipei(24, 8, 31)
    await scheduler.send_notices()
    assert not texts(app, "Weekly summary")
    clock.current = taipei(30, 11, 29)  # the next Monday, late in the morning window
    await scheduler.send_notices()
    assert len(texts(app, "Weekly summary")) == 1


async def test_a_late_digest_time_keeps_its_window_past_midnight(app, owner, clock, settings, engine):
    scheduler = scheduler_for(app, settings)
    assert "22:30" in (await owner.say("/digest 22:30"))[0].text
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")
    clock.current = taipei(20, 0, 15)  # Friday 00:15: Thursday's 22:30 digest, missed until now
    assert await scheduler.send_notices() == 1
    assert notices(engine) == {"digest:2026-11-19": ("sent", 0)}
    clock.current = taipei(21, 0, 15)  # Saturday 00:15: Friday's digest (Friday is a working day)
    assert await scheduler.send_notices() == 1
    clock.current = taipei(22, 0, 15)  # Sunday 00:15: Saturday is off
    assert await scheduler.send_notices() == 0
