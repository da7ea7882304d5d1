"""The durable inbox: every update stored before it is acknowledged (issue 17).

Reserved in advance so parallel work keeps one linear chain; filled in by the work it names.

Revision ID: 0010
Revises: 0009
"""

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
