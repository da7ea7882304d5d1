"""Readable audit: customer history (issue 16). `auditevent` gains `customer_id` (the customer an event is about,
filled by core.services.audit.record; no foreign key, so a deleted customer's events keep it) and an index
(team_id, customer_id, at) for /history, exports and erasure.

Existing events are backfilled where the row they name still tells its customer: events on a customer, and on an
interaction, follow-up, deal, contact, file or access row that still exists.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

INDEX = "ix_auditevent_team_customer_at"
# audit entity name → the table whose row carries customer_id
CARRIERS = ("interaction", "followup", "deal", "contact", "customerfile", "customeraccess")


def upgrade() -> None:
    op.add_column("auditevent", sa.Column("customer_id", sa.Integer(), nullable=True))
    op.create_index(INDEX, "auditevent", ["team_id", "customer_id", "at"], unique=False)
    op.execute("UPDATE auditevent SET customer_id = entity_id WHERE entity = 'customer' AND entity_id IS NOT NULL")
    for table in CARRIERS:
        op.execute(f"UPDATE auditevent SET customer_id = (SELECT t.customer_id FROM {table} t "
                   f"WHERE t.id = auditevent.entity_id) WHERE entity = '{table}' AND customer_id IS NULL "
                   "AND entity_id IS NOT NULL")


def downgrade() -> None:
    op.drop_index(INDEX, table_name="auditevent")
    if op.get_bind().dialect.name == "sqlite":  # in place, like the other migrations
        op.execute("ALTER TABLE auditevent DROP COLUMN customer_id")
    else:
        op.drop_column("auditevent", "customer_id")
