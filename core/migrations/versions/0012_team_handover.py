"""Handover and temporary cover (issue 16).

Reserved in advance so parallel work keeps one linear chain; filled in by the work it names.

Revision ID: 0012
Revises: 0011
"""

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
