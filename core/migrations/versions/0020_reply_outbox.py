"""The reply outbox: replies stored in the update's transaction and sent from there (issue 17).

The lost-reply bookkeeping moves here: a `lost_reply` notice still pending (an answer the member has not yet been
told about) becomes a `lost` outbox row, so their next message still owns up to it.

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import core.models

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replyoutbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", AutoString(), nullable=False),
        sa.Column("update_key", AutoString(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("reply", sa.JSON(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("status", AutoString(), nullable=False),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "update_key", "position", name="uq_replyoutbox_reply"),
    )
    with op.batch_alter_table("replyoutbox", schema=None) as batch_op:
        batch_op.create_index("ix_replyoutbox_member_status", ["member_id", "status"], unique=False)
    # the notice key was "lost:<platform>:<update key>"; the platform part is kept in the key, not parsed out
    op.execute("INSERT INTO replyoutbox (platform, update_key, position, team_id, member_id, status, created_at) "
               "SELECT '', key, 0, team_id, member_id, 'lost', created_at FROM notice "
               "WHERE kind = 'lost_reply' AND status = 'pending'")
    op.execute("DELETE FROM notice WHERE kind = 'lost_reply'")


def downgrade() -> None:
    op.execute("INSERT INTO notice (team_id, member_id, key, kind, status, attempts, created_at) "
               "SELECT team_id, member_id, CASE WHEN platform = '' THEN update_key "  # a notice moved in by upgrade
               "ELSE substr('lost:' || platform || ':' || update_key, 1, 200) END, 'lost_reply', "
               "'pending', 0, min(created_at) FROM replyoutbox "
               "WHERE status = 'lost' AND member_id IS NOT NULL AND team_id IS NOT NULL "
               "GROUP BY team_id, member_id, platform, update_key")
    with op.batch_alter_table("replyoutbox", schema=None) as batch_op:
        batch_op.drop_index("ix_replyoutbox_member_status")
    op.drop_table("replyoutbox")
