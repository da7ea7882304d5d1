"""SQL statements of a note through `ChatCRM.handle` from the inbox (issue 17 item 8), on SQLite and PostgreSQL,
and what stays true meanwhile: the update's keys recorded first are the redelivery check (no look-up of the keys
or the outbox before), a handler that rolls back still leaves the keys recorded, the deal proposal reads in two
statements and a note without a deal signal reads nothing for it, and a `Worker` marks the replies sent in the
transaction that finishes the row."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import event
from sqlmodel import Session, col, func, select

from bot import router
from core.chat import Reply, TextIn
from core.models import InboxItem, Interaction, ProcessedUpdate, ReplyOutbox
from core.services import inbox, outbox
from tests.integration.bot.test_reply_outbox import handled, stored_claim
from tests.integration.usecases.test_round_trips import statements_of
from tests.waiting import until


def keys_of(engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.exec(select(ProcessedUpdate.key)).all())


async def test_a_note_from_the_inbox_checks_its_keys_with_the_insert_alone(app, owner, engine):
    now = app.clock.now()
    await owner.say("Visited Acme, Mr. Lee wants a quote")  # the customer, its contact and the name index exist
    note = TextIn(owner.envelope(update_id="1", message_id="m1"), "Visited Acme, Mr. Lee wants 12 units")
    claim = stored_claim(engine, now)
    replies: list[Reply] = []

    async def handle() -> None:
        replies.extend(await handled(app, claim, note))

    seen: list[str] = []
    listener = lambda *args: seen.append(" ".join(args[2].split()))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        await handle()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert "12 units" in replies[0].text
    assert not any(s.startswith("SELECT processedupdate") for s in seen), "\n".join(seen)
    assert not any(s.startswith("SELECT replyoutbox.id") for s in seen)  # no look for earlier replies: never taken
    assert sum(s.startswith("INSERT INTO processedupdate") for s in seen) == 1
    assert seen.index(next(s for s in seen if s.startswith("INSERT INTO processedupdate"))) <= 1  # first
    assert {"m:dm-owner:m1", "u:1"} <= set(keys_of(engine))
    with Session(engine) as session:  # its reply not sent yet, the row is finished
        inbox.finish(session, "w1", claim.id)
        session.commit()
    again = await handled(app, stored_claim(engine, now, key="u:2"), TextIn(  # redelivered under another update
        owner.envelope(update_id="2", message_id="m1"), note.text))
    assert [r.text for r in again] == [r.text for r in replies]  # the pending reply, not the note stored again
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Interaction)
                            .where(col(Interaction.text) == note.text)).one() == 1


async def test_statements_of_the_deal_proposal(app, owner, engine):
    """With a deal signal: the note, its customer and open deals in one query, the stages in one; without: none."""
    from core.services import deals, teams
    from core.services.actor import Actor
    from core.uow import unit_of_work
    from core.usecases import deal_proposals
    from core.usecases.notes import NoteInput, Source, log_note

    with unit_of_work(engine) as uow:
        member = teams.member_for(uow.session, "test", "owner")
        assert member is not None
        actor = Actor.of(member)
        deals.stages(uow.session, actor.team_id)  # the team's default stages, made at their first use
        quoted = log_note(uow, actor, app.clock.now(), NoteInput("Visited Acme, wants a quote for 200 units",
                                                                 Source("test", "dm-owner", "q1"))).note
        plain = log_note(uow, actor, app.clock.now(), NoteInput("Called Acme about the weather",
                                                                Source("test", "dm-owner", "q2"))).note
    assert quoted is not None and plain is not None
    assert deal_proposals.may_propose(quoted.text, quoted.amounts)
    assert not deal_proposals.may_propose(plain.text, plain.amounts)
    found = []
    with unit_of_work(engine) as uow:
        seen = statements_of(engine, lambda: found.append(deal_proposals.propose(uow, actor, quoted.id)))
    assert found[0] is not None and found[0].kind == "new"
    assert len(seen) == 2, "\n".join(seen)
    assert "JOIN customer" in seen[0] and "LEFT OUTER JOIN deal" in seen[0] and "pipelinestage" in seen[1]


async def test_keys_are_recorded_again_when_a_handler_rolled_back(app, owner, engine, monkeypatch):
    """A handler that rolls its work back and answers (chat exports do) leaves the update's keys recorded."""
    original = router.dispatch

    async def rolled_back(ctx):
        replies = await original(ctx)
        ctx.uow.rollback()
        return replies

    monkeypatch.setattr(router, "dispatch", rolled_back)
    await owner.send(TextIn(owner.envelope(update_id="5", message_id="m5"), "/help"))
    assert {"m:dm-owner:m5", "u:5"} <= set(keys_of(engine))
    monkeypatch.setattr(router, "dispatch", original)
    assert await owner.send(TextIn(owner.envelope(update_id="6", message_id="m5"), "/help")) == []  # redelivered


