"""Migration 0011: member.removed_at/removed_by come and go in place, with members and rows pointing at them."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from core.db import alembic_config


def columns(engine) -> set[str]:
    return {column["name"] for column in sa.inspect(engine).get_columns("member")}


def test_downgrade_and_upgrade_keep_members_and_the_keys_to_them(engine):
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO team (id, name, timezone, language, country, silent_days,"
                                   " stalled_days, created_at) VALUES (1, 't', 'Asia/Taipei', 'en', 'TW', 30, 14,"
                                   " CURRENT_TIMESTAMP)"))
        connection.execute(sa.text(
            "INSERT INTO member (id, team_id, name, role, timezone, language, country, work_start, work_end,"
            " work_days, digest_time, active, removed_at, removed_by, created_at) VALUES (1, 1, 'Amy', 'owner',"
            " 'Asia/Taipei', 'en', 'TW', '09:00', '18:00', '12345', '08:30', false, CURRENT_TIMESTAMP, 1,"
            " CURRENT_TIMESTAMP)"))
        connection.execute(sa.text(
            "INSERT INTO chatidentity (id, team_id, member_id, platform, platform_user_id, chat_id, display_name,"
            " created_at) VALUES (1, 1, 1, 'test', 'u1', 'dm', '', CURRENT_TIMESTAMP)"))
    assert {"removed_at", "removed_by"} <= columns(engine)
    config = alembic_config(engine)
    command.downgrade(config, "0010")
    engine.dispose()
    assert not {"removed_at", "removed_by"} & columns(engine)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT name, active FROM member")).all() == [("Amy", False)]
        if engine.dialect.name == "sqlite":
            assert connection.execute(sa.text("PRAGMA foreign_key_check")).all() == []
    command.upgrade(config, "head")
    engine.dispose()
    assert {"removed_at", "removed_by"} <= columns(engine)
