"""Stored search vectors for PostgreSQL search (issue 17 item 8).

PostgreSQL: `interaction.search_vector`, a generated column `to_tsvector('simple', search_text)` kept by the
server, replaces the expression behind the GIN index `ix_interaction_search`, so a GIN recheck or a walk by date
reads the stored vector instead of parsing every row's text again; `ix_interaction_team_time` also carries
`customer_id` and `id`, so the walk over a team's newest notes reads that index alone (core.services.search).
SQLite searches through its FTS5 table (0002) and is unchanged but for a virtual column of that name (computed
on read as NULL, never stored, never read), so both schemas match the models.

Adding a stored generated column rewrites the table on PostgreSQL (about a minute per million notes, the table
locked meanwhile).

Revision ID: 0017
Revises: 0016
"""
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE interaction ADD COLUMN search_vector TEXT GENERATED ALWAYS AS (NULL) VIRTUAL")
        return
    op.execute("ALTER TABLE interaction ADD COLUMN search_vector tsvector "
               "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED")
    op.execute("DROP INDEX IF EXISTS ix_interaction_search")
    op.execute("CREATE INDEX ix_interaction_search ON interaction USING gin (search_vector)")
    op.execute("DROP INDEX IF EXISTS ix_interaction_team_time")
    op.execute("CREATE INDEX ix_interaction_team_time ON interaction (team_id, occurred_at) INCLUDE (customer_id, id)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE interaction DROP COLUMN search_vector")
        return
    op.execute("DROP INDEX IF EXISTS ix_interaction_team_time")
    op.execute("CREATE INDEX ix_interaction_team_time ON interaction (team_id, occurred_at)")
    op.execute("DROP INDEX IF EXISTS ix_interaction_search")
    op.execute("ALTER TABLE interaction DROP COLUMN search_vector")
    op.execute("CREATE INDEX ix_interaction_search ON interaction USING gin (to_tsvector('simple', search_text))")
