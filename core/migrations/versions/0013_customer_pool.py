"""The customer pool (issue 16).

Reserved in advance so parallel work keeps one linear chain; filled in by the work it names.

Revision ID: 0013
Revises: 0012
"""

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
