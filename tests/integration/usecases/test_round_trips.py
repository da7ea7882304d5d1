"""SQL round trips of logging a note in the common case (known customer and contact, a follow-up), counted
with a SQLAlchemy event listener: issue 17's bound of 5, on SQLite and PostgreSQL; what stays true meanwhile
(a redelivery writes nothing, both audit events are stored) and that the note card only reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, func, select

from core.models import AuditEvent, Customer, FollowUp, Interaction
from core.services import customers
from core.services import name_index as name_index_module
from core.uow import unit_of_work
from core.usecases.notes import NoteInput, NoteStatus, Source, ask_candidates, log_note, note_view
from tests.integration.usecases.test_notes import NOW, colleague, founder, log, new_customer, run

MAX_STATEMENTS = 5  # BEGIN/COMMIT not counted (the driver sends them without a cursor execute)
NOTE = "Visited Acme, Mr. Lee wants a quote for 200 units, follow up Friday"


def statements_of(engine, work) -> list[str]:
    seen: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen


@pytest.fixture
def index_floor_held(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every FLOOR_LAG (2 s) and DEEP_EVERY seconds the name index also reads the team's newest audit id, or
    reads from a lower floor: its periodic bookkeeping (core/services/name_index.py), one statement more for
    the first note after each period, not counted here (a slow machine takes 2 s between two statements)."""
    monkeypatch.setattr(name_index_module, "FLOOR_LAG", 3600.0)
    monkeypatch.setattr(name_index_module, "DEEP_EVERY", 3600.0)


def acme_with_lee(engine):
    actor = founder(engine)
    acme = new_customer(engine, actor, "Acme")
    with unit_of_work(engine) as uow:
        customers.add_contact(uow.session, actor, acme, "Mr. Lee")
    log(engine, actor, "Visited Acme, Mr. Lee wants a quote", "warm")  # the name index is built here
    return actor, acme


def rows(engine) -> tuple[int, int, int, int]:
    with unit_of_work(engine) as uow:
        return tuple(uow.session.exec(select(func.count()).select_from(m)).one()  # type: ignore[return-value]
                     for m in (Interaction, FollowUp, AuditEvent, Customer))


def test_a_common_note_takes_five_round_trips(engine, index_floor_held):
    actor, acme = acme_with_lee(engine)
    results = []
    seen = statements_of(engine, lambda: results.append(log(engine, actor, NOTE, "m1")[0]))
    note = results[0].note
    assert note.customer.id == acme and note.contact == "Mr. Lee" and note.follow_up is not None
    assert len(seen) <= MAX_STATEMENTS, "\n".join(seen)
    assert not any(s.startswith("SELECT interaction.") for s in seen)  # the source check goes with the customer
    assert sum(s.startswith("INSERT INTO interaction ") and "ON CONFLICT" in s for s in seen) == 1
    read = [s for s in seen if s.startswith("SELECT customer.")]  # with its contact and the source, in one query
    assert len(read) == 1 and "JOIN contact" in read[0] and "FROM interaction WHERE" in read[0]
    assert not any(s.startswith("SELECT contact.") for s in seen)
    assert sum(s.startswith("INSERT INTO auditevent ") for s in seen) == 1  # both events in one INSERT
    assert not any(s.startswith("SELECT followup.") for s in seen)  # the card uses the follow-up just written
    assert not any("ORDER BY customer.last_interaction_at" in s for s in seen)  # no recent-customers query
    with unit_of_work(engine) as uow:  # every write audited: the record and its follow-up, each once
        events = uow.session.exec(select(AuditEvent.entity, AuditEvent.entity_id, AuditEvent.customer_id)
                                  .where(AuditEvent.action == "create", col(AuditEvent.entity).in_(
                                      ["interaction", "followup"]))
                                  .order_by(col(AuditEvent.id).desc()).limit(2)).all()
    assert sorted(events) == [("followup", note.follow_up.id, acme), ("interaction", note.id, acme)]


def test_a_later_note_also_moves_the_customers_last_note_time_in_one_more_statement(engine, index_floor_held):
    actor, acme = acme_with_lee(engine)
    later = NoteInput(NOTE, Source("telegram", "100", "m2"))
    seen = statements_of(engine, lambda: run(engine, lambda uow: log_note(uow, actor, NOW + timedelta(hours=1),
                                                                          later)))
    updates = [s for s in seen if s.startswith("UPDATE customer SET last_interaction_at")]
    assert len(updates) == 1 and len(seen) <= MAX_STATEMENTS + 1, "\n".join(seen)
    with unit_of_work(engine) as uow:
        assert uow.session.get(Customer, acme).last_interaction_at == NOW + timedelta(hours=1)


