"""Migration 0008: a customer's old single e-mail is read into `emails`, and the way back keeps the schema sound."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command

from core.db import alembic_config


def test_an_old_email_moves_into_emails_and_notes_start_empty(engine):
    config = alembic_config(engine)
    command.downgrade(config, "0007")
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO team (id, name, timezone, language, country, silent_days, created_at)"
                                   " VALUES (1, 't', 'Asia/Taipei', 'en', 'TW', 30, CURRENT_TIMESTAMP)"))
        for cid, email in ((1, "wang@datong.com.tw"), (2, None)):
            connection.execute(sa.text(
                "INSERT INTO customer (id, team_id, name, name_key, aliases, phones, email, tags, shared, important,"
                " created_at, updated_at) VALUES (:id, 1, :name, :name, '[]', '[]', :email, '[]', false, false,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"id": cid, "name": f"c{cid}", "email": email})
    command.upgrade(config, "0008")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT id, email, emails, notes FROM customer ORDER BY id")).all()
    decoded = [(cid, email, emails if isinstance(emails, list) else json.loads(emails), notes)
               for cid, email, emails, notes in rows]
    assert decoded == [(1, "wang@datong.com.tw", ["wang@datong.com.tw"], None), (2, None, [], None)]
    command.upgrade(config, "head")
