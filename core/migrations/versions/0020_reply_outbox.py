"""Replies stored in the update's transaction and sent from there (issue 17). Reserved step; empty until filled.

Revision ID: 0020
Revises: 0019
"""

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
