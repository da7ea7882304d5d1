"""Where a nudge goes, with the real Dispatcher on SQLite and PostgreSQL: to the cover while one is in force and
back after it; a removed member's follow-ups held (neither failed nor sent) until a handover, then to the new
owner exactly once; a nudge in flight during a handover is not sent twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from core.db import session_scope
from core.models import FollowUp, Member
from core.scheduling import Claimed, Dispatcher
from core.scheduling.limits import Pacer
from core.services import customers, followups, teams
from core.services.actor import Actor
from core.uow import unit_of_work
from core.usecases import handover

WED_10 = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Taipei


class Sender:
    """Records (follow-up, recipient) of every delivery."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int]] = []

    async def destination(self, claimed: Claimed):
        return ("test", f"chat-{claimed.recipient_id}")

    async def send_nudge(self, claimed: Claimed):
        self.sent.append((claimed.follow_up_id, claimed.recipient_id))
        return f"test:chat-{claimed.recipient_id}", f"m{len(self.sent)}"


def team(engine) -> tuple[Actor, Actor, Actor]:
    """An owner and two salespeople (Chen, Wang)."""
    with session_scope(engine) as session:
        owner = teams.found_team(session, teams.Newcomer("test", "1", "dm1", "Amy"))
        people = []
        for name in ("Chen", "Wang"):
            member = Member(team_id=owner.team_id, name=name, role="sales")
            session.add(member)
            session.flush()
            people.append(Actor.of(member))
        return Actor.of(owner), people[0], people[1]


def schedule(engine, actor: Actor, name: str, due: datetime) -> int:
    with session_scope(engine) as session:
        customer = customers.create_customer(session, actor, name)
        return followups.schedule(session, actor, due_at=due, action="call", customer_id=customer.id).id or 0


def row(engine, follow_up_id: int) -> FollowUp:
    with session_scope(engine) as session:
        return session.get(FollowUp, follow_up_id)


async def test_nudges_go_to_the_cover_until_the_date_then_back(engine, clock):
    clock.current = WED_10
    owner, chen, wang = team(engine)
    during = schedule(engine, chen, "Acme", WED_10 + timedelta(hours=1))
    after = schedule(engine, chen, "Globex", WED_10 + timedelta(days=2))  # Friday 10:00, after the cover
    with unit_of_work(engine) as uow:
        handover.start_cover(uow, owner, clock.now(), chen.member_id, wang.member_id, date(2026, 11, 19))
    sender = Sender()
    worker = Dispatcher(engine, sender, clock, pacer=Pacer({}))
    clock.advance(hours=1)
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    assert sender.sent == [(during, wang.member_id)]
    assert row(engine, during).member_id == chen.member_id  # still Chen's follow-up
    clock.current = WED_10 + timedelta(days=2)
    assert await worker.run_once() == 1
    assert sender.sent[-1] == (after, chen.member_id)  # the cover ended at the end of Thursday, Taipei time


async def test_cover_off_and_a_removed_cover_send_the_nudges_back(engine, clock):
    clock.current = WED_10
    owner, chen, wang = team(engine)
    first = schedule(engine, chen, "Acme", WED_10 + timedelta(hours=1))
    second = schedule(engine, chen, "Globex", WED_10 + timedelta(hours=2))
    with unit_of_work(engine) as uow:
        handover.start_cover(uow, owner, clock.now(), chen.member_id, wang.member_id, date(2026, 12, 20))
    with session_scope(engine) as session:  # the cover leaves the team: the cover no longer counts
        member = session.get(Member, wang.member_id)
        member.active = False
        session.add(member)
    sender = Sender()
    worker = Dispatcher(engine, sender, clock, pacer=Pacer({}))
    clock.advance(hours=1)
    assert await worker.run_once() == 1
    assert sender.sent == [(first, chen.member_id)]
    with unit_of_work(engine) as uow:
        assert handover.end_cover(uow, owner, clock.now(), chen.member_id).status is handover.CoverStatus.ENDED
    clock.advance(hours=1)
    assert await worker.run_once() == 1
    assert sender.sent[-1] == (second, chen.member_id)


async def test_a_removed_members_nudges_are_held_until_the_handover_then_reach_the_new_owner_once(engine, clock):
    clock.current = WED_10
    owner, chen, wang = team(engine)
    fid = schedule(engine, chen, "Acme", WED_10 + timedelta(hours=1))
    with session_scope(engine) as session:
        member = session.get(Member, chen.member_id)
        member.active = False
        session.add(member)
    sender = Sender()
    worker = Dispatcher(engine, sender, clock, pacer=Pacer({}))
    clock.advance(hours=2)
    assert await worker.run_once() == 0
    held = row(engine, fid)
    assert held.status == "pending" and held.attempts == 0 and held.last_failure is None and not sender.sent
    with unit_of_work(engine) as uow:
        result = handover.hand_over(uow, owner, clock.now(), chen.member_id, wang.member_id)
    assert result.status is handover.HandoverStatus.MOVED and result.follow_ups == 1
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    assert sender.sent == [(fid, wang.member_id)]
    with unit_of_work(engine) as uow:  # a second run moves nothing and sends nothing
        again = handover.hand_over(uow, owner, clock.now(), chen.member_id, wang.member_id)
    assert again.status is handover.HandoverStatus.ALREADY
    assert await worker.run_once() == 0


async def test_a_nudge_in_flight_during_the_handover_is_not_sent_twice(engine, clock):
    clock.current = WED_10
    owner, chen, wang = team(engine)
    fid = schedule(engine, chen, "Acme", WED_10)
    sender = Sender()
    worker = Dispatcher(engine, sender, clock, pacer=Pacer({}))
    claimed = worker.claim()  # claimed by the dispatcher, not yet sent
    assert [c.follow_up_id for c in claimed] == [fid]
    with unit_of_work(engine) as uow:
        handover.hand_over(uow, owner, clock.now(), chen.member_id, wang.member_id)
    moved = row(engine, fid)
    assert moved.member_id == wang.member_id and moved.claimed_by == worker.worker  # bookkeeping untouched
    await worker._enqueue(claimed)
    await worker.drain()
    assert len(sender.sent) == 1
    assert await worker.run_once() == 0  # sent once; the new owner does not get it again
    with session_scope(engine) as session:
        assert session.exec(select(FollowUp).where(FollowUp.status == "sent")).one().id == fid
