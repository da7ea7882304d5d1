"""Full-text search over notes and transcripts, Chinese included.

`interaction.search_text` holds index terms (`core.text.search_tokens`): words for alphabetic
scripts and overlapping bigrams for Chinese, so text without spaces is searchable.
SQLite: an FTS5 table (unicode61 tokenizer) kept in step by triggers.
PostgreSQL: a GIN index on to_tsvector('simple', search_text).

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE interaction_fts USING fts5("
                   "search_text, content='interaction', content_rowid='id', tokenize='unicode61')")
        op.execute("CREATE TRIGGER interaction_fts_ai AFTER INSERT ON interaction BEGIN "
                   "INSERT INTO interaction_fts(rowid, search_text) VALUES (new.id, new.search_text); END")
        op.execute("CREATE TRIGGER interaction_fts_ad AFTER DELETE ON interaction BEGIN "
                   "INSERT INTO interaction_fts(interaction_fts, rowid, search_text) "
                   "VALUES ('delete', old.id, old.search_text); END")
        op.execute("CREATE TRIGGER interaction_fts_au AFTER UPDATE OF search_text ON interaction BEGIN "
                   "INSERT INTO interaction_fts(interaction_fts, rowid, search_text) "
                   "VALUES ('delete', old.id, old.search_text); "
                   "INSERT INTO interaction_fts(rowid, search_text) VALUES (new.id, new.search_text); END")
    else:
        op.execute("CREATE INDEX ix_interaction_search ON interaction "
                   "USING gin (to_tsvector('simple', search_text))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("interaction_fts_ai", "interaction_fts_ad", "interaction_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS interaction_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_interaction_search")
