"""The shared send limiter's slots (issue 17): `sendslot`, one row per platform and chat ('' for the platform).

core.scheduling.shared_limits reserves each departure with one statement on these rows, so every process on one
database keeps Telegram's 30/s and 1/s per chat (and Slack's per-channel limit) together.

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import core.models

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sendslot",
        sa.Column("platform", AutoString(), nullable=False),
        sa.Column("chat", AutoString(), nullable=False),
        sa.Column("next_free_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "chat"),
    )


def downgrade() -> None:
    op.drop_table("sendslot")
