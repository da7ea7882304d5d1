"""Stored search vectors for PostgreSQL search (issue 17 item 8).

PostgreSQL:
- `interaction.search_vector`, a generated column `to_tsvector('simple', search_text)` kept by the server,
  replaces the expression behind the GIN index `ix_interaction_search`, so a GIN recheck or a walk by date reads
  the stored vector instead of parsing every row's text again;
- `interaction.search_bits`, a generated 63-bit signature of the note's index terms (bit `md5(first 3
  characters of the term)` mod 63, see `search_bloom`): a note lacking a bit of the query's terms cannot match;
- `ix_interaction_team_time` also carries `customer_id`, `id` and `search_bits`, so the walk over a team's newest
  notes (core.services.search) reads that index alone and skips most notes before reading any row.
SQLite searches through its FTS5 table (0002) and is unchanged but for two virtual columns of those names
(computed on read as NULL, never stored, never read), so both schemas match the models.

Adding stored generated columns rewrites the table on PostgreSQL (about two minutes per million notes on two
cores, the table locked meanwhile).

Revision ID: 0017
Revises: 0016
"""
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# the bit of a term is the same in core.services.search._bloom; a note's bits are those of all its lexemes
BLOOM = """
CREATE FUNCTION search_bloom(vector tsvector) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(pg_catalog.bit_or(1::bigint << (
        ('x' || pg_catalog.left(pg_catalog.md5(pg_catalog.left(lexeme, 3)), 4))::bit(16)::int % 63)), 0)
    FROM pg_catalog.unnest(vector)
$$"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE interaction ADD COLUMN search_vector TEXT GENERATED ALWAYS AS (NULL) VIRTUAL")
        op.execute("ALTER TABLE interaction ADD COLUMN search_bits INTEGER GENERATED ALWAYS AS (NULL) VIRTUAL")
        return
    op.execute(BLOOM)
    op.execute("ALTER TABLE interaction "
               "ADD COLUMN search_vector tsvector "
               "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED, "
               "ADD COLUMN search_bits bigint "
               "GENERATED ALWAYS AS (search_bloom(to_tsvector('simple'::regconfig, search_text))) STORED")
    op.execute("DROP INDEX IF EXISTS ix_interaction_search")
    op.execute("CREATE INDEX ix_interaction_search ON interaction USING gin (search_vector)")
    op.execute("DROP INDEX IF EXISTS ix_interaction_team_time")
    op.execute("CREATE INDEX ix_interaction_team_time ON interaction (team_id, occurred_at) "
               "INCLUDE (customer_id, id, search_bits)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE interaction DROP COLUMN search_bits")
        op.execute("ALTER TABLE interaction DROP COLUMN search_vector")
        return
    op.execute("DROP INDEX IF EXISTS ix_interaction_team_time")
    op.execute("CREATE INDEX ix_interaction_team_time ON interaction (team_id, occurred_at)")
    op.execute("DROP INDEX IF EXISTS ix_interaction_search")
    op.execute("ALTER TABLE interaction DROP COLUMN search_bits, DROP COLUMN search_vector")
    op.execute("DROP FUNCTION IF EXISTS search_bloom(tsvector)")
    op.execute("CREATE INDEX ix_interaction_search ON interaction USING gin (to_tsvector('simple', search_text))")
