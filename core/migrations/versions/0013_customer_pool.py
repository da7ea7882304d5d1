"""The customer pool (issue 16): `team` gains pool_enabled, pool_days, pool_warn_days, pool_claim_limit;
`customer` gains pooled_at, pooled_from_id, pool_warned_at, assigned_at, claimed_by_id and an index (team_id, pooled_at).

Columns are added and dropped in place (no copied table: every foreign key to `team` and `customer` stays).

Revision ID: 0013
Revises: 0012
"""
from typing import Any

import sqlalchemy as sa
from alembic import op

import core.models

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TEAM: tuple[tuple[str, Any, Any], ...] = (("pool_enabled", sa.Boolean(), sa.false()), ("pool_days", sa.Integer(), "60"),
        ("pool_warn_days", sa.Integer(), "3"), ("pool_claim_limit", sa.Integer(), "5"))
CUSTOMER: tuple[tuple[str, Any], ...] = (("pooled_at", core.models.UTCDateTime(timezone=True)), ("pooled_from_id", sa.Integer()),
            ("pool_warned_at", core.models.UTCDateTime(timezone=True)),
            ("assigned_at", core.models.UTCDateTime(timezone=True)), ("claimed_by_id", sa.Integer()))


def upgrade() -> None:
    for name, kind, default in TEAM:
        op.add_column("team", sa.Column(name, kind, nullable=False, server_default=default))
    for name, kind in CUSTOMER:
        op.add_column("customer", sa.Column(name, kind, nullable=True))
    op.create_index("ix_customer_team_pooled", "customer", ["team_id", "pooled_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_customer_team_pooled", table_name="customer")
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, columns in (("customer", [c[0] for c in CUSTOMER]), ("team", [t[0] for t in TEAM])):
        for name in reversed(columns):
            if sqlite:  # in place: a copied table would break the foreign keys to it when rows exist
                op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
            else:
                op.drop_column(table, name)
