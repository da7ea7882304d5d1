"""Inbox claims on a partial index of open rows (issue 17).

`ix_inboxitem_open` holds only the rows still to do (`status IN ('pending', 'processing')`), ordered per chat:
PostgreSQL finds each chat's oldest open row with one `DISTINCT ON (chat_key)` walk over it (the claim of
core.services.inbox, `FOR UPDATE SKIP LOCKED`), SQLite's `NOT EXISTS` looks up earlier open rows in it; done rows,
nearly all of the table, are not in it.

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('pending', 'processing')")


def upgrade() -> None:
    with op.batch_alter_table("inboxitem", schema=None) as batch_op:
        batch_op.create_index("ix_inboxitem_open", ["chat_key", "id"], unique=False, postgresql_where=OPEN,
                              sqlite_where=OPEN)


def downgrade() -> None:
    with op.batch_alter_table("inboxitem", schema=None) as batch_op:
        batch_op.drop_index("ix_inboxitem_open")
