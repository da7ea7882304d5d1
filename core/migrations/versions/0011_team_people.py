"""Team roles, handover, cover, the customer pool (issue 16).

Reserved in advance so parallel work keeps one linear chain; filled in by the work it names.

Revision ID: 0011
Revises: 0010
"""

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
