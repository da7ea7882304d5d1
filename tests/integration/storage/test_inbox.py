"""The durable inbox on both databases: stored once per key, claimed in order per chat, leases, parking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from core.models import InboxItem
from core.services import inbox

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def run(engine, work):
    with Session(engine) as session:
        result = work(session)
        session.commit()
        return result


def rows(engine):
    return run(engine, lambda s: {r.key: (r.status, r.attempts) for r in s.exec(select(InboxItem)).all()})


def test_stored_once_per_key(engine):
    items = [("u:1", "c1", {"update_id": 1}), ("u:2", "c2", {"update_id": 2})]
    assert run(engine, lambda s: inbox.store(s, "telegram", items, T0)) == 2
    assert run(engine, lambda s: inbox.store(s, "telegram", [*items, ("u:3", "c1", {})], T0)) == 1
    assert sorted(rows(engine)) == ["u:1", "u:2", "u:3"]


def test_one_chat_in_order_and_never_two_at_once(engine):
    run(engine, lambda s: inbox.store(s, "telegram", [("u:1", "a", {}), ("u:2", "a", {}), ("u:3", "b", {})], T0))
    first = run(engine, lambda s: inbox.claim(s, "w1", T0, limit=10))
    assert [c.key for c in first] == ["u:1", "u:3"]  # u:2 waits behind u:1 of the same chat
    assert run(engine, lambda s: inbox.claim(s, "w2", T0, limit=10)) == []  # both chats in flight
    run(engine, lambda s: inbox.finish(s, "w1", first[0].id))
    assert [c.key for c in run(engine, lambda s: inbox.claim(s, "w2", T0, limit=10))] == ["u:2"]


def test_dead_worker_rows_taken_after_the_lease_and_parked_after_three_tries(engine):
    run(engine, lambda s: inbox.store(s, "telegram", [("u:1", "a", {"x": 1})], T0))
    now = T0
    for attempt in range(1, inbox.MAX_ATTEMPTS + 1):
        (taken,) = run(engine, lambda s, now=now, attempt=attempt: inbox.claim(s, f"w{attempt}", now, lease=5))
        assert taken.attempts == attempt and not taken.parked
        assert run(engine, lambda s, now=now: inbox.claim(s, "other", now + timedelta(seconds=4))) == []  # leased
        now += timedelta(seconds=6)  # the worker died: its lease runs out
    (parked,) = run(engine, lambda s: inbox.claim(s, "w9", now))
    assert parked.parked and parked.payload == {"x": 1} and "3 attempts" in (parked.last_error or "")
    assert rows(engine) == {"u:1": ("parked", 3)}
    assert run(engine, lambda s: inbox.claim(s, "w9", now + timedelta(hours=1))) == []  # never retried again


def test_a_row_that_committed_only_sends_its_replies_longer_then_records_them_lost_never_parked(engine):
    """Effects committed with a reply in the outbox, then every process holding the row dies while sending it:
    REPLY_ATTEMPTS more claims send it again; spent, the reply is recorded lost (the member is told at their next
    message that it was stored) and the row is done, not parked as unprocessed."""
    from core.chat import Reply
    from core.models import ReplyOutbox
    from core.services import outbox, teams
    from core.uow import unit_of_work

    def found(session):
        member = teams.found_team(session, teams.Newcomer("telegram", "42", "42", "Amy"))
        session.flush()
        return member.team_id, member.id

    team_id, member_id = run(engine, found)
    run(engine, lambda s: inbox.store(s, "telegram", [("u:1", "a", {"x": 1})], T0))
    (first,) = run(engine, lambda s: inbox.claim(s, "w1", T0, lease=5))
    with inbox.processing(first), unit_of_work(engine) as uow:  # the update's transaction: effects and its reply
        outbox.store(uow.session, "telegram", "telegram:42:7", [Reply("✅ Logged: Acme")], team_id=team_id,
                     member_id=member_id, now=T0)
        inbox.mark_current_answering(uow, "telegram:42:7")
    now = T0 + timedelta(seconds=6)
    for attempt in range(2, inbox.MAX_ATTEMPTS + inbox.REPLY_ATTEMPTS + 1):  # each dies while sending
        (taken,) = run(engine, lambda s, now=now, attempt=attempt: inbox.claim(s, f"w{attempt}", now, lease=5))
        assert taken.attempts == attempt and not taken.parked and inbox.answering(taken) == "telegram:42:7"
        now += timedelta(seconds=6)
    (spent,) = run(engine, lambda s: inbox.claim(s, "w9", now))
    assert spent.parked and inbox.answering(spent) == "telegram:42:7"
    assert run(engine, lambda s: inbox.give_up_replies(s, spent, now)) == 1
    assert rows(engine) == {"u:1": ("done", inbox.MAX_ATTEMPTS + inbox.REPLY_ATTEMPTS)}
    assert run(engine, lambda s: [r.status for r in s.exec(select(ReplyOutbox))]) == ["lost"]
    assert run(engine, lambda s: outbox.take_lost(s, member_id, now)) == 1  # told at the member's next message


def test_heartbeat_keeps_the_claim_and_release_hands_it_back(engine):
    run(engine, lambda s: inbox.store(s, "telegram", [("u:1", "a", {}), ("u:2", "a", {})], T0))
    (taken,) = run(engine, lambda s: inbox.claim(s, "w1", T0, lease=5))
    run(engine, lambda s: inbox.renew(s, "w1", [taken.id], T0 + timedelta(seconds=12)))
    assert run(engine, lambda s: inbox.claim(s, "w2", T0 + timedelta(seconds=8))) == []
    run(engine, lambda s: inbox.release(s, "w1", [taken.id]))
    assert rows(engine)["u:1"] == ("pending", 0)
    assert [c.key for c in run(engine, lambda s: inbox.claim(s, "w2", T0))] == ["u:1"]


def test_a_failed_attempt_backs_off_then_retries(engine):
    run(engine, lambda s: inbox.store(s, "telegram", [("u:1", "a", {})], T0))
    (taken,) = run(engine, lambda s: inbox.claim(s, "w1", T0))
    run(engine, lambda s: inbox.failed(s, "w1", taken.id, "boom", T0))
    assert run(engine, lambda s: inbox.claim(s, "w1", T0 + timedelta(seconds=1))) == []
    (again,) = run(engine, lambda s: inbox.claim(s, "w1", T0 + timedelta(seconds=3)))
    assert again.attempts == 2 and again.last_error == "boom"
