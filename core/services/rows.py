"""One new row written in one round trip, the session's other pending changes left for its next flush.

`insert_loaded` sends `INSERT … RETURNING id` (optionally `ON CONFLICT (…) DO NOTHING`) without flushing the
session first and then attaches the row as loaded. What a use case recorded before (its audit events) stays
pending, so the audit rows of a whole update go to the database together in one multi-row INSERT at the next
flush or at the commit, in the same transaction as the rows they describe."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Insert, insert
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
    statement: Insert = insert(type(row)).values(**values)
    if unique:
        dialect = session.get_bind().dialect.name
        insert_of = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert_of(type(row)).values(**values).on_conflict_do_nothing(index_elements=list(unique))
    new_id = session.execute(statement.returning(key).execution_options(autoflush=False)).scalar()
    if new_id is None:
        return False
    setattr(row, key.key, new_id)
    make_transient_to_detached(row)
    session.add(row)
    return True
