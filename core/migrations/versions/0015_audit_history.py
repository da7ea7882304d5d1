"""Readable audit: customer history (issue 16).

Reserved in advance so parallel work keeps one linear chain; filled in by the work it names.

Revision ID: 0015
Revises: 0014
"""

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
