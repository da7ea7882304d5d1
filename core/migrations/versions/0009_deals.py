"""Deals, team pipeline stages, stage history and payments to collect (issue 15).

`deal` gains exact amounts (NUMERIC(18,2)), probability, expected close, won/lost times and reason, last
activity, its source note and an index (team_id, stage); the old default stage "lead" becomes "initial".
New `pipelinestage` (a team's funnel; defaults are created lazily from config/stages.toml) and
`dealstagechange` (every stage move). `followup` gains kind ("payment": money to collect), amount, currency;
`team` gains stalled_days.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import core.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_deal = sa.table("deal", sa.column("stage", sa.String()), sa.column("updated_at", core.models.UTCDateTime()),
                 sa.column("last_activity_at", core.models.UTCDateTime()))


def upgrade() -> None:
    op.create_table(
        "pipelinestage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("key", AutoString(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("outcome", AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "key", name="uq_pipelinestage_team_key"),
    )
    with op.batch_alter_table("pipelinestage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pipelinestage_team_id"), ["team_id"], unique=False)

    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stalled_days", sa.Integer(), nullable=False, server_default="14"))

    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", AutoString(), nullable=False, server_default="followup"))
        batch_op.add_column(sa.Column("amount", core.models.Money(), nullable=True))
        batch_op.add_column(sa.Column("currency", AutoString(), nullable=True))

    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.alter_column("amount", existing_type=sa.Float(), type_=core.models.Money(), existing_nullable=True,
                              postgresql_using="amount::numeric(18,2)")
        batch_op.add_column(sa.Column("probability", sa.Integer(), nullable=False, server_default="10"))
        batch_op.add_column(sa.Column("expected_close", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("won_at", core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lost_at", core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lost_reason", AutoString(), nullable=True))
        batch_op.add_column(sa.Column("last_activity_at", core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("source_interaction_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_deal_source_interaction", "interaction", ["source_interaction_id"], ["id"])
        batch_op.create_index("ix_deal_team_stage", ["team_id", "stage"], unique=False)
    bind = op.get_bind()
    bind.execute(_deal.update().values(last_activity_at=_deal.c.updated_at))
    bind.execute(_deal.update().where(_deal.c.stage == "lead").values(stage="initial"))
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.alter_column("last_activity_at", existing_type=core.models.UTCDateTime(timezone=True),
                              nullable=False)

    op.create_table(
        "dealstagechange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("from_stage", AutoString(), nullable=True),
        sa.Column("to_stage", AutoString(), nullable=False),
        sa.Column("at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["deal_id"], ["deal.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dealstagechange", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dealstagechange_deal_id"), ["deal_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dealstagechange", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dealstagechange_deal_id"))
    op.drop_table("dealstagechange")
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.drop_index("ix_deal_team_stage")
        batch_op.drop_constraint("fk_deal_source_interaction", type_="foreignkey")
        batch_op.drop_column("source_interaction_id")
        batch_op.drop_column("last_activity_at")
        batch_op.drop_column("lost_reason")
        batch_op.drop_column("lost_at")
        batch_op.drop_column("won_at")
        batch_op.drop_column("expected_close")
        batch_op.drop_column("probability")
        batch_op.alter_column("amount", existing_type=core.models.Money(), type_=sa.Float(), existing_nullable=True)
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.drop_column("currency")
        batch_op.drop_column("amount")
        batch_op.drop_column("kind")
    if op.get_bind().dialect.name == "sqlite":  # SQLite drops a column in place (a copied team table would
        op.execute("ALTER TABLE team DROP COLUMN stalled_days")  # break every foreign key to it)
    else:
        op.drop_column("team", "stalled_days")
    with op.batch_alter_table("pipelinestage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pipelinestage_team_id"))
    op.drop_table("pipelinestage")
