"""Handover and temporary cover (issue 16): the `cover` table (while a member is away, their nudges go to a
colleague until a date). A handover itself only moves owners, so it needs no schema.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cover",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("cover_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["cover_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["member.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cover", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cover_team_id"), ["team_id"], unique=False)
        batch_op.create_index("ix_cover_member_end", ["member_id", "ends_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cover", schema=None) as batch_op:
        batch_op.drop_index("ix_cover_member_end")
        batch_op.drop_index(batch_op.f("ix_cover_team_id"))
    op.drop_table("cover")
