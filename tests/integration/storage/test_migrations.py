"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
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


def test_each_migration_file_holds_the_revision_its_number_names():
    """`core.db.at_newest` skips Alembic at start by this rule: a file `NNNN_what.py` is revision "NNNN"."""
    from alembic.script import ScriptDirectory

    from core.db import MIGRATIONS, alembic_config, newest_revision

    scripts = ScriptDirectory.from_config(alembic_config(None))  # type: ignore[arg-type]
    revisions = {Path(script.path).name.split("_", 1)[0]: script.revision for script in scripts.walk_revisions()}
    assert revisions and all(number == revision for number, revision in revisions.items())
    assert len(revisions) == len(list((MIGRATIONS / "versions").glob("[0-9]*_*.py")))
    assert newest_revision() == scripts.get_current_head()


def test_a_database_at_the_newest_migration_is_known_without_alembic(engine, tmp_path):
    from core.db import at_newest, make_engine, upgrade

    assert at_newest(engine)  # the fixture's database was migrated
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert not at_newest(empty)
        upgrade(empty)
        assert at_newest(empty)
        with empty.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM customer")).scalar_one() == 0
    finally:
        empty.dispose()
