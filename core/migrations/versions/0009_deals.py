"""Deals, team pipeline stages, stage history and payments to collect (issue 15).

Reserved in advance so parallel work keeps one linear chain; filled in by the work it names.

Revision ID: 0009
Revises: 0008
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
