"""The database schema as the bot and the CLI see it: bring it to the newest migration.

A thin door onto `core.db.upgrade` (Alembic, under a PostgreSQL advisory lock so that several processes
starting at once do not race), so the chat layer needs no storage module to start.
"""

from __future__ import annotations

from sqlalchemy import Engine

from core.db import make_engine, upgrade


def upgrade_schema(engine: Engine) -> None:
    """Upgrade the app's database to the newest migration; safe to call from several processes at once."""
    upgrade(engine)


def upgrade_database(url: str) -> str:
    """`chatcrm migrate`: upgrade the database at `url`; returns its URL without the password, to show."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        return engine.url.render_as_string(hide_password=True)
    finally:
        engine.dispose()
