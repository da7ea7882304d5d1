"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import core.models  # noqa: F401  (registers the tables)

# created in SQL by migration 0002 on purpose, not by the models: FTS5 tables (SQLite), a GIN index (PostgreSQL)
SEARCH_INDEX = "ix_interaction_search"


def _name(change) -> str:
    item = change[1] if isinstance(change, tuple) else change[0][1]
    return str(getattr(item, "name", ""))


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as connection:
        changes = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    relevant = [c for c in changes if not (_name(c).startswith("interaction_fts") or _name(c) == SEARCH_INDEX)]
    assert relevant == []