def test_a_redelivered_common_note_writes_nothing(engine):
    actor, _acme = acme_with_lee(engine)
    first, _ = log(engine, actor, NOTE, "m1")
    before = rows(engine)
    results = []
    seen = statements_of(engine, lambda: results.append(log(engine, actor, NOTE, "m1")))
    again, events = results[0]
    assert again.status is NoteStatus.DUPLICATE and again.note.id == first.note.id and events == []
    assert rows(engine) == before
    assert seen and all(s.startswith("SELECT") for s in seen), "\n".join(seen)  # not even a no-op INSERT


def test_a_redelivered_note_that_would_add_a_customer_and_contact_adds_nothing(engine):
    actor, _acme = acme_with_lee(engine)
    log(engine, actor, "Called Acme about the invoice", "m7")  # stored under this message before
    before = rows(engine)
    # the same message read differently now (e.g. a transcript heard again): it names a new customer
    again, events = log(engine, actor, "Visited Globex, Ms. Wu wants samples, follow up Friday", "m7")
    assert again.status is NoteStatus.DUPLICATE and again.note.text == "Called Acme about the invoice"
    assert rows(engine) == before and events == []


def test_the_note_card_and_its_choices_only_read(engine):
    """The card (`note_view` → `view_of`) and whom it offers (`ask_candidates` → `_offered`, the recent
    customers, a colleague's customer's owner) send SELECTs only: nothing there to audit."""
    amy, acme = acme_with_lee(engine)
    bob = colleague(engine, amy, "2")
    globex = new_customer(engine, amy, "Globex")
    unfiled = log(engine, amy, "Called the client about pricing", "u1")[0].note
    filed = log(engine, amy, NOTE, "f1")[0].note
    bobs = log(engine, bob, "Visited Acme, follow up Friday", "b1")[0].note  # Amy's customer: Bob may not see it
    views: list = []

    def read() -> None:
        with unit_of_work(engine) as uow:
            views.extend([note_view(uow, amy, unfiled.id), note_view(uow, amy, filed.id),
                          ask_candidates(uow, amy, [acme, 10_000_000]), ask_candidates(uow, amy, []),
                          note_view(uow, bob, bobs.id)])

    seen = statements_of(engine, read)
    assert seen and all(s.startswith("SELECT") for s in seen), "\n".join(seen)
    unfiled_view, filed_view, asked, recent, bobs_view = views
    assert {c.id for c in unfiled_view.candidates} == {acme, globex} and unfiled_view.customer is None
    assert filed_view.customer.id == acme and [c.id for c in filed_view.candidates] == [globex]
    assert [c.id for c in asked] == [acme] and {c.id for c in recent} == {acme, globex}
    assert bobs_view.owner == "Amy" and bobs_view.customer.id == acme


def test_a_source_stored_meanwhile_returns_the_stored_record_without_a_savepoint(engine):
    from core.services import interactions

    actor = founder(engine)
    source = Source("telegram", "100", "m9")
    with unit_of_work(engine) as uow:  # a concurrent delivery stored it after the caller's look-up
        first, created = interactions.log_interaction(uow.session, actor, text="first", source=source,
                                                      source_checked=True)
        first_id = first.id
    assert created
    results: list = []
    with Session(engine) as session:  # rolled back: the audit guard would count the INSERT that did nothing
        seen = statements_of(engine, lambda: results.append(interactions.log_interaction(
            session, actor, text="again", source=source, source_checked=True)))
        again, created = results[0]
        assert not created and again.id == first_id and again.text == "first"
        assert not any("SAVEPOINT" in s for s in seen)
        session.flush()  # the transaction goes on: nothing half-written, no error pending
        assert session.exec(select(func.count()).select_from(Interaction)).one() == 1
        session.rollback()


def test_audit_events_are_written_in_the_order_recorded_and_a_savepoint_rolled_back_takes_its_own(engine):
    from core.services import audit

    actor = founder(engine)

    def record(session, action: str) -> None:
        audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action=action, entity="customer",
                     entity_id=1)

    with unit_of_work(engine) as uow:
        session = uow.session
        for action in ("a1", "a2"):
            record(session, action)
        savepoint = session.begin_nested()  # the session flushes a1, a2 first
        record(session, "b1")
        session.flush()  # written inside the savepoint
        savepoint.rollback()
        savepoint = session.begin_nested()
        record(session, "b2")  # still pending: leaves with its savepoint
        savepoint.rollback()
        record(session, "a3")
        assert session.exec(select(AuditEvent.action).order_by(col(AuditEvent.id))).all()[-3:] == [
            "a1", "a2", "a3"]  # the query's autoflush wrote a3
    with unit_of_work(engine) as uow:
        actions = uow.session.exec(select(AuditEvent.action).where(AuditEvent.entity == "customer",
                                                                   AuditEvent.entity_id == 1)
                                   .order_by(col(AuditEvent.id))).all()
    assert actions == ["a1", "a2", "a3"]
