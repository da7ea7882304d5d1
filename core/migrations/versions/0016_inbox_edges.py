"""Every platform's updates through the inbox (issue 17): no schema change.

Telegram webhooks and Slack (HTTP, Socket Mode) store their updates in the `inboxitem` table of 0010 as they are:
the key (update id, event id, trigger id) is unique per platform there, and the chat key orders the rows. Kept
as an empty step so the chain stays linear.

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
