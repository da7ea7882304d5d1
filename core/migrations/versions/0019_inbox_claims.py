"""Inbox claims on partial indexes of open rows (issue 17).

Both hold only the rows still to do (`status IN ('pending', 'processing')`); done rows, nearly all of the table,
are not in them. The claim (core.services.inbox, one statement with `FOR UPDATE SKIP LOCKED` on PostgreSQL) walks
the open rows oldest first by `ix_inboxitem_open_id` and keeps a chat's head by looking up earlier open rows of the
chat in `ix_inboxitem_open` (chat_key, id).

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
        batch_op.create_index("ix_inboxitem_open_id", ["id"], unique=False, postgresql_where=OPEN,
                              sqlite_where=OPEN)


def downgrade() -> None:
    with op.batch_alter_table("inboxitem", schema=None) as batch_op:
        batch_op.drop_index("ix_inboxitem_open_id")
        batch_op.drop_index("ix_inboxitem_open")
