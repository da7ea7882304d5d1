"""One new row written in one round trip, the session's other pending changes left for its next flush.

`insert_loaded` sends `INSERT … RETURNING id` (optionally `ON CONFLICT (…) DO NOTHING`) on the session's
connection without flushing the session first, then attaches the row as loaded. What a use case recorded
before (its audit events) stays pending, so the audit rows of a whole update go to the database together at
the next flush or at the commit (`core.services.audit`), in the same transaction as the rows they describe.
The statement is built once per table and key, so each call only binds its values."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from sqlalchemy import Insert, Table, insert
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, SQLModel

__all__ = ["insert_loaded"]


def insert_loaded(session: Session, row: SQLModel, *, unique: Sequence[str] = ()) -> bool:
    """INSERT the new `row` and attach it to the session as loaded, with its id; `unique`: the columns of a
    unique key, `ON CONFLICT DO NOTHING`: False (nothing written, `row` left out of the session) when a row with
    that key exists. Rows the new one refers to must have their ids already (they were flushed)."""
    mapper = sa_inspect(type(row))
    (key,) = mapper.primary_key
    values = {c.key: getattr(row, c.key) for c in mapper.columns if c is not key}
    connection = session.connection()
    statement = _statement(mapper.local_table, tuple(unique), connection.dialect.name)
    new_id = connection.execute(statement, values).scalar()
    if new_id is None:
        return False
    setattr(row, key.key, new_id)
    make_transient_to_detached(row)
    session.add(row)
    return True


@cache
def _statement(table: Table, unique: tuple[str, ...], dialect: str) -> Insert:
    """The INSERT of `table`'s columns (those bound) returning its key; ON CONFLICT (`unique`) DO NOTHING."""
    (key,) = table.primary_key
    if not unique:
        return insert(table).returning(key)
    insert_of = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert_of(table).on_conflict_do_nothing(index_elements=list(unique)).returning(key)
