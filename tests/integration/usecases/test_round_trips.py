"""SQL round trips of logging a note in the common case (known customer and contact, a follow-up), counted
with a SQLAlchemy event listener: a regression bound, on SQLite and PostgreSQL (issue 17's target is 5)."""

from __future__ import annotations

from sqlalchemy import event

from core.services import customers
from core.uow import unit_of_work
from tests.integration.usecases.test_notes import founder, log, new_customer

MAX_STATEMENTS = 8  # BEGIN/COMMIT not counted (the driver sends them without a cursor execute)


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


def test_a_common_note_takes_few_round_trips(engine):
    actor = founder(engine)
    acme = new_customer(engine, actor, "Acme")
    with unit_of_work(engine) as uow:
        customers.add_contact(uow.session, actor, acme, "Mr. Lee")
    log(engine, actor, "Visited Acme, Mr. Lee wants a quote", "warm")  # the name index is built here
    results = []
    seen = statements_of(engine, lambda: results.append(
        log(engine, actor, "Visited Acme, Mr. Lee wants a quote for 200 units, follow up Friday", "m1")[0]))
    note = results[0].note
    assert note.customer.id == acme and note.contact == "Mr. Lee" and note.follow_up is not None
    assert len(seen) <= MAX_STATEMENTS, "\n".join(seen)
    assert sum(s.startswith("SELECT interaction.") for s in seen) == 1  # the source is looked up once
    assert not any(s.startswith("SELECT followup.") for s in seen)  # the card uses the follow-up just written
    assert not any("ORDER BY customer.last_interaction_at" in s for s in seen)  # no recent-customers query


def test_a_source_stored_meanwhile_returns_the_stored_record_without_a_savepoint(engine):
    from core.services import interactions
    from core.services.interactions import Source

    actor = founder(engine)
    source = Source("telegram", "100", "m9")
    with unit_of_work(engine) as uow:  # a concurrent delivery stored it after the caller's look-up
        first, created = interactions.log_interaction(uow.session, actor, text="first", source=source,
                                                      source_checked=True)
        first_id = first.id
    assert created
    results: list = []
    with unit_of_work(engine) as uow:
        seen = statements_of(engine, lambda: results.append(interactions.log_interaction(
            uow.session, actor, text="again", source=source, source_checked=True)))
        again, created = results[0]
        assert not created and again.id == first_id and again.text == "first"
        assert not any("SAVEPOINT" in s for s in seen)
        uow.session.flush()  # the transaction goes on: nothing half-written, no error pending

