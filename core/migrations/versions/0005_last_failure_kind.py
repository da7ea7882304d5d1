"""The kind of the last failed delivery (`core.delivery.FailureKind`): `followup.last_failure`, `notice.last_failure`.

/status names the reason from this column; `last_error` stays the platform's own words, for logs.
Existing failed follow-ups get their kind from how the dispatcher used to start `last_error`.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# how core.scheduling.dispatch started `last_error` before this column existed
_OLD_PREFIXES = (("rate limited%", "rate_limited"), ("unreachable%", "unreachable"),
                 ("no chat for this member%", "no_chat"), ("no answer from the platform%", "uncertain"),
                 ("error: %", "internal"))


def upgrade() -> None:
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_failure", AutoString(), nullable=True))
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_failure", AutoString(), nullable=True))
    followup = sa.table("followup", sa.column("last_error", sa.String), sa.column("last_failure", sa.String))
    for pattern, kind in _OLD_PREFIXES:
        op.execute(followup.update().where(followup.c.last_failure.is_(None), followup.c.last_error.like(pattern))
                   .values(last_failure=kind))
    op.execute(followup.update().where(followup.c.last_failure.is_(None), followup.c.last_error.is_not(None))
               .values(last_failure="platform_error"))


def downgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_column("last_failure")
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.drop_column("last_failure")
