"""`chatcrm migrate`: a fresh database gets the schema at the newest migration; running it again changes nothing."""

from __future__ import annotations

import uuid

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel
from typer.testing import CliRunner

import core.models  # noqa: F401 - registers every table on SQLModel.metadata
from bot.cli import build_app
from core.db import alembic_config, make_engine
from tests.conftest import _admin_engine, drop_postgres, postgres_url


def migrate(url: str):
    return CliRunner().invoke(build_app(), ["migrate"], env={"DATABASE_URL": url})


def assert_at_head(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
        with engine.connect() as connection:
            assert set(MigrationContext.configure(connection).get_current_heads()) == heads
        tables = set(inspect(engine).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables, set(SQLModel.metadata.tables) - tables
        return tables
    finally:
        engine.dispose()


def check_migrate_twice(url: str) -> None:
    first = migrate(url)
    assert first.exit_code == 0, first.output
    assert "database is up to date" in first.stdout
    tables = assert_at_head(url)
    again = migrate(url)
    assert again.exit_code == 0, again.output
    assert assert_at_head(url) == tables


def test_a_fresh_sqlite_file_is_migrated_to_head_and_again_is_fine(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config/chatcrm.toml
    path = tmp_path / "fresh" / "crm.db"
    path.parent.mkdir()
    url = f"sqlite:///{path}"
    check_migrate_twice(url)
    assert str(path) in migrate(url).stdout


@pytest.mark.postgres
def test_a_fresh_postgres_database_is_migrated_to_head_and_again_is_fine(postgres_template, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = f"chatcrm_migrate_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))  # empty: not cloned from the migrated template
    admin.dispose()
    try:
        check_migrate_twice(postgres_url(name))
    finally:
        drop_postgres(name)


def test_a_bad_setting_stops_migrate_with_a_readable_message(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(build_app(), ["migrate"], env={"DEFAULT_TIMEZONE": "Mars/Base"})
    assert result.exit_code == 2
    assert "a setting is wrong" in result.stderr and "Mars/Base" in result.stderr
