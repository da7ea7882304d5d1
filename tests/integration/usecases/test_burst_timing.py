"""A forwarded burst is decided by when its messages were sent, not by when a busy worker got to them: a forward
processed late still joins its burst; the summary waits while the chat has updates stored in the inbox but not yet
processed; a burst found over but never summarised is summarised by the message that starts the next one."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select, update

from core.chat import ForwardOrigin
from core.models import InboxItem, Interaction
from core.services import inbox
from core.uow import unit_of_work
from core.usecases.forwards import UNPROCESSED_LOOK, ForwardedMessage, append_forward, end_burst
from tests.integration.usecases.test_notes import CHAT, NOW, founder, run

WINDOW = timedelta(seconds=3)
ORIGIN = ForwardOrigin("user", "Mr. Lee", "5005", NOW - timedelta(days=1))


def forward(message_id: str, text: str, sent_after: float) -> ForwardedMessage:
    return ForwardedMessage(CHAT, message_id, ORIGIN, NOW + timedelta(seconds=sent_after), text)


def test_a_forward_processed_after_the_quiet_period_still_joins_the_burst_it_was_sent_in(engine):
    amy = founder(engine)
    first, _ = run(engine, lambda uow: append_forward(uow, amy, NOW, forward("f1", "Price please", 0), window=WINDOW))
    late = NOW + timedelta(seconds=20)  # a busy worker: sent 1 s after the first, processed 20 s after it
    joined, _ = run(engine, lambda uow: append_forward(uow, amy, late, forward("f2", "200 units", 1), window=WINDOW))
    assert joined.note_id == first.note_id and not joined.started_burst and joined.ended is None
    with unit_of_work(engine) as uow:
        assert len(uow.session.exec(select(Interaction.id)).all()) == 1


def test_a_burst_over_but_not_summarised_is_summarised_by_the_next_burst(engine):
    amy = founder(engine)
    first, _ = run(engine, lambda uow: append_forward(uow, amy, NOW, forward("f1", "Price please", 0), window=WINDOW))
    run(engine, lambda uow: append_forward(uow, amy, NOW, forward("f2", "200 units", 1), window=WINDOW))
    later = NOW + timedelta(minutes=5)  # its timer never fired (a restart): a new forward, minutes later
    second, _ = run(engine, lambda uow: append_forward(uow, amy, later, forward("f3", "Thanks", 300), window=WINDOW))
    assert second.started_burst and second.note_id != first.note_id
    assert second.ended is not None and second.ended.note.id == first.note_id and second.ended.messages == 2
    # the old burst's timer, when it looks, finds the new burst open; the new one is summarised once, later
    end, _ = run(engine, lambda uow: end_burst(uow, amy.member_id, CHAT, later + timedelta(seconds=1)))
    assert end.summary is None and end.open_for is not None
    end, _ = run(engine, lambda uow: end_burst(uow, amy.member_id, CHAT, later + WINDOW))
    assert end.summary is not None and end.summary.note.id == second.note_id and end.summary.messages == 1


def test_the_summary_waits_while_the_chat_has_updates_stored_but_not_processed(engine):
    amy = founder(engine)
    with unit_of_work(engine) as uow:
        inbox.store(uow.session, "telegram", [("u:1", "telegram:100", {}), ("u:2", "telegram:100", {})], NOW)
    with unit_of_work(engine) as uow:
        rows = {row.key: row.id for row in uow.session.exec(select(InboxItem))}
    claim = inbox.Claim(rows["u:1"], "telegram", "u:1", "telegram:100", {}, attempts=1)
    with inbox.processing(claim):
        run(engine, lambda uow: (append_forward(uow, amy, NOW, forward("f1", "Price please", 0), window=WINDOW),
                                 inbox.mark_current_done(uow)))
    over = NOW + timedelta(seconds=30)
    end, _ = run(engine, lambda uow: end_burst(uow, amy.member_id, CHAT, over))
    assert end.summary is None and end.open_for == UNPROCESSED_LOOK  # u:2 may be the burst's next forward
    with unit_of_work(engine) as uow:  # u:2 turned out to be something else, processed
        uow.session.execute(update(InboxItem).where(col(InboxItem.id) == rows["u:2"]).values(status=inbox.DONE))
    end, _ = run(engine, lambda uow: end_burst(uow, amy.member_id, CHAT, over))
    assert end.summary is not None and end.summary.messages == 1
    end, _ = run(engine, lambda uow: end_burst(uow, amy.member_id, CHAT, over))
    assert end.summary is None and end.open_for is None  # claimed once


def test_a_backlog_processed_at_once_keeps_bursts_sent_apart_apart(engine):
    amy = founder(engine)
    at_once = NOW + timedelta(minutes=2)  # a restart: both bursts are processed in the same second
    first, _ = run(engine, lambda uow: append_forward(uow, amy, at_once, forward("f1", "Price please", 0),
                                                      window=WINDOW))
    run(engine, lambda uow: append_forward(uow, amy, at_once, forward("f2", "200 units", 1), window=WINDOW))
    second, _ = run(engine, lambda uow: append_forward(uow, amy, at_once, forward("f3", "Another topic", 10),
                                                       window=WINDOW))
    assert second.started_burst and second.note_id != first.note_id  # sent 9 s after the burst's last message
    assert second.ended is not None and second.ended.note.id == first.note_id and second.ended.messages == 2