async def test_a_worker_marks_the_replies_sent_with_the_row(app, owner, engine):
    """The receipts of an update's replies wait for the row's finish: one transaction marks both."""
    now = app.clock.now()
    with Session(engine) as session:
        inbox.store(session, "test", [("u:9", "test:dm-owner", {"text": "Visited Acme, wants 12 units"})], now)
        session.commit()
    trail: list[tuple[int, str]] = []  # (thread, what): the claim loop's statements run in threads of their own
    event.listen(engine, "before_cursor_execute",
                 lambda *args: trail.append((threading.get_ident(), " ".join(args[2].split()[:2]))))
    event.listen(engine, "commit", lambda *_: trail.append((threading.get_ident(), "COMMIT")))

    async def process(claim: inbox.Claim) -> None:
        replies = await app.handle(TextIn(owner.envelope(update_id="9"), claim.payload["text"]))
        for reply in replies:
            if (receipt := outbox.receipt_of(reply)) is not None:
                await receipt.sent()
                assert claim.sent == [receipt.id]  # held for the finish

    worker = app.open_inbox("w1").processor("test", process, idle_seconds=0.05)
    await worker.start()
    try:
        await until(lambda: _status(engine) == inbox.DONE)
    finally:
        await worker.stop()
    with Session(engine) as session:
        assert [row.status for row in session.exec(select(ReplyOutbox)).all()] == ["sent"]
    thread = next(who for who, what in trail if what == "UPDATE replyoutbox")
    mine = [what for who, what in trail if who == thread]
    settled = mine.index("UPDATE replyoutbox")
    assert mine[settled + 1:settled + 3] == ["UPDATE inboxitem", "COMMIT"], mine
    assert mine.count("UPDATE replyoutbox") == 1


def _status(engine) -> str:
    with Session(engine) as session:
        return session.exec(select(InboxItem.status)).one()


async def test_a_worker_stopped_mid_update_hands_back_the_replies_sent_so_far(app, owner, engine):
    """`stop` cancels a row still sending: its replies sent so far are marked sent as the row is handed back."""
    import asyncio

    now = app.clock.now()
    with Session(engine) as session:
        inbox.store(session, "test", [("u:11", "test:dm-owner", {"text": "Visited Acme, wants 12 units"})], now)
        session.commit()
    hold = asyncio.Event()

    async def process(claim: inbox.Claim) -> None:
        replies = await app.handle(TextIn(owner.envelope(update_id="11"), claim.payload["text"]))
        receipt = outbox.receipt_of(replies[0])
        assert receipt is not None
        await receipt.sent()
        hold.set()
        await asyncio.sleep(3600)  # sending the next reply when the process is told to stop

    worker = app.open_inbox("w1").processor("test", process, idle_seconds=0.05)
    await worker.start()
    await asyncio.wait_for(hold.wait(), 10)
    await worker.stop(grace=0.1)
    with Session(engine) as session:
        assert [row.status for row in session.exec(select(ReplyOutbox)).all()] == ["sent"]
        row = session.exec(select(InboxItem)).one()
        assert (row.status, row.attempts) == (inbox.PENDING, 0)
    taken = stored_claim(engine, now + timedelta(seconds=1), key="u:11", worker="w2")
    again = await handled(app, taken, TextIn(owner.envelope(update_id="11"), "Visited Acme, wants 12 units"))
    assert again == []  # nothing sent twice, nothing stored twice
