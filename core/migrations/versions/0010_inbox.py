"""The durable inbox: every update stored before it is acknowledged (issue 17).

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import core.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inboxitem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", AutoString(), nullable=False),
        sa.Column("key", AutoString(), nullable=False),
        sa.Column("chat_key", AutoString(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", AutoString(), nullable=False),
        sa.Column("claimed_by", AutoString(), nullable=True),
        sa.Column("claimed_until", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "key", name="uq_inbox_item"),
    )
    with op.batch_alter_table("inboxitem", schema=None) as batch_op:
        batch_op.create_index("ix_inboxitem_chat_status", ["chat_key", "status", "id"], unique=False)
        batch_op.create_index("ix_inboxitem_status_claimed", ["status", "claimed_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inboxitem", schema=None) as batch_op:
        batch_op.drop_index("ix_inboxitem_status_claimed")
        batch_op.drop_index("ix_inboxitem_chat_status")
    op.drop_table("inboxitem")
