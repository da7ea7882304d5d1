"""Team roles in chat (issue 16 part 1): `member` gains removed_at and removed_by.

A removed member keeps `active = False` (the column exists since 0001); when and by whom is kept here so /team
can say it. Added in place on SQLite (no copied member table: every foreign key to it would break), so
removed_by is a plain member id without a foreign key.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("member", sa.Column("removed_at", core.models.UTCDateTime(timezone=True), nullable=True))
    op.add_column("member", sa.Column("removed_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # in place: a copied member table would break the keys to it
        op.execute("ALTER TABLE member DROP COLUMN removed_by")
        op.execute("ALTER TABLE member DROP COLUMN removed_at")
    else:
        op.drop_column("member", "removed_by")
        op.drop_column("member", "removed_at")
