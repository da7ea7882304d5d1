"""Members' access to colleagues' customers (`customeraccess`): requested, granted or declined.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import core.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customeraccess",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", AutoString(), nullable=False),
        sa.Column("requested_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["member.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("customer_id", "member_id", name="uq_customer_access"),
    )
    with op.batch_alter_table("customeraccess", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customeraccess_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_customeraccess_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_customeraccess_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customeraccess", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customeraccess_member_id"))
        batch_op.drop_index(batch_op.f("ix_customeraccess_customer_id"))
        batch_op.drop_index(batch_op.f("ix_customeraccess_team_id"))
    op.drop_table("customeraccess")
