"""A failed digest or weekly summary waits before it is taken again: `notice.retry_at`.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_at", core.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_column("retry_at")
