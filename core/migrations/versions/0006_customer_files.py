"""Files attached to customers (`customerfile`): a captioned document or photo, stored once per source message.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import core.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customerfile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("file_name", AutoString(), nullable=False),
        sa.Column("mime_type", AutoString(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", AutoString(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("platform_file_id", AutoString(), nullable=True),
        sa.Column("source_platform", AutoString(), nullable=True),
        sa.Column("source_chat", AutoString(), nullable=True),
        sa.Column("source_message_id", AutoString(), nullable=True),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.ForeignKeyConstraint(["interaction_id"], ["interaction.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_platform", "source_chat", "source_message_id", name="uq_customerfile_source"),
    )
    with op.batch_alter_table("customerfile", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customerfile_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_customerfile_sha256"), ["sha256"], unique=False)
        batch_op.create_index("ix_customerfile_customer_time", ["customer_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customerfile", schema=None) as batch_op:
        batch_op.drop_index("ix_customerfile_customer_time")
        batch_op.drop_index(batch_op.f("ix_customerfile_sha256"))
        batch_op.drop_index(batch_op.f("ix_customerfile_team_id"))
    op.drop_table("customerfile")
