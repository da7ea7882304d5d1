"""Privacy requests: export and erasure (issue 16).

Reserved in advance so parallel work keeps one linear chain; filled in by the work it names.

Revision ID: 0014
Revises: 0013
"""

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
