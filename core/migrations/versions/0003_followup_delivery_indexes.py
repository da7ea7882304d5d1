"""Indexes the dispatcher needs at scale: retries due soon, and live claims.

`ix_followup_retry (status, next_attempt_at)` finds the next retry or working-hours start without a
scan; `ix_followup_claim (claimed_until)` finds members with a nudge in flight (one chat is served by
one process at a time). `ix_followup_due (status, due_at)` exists since 0001.

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.create_index("ix_followup_retry", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_followup_claim", ["claimed_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.drop_index("ix_followup_claim")
        batch_op.drop_index("ix_followup_retry")
