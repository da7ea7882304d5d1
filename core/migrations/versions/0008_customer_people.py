"""Customer e-mails and notes from contacts and customer lists (issue 13).

Reserved in advance so parallel work keeps one linear chain; filled in by the work it names.

Revision ID: 0008
Revises: 0007
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
