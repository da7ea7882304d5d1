"""Customer e-mails and notes from contacts and customer lists (issue 13): `customer.emails` (a JSON list, like
`phones`) and `customer.notes` (text). The old single `email` stays readable; its value is copied into `emails`.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_customer = sa.table("customer", sa.column("id", sa.Integer()), sa.column("email", sa.String()),
                    sa.column("emails", sa.JSON()))


def upgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("emails", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.select(_customer.c.id, _customer.c.email).where(_customer.c.email.is_not(None),
                                                                             _customer.c.email != "")).all()
    if rows:
        bind.execute(_customer.update().where(_customer.c.id == sa.bindparam("row_id"))
                     .values(emails=sa.bindparam("value")),
                     [{"row_id": row_id, "value": [email]} for row_id, email in rows])
    bind.execute(_customer.update().where(_customer.c.emails.is_(None)).values(emails=[]))
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.alter_column("emails", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("notes")
        batch_op.drop_column("emails")
