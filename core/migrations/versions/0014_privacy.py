"""Privacy requests (issue 16): `customer.erased_at`, set when an erasure left only an anonymous shell.

Added and dropped in place (no copied table: every foreign key to `customer` stays).

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customer", sa.Column("erased_at", core.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # in place: a copied table would break the foreign keys to it
        op.execute("ALTER TABLE customer DROP COLUMN erased_at")
    else:
        op.drop_column("customer", "erased_at")
