"""Every platform's updates through the inbox (issue 17).

Reserved in advance so parallel work keeps one linear chain; filled in by the work it names.

Revision ID: 0016
Revises: 0015
"""

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
