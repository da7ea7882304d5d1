"""Search over notes and transcripts, for Chinese text without spaces too.

Terms come from `core.text.search_tokens` (words, Chinese bigrams); every term must occur, each as a
prefix. SQLite walks the FTS5 index newest first in pages and stops once enough visible hits are
found; PostgreSQL first looks among the newest visible records, then walks the newest `WALK` records by
date (common terms), and only then uses its GIN full-text index (rare terms).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func as sql
from sqlalchemy import text
from sqlmodel import Session, col, select

from core.models import Customer, Interaction
from core.services.actor import Actor
from core.text import search_tokens

MAX_TERMS = 12
PAGE = 400
RECENT_WINDOW = 400
WALK = 20_000  # newest notes walked by date for a common term before the GIN index is asked


def _terms(query: str) -> list[str]:
    return list(dict.fromkeys(search_tokens(query)))[:MAX_TERMS]


def search_notes(session: Session, actor: Actor, query: str, *, limit: int = 10) -> list[tuple[Interaction, Customer]]:
    """Newest matching interactions of customers the actor can see."""
    terms = _terms(query)
    if not terms:
        return []
    base = (select(Interaction, Customer).join(Customer, col(Customer.id) == col(Interaction.customer_id))
            .where(actor.customer_filter(), col(Interaction.deleted_at).is_(None)))
    if session.get_bind().dialect.name == "sqlite":
        hits = _sqlite(session, base, terms, limit)
    else:
        hits = _postgres(session, actor, base, terms, limit)
    hits.sort(key=lambda pair: pair[0].occurred_at, reverse=True)
    return [(i, c) for i, c in hits[:limit]]


def _postgres(session: Session, actor: Actor, base: Any, terms: list[str], limit: int) -> list:
    """Common terms: look among the newest visible records first. Rare terms: the GIN index."""
    tsquery = " & ".join(f"'{t}':*" for t in terms)
    matches = (sql.to_tsvector(text("'simple'"), col(Interaction.search_text))
               .bool_op("@@")(sql.to_tsquery(text("'simple'"), tsquery)))
    newest = (select(Interaction.id).join(Customer, col(Customer.id) == col(Interaction.customer_id))
              .where(Interaction.team_id == actor.team_id, actor.customer_filter(),
                     col(Interaction.deleted_at).is_(None))
              .order_by(col(Interaction.occurred_at).desc()).limit(RECENT_WINDOW))
    ordered = col(Interaction.occurred_at).desc()
    # the same match on an expression the GIN index cannot serve: the planner underestimates prefix queries
    # (`'quote':*`) badly and would otherwise take the GIN bitmap (a term in 1/6 of a million notes: 170k
    # rows, ~200 ms) even to check 400 given ids
    walked = (sql.to_tsvector(text("'simple'"), sql.concat(col(Interaction.search_text), ""))
              .bool_op("@@")(sql.to_tsquery(text("'simple'"), tsquery)))
    window = list(session.exec(newest))
    hits = list(session.exec(base.where(col(Interaction.id).in_(window), walked).order_by(ordered).limit(limit)))
    if len(hits) >= limit:
        return hits
    # a common term: walk the newest WALK notes by date, stopping at `limit` hits
    bound = session.exec(select(Interaction.occurred_at).where(Interaction.team_id == actor.team_id)
                         .order_by(col(Interaction.occurred_at).desc()).offset(WALK).limit(1)).first()
    if bound is not None:
        hits = list(session.exec(base.where(col(Interaction.occurred_at) >= bound, walked)
                                 .order_by(ordered).limit(limit)))
        if len(hits) >= limit:
            return hits
    # a rare term: the GIN index
    return list(session.exec(base.where(matches).order_by(ordered).limit(limit)))


def _sqlite(session: Session, base: Any, terms: list[str], limit: int) -> list:
    match = " AND ".join('"' + t + '"*' for t in terms)
    found: list = []
    before = None
    while len(found) < limit:
        clause = "interaction_fts MATCH :m" + (" AND rowid < :before" if before is not None else "")
        rows: list[int] = list(session.connection().execute(
            text(f"SELECT rowid FROM interaction_fts WHERE {clause} ORDER BY rowid DESC LIMIT :page"),
            {"m": match, "before": before, "page": PAGE}).scalars().all())
        if not rows:
            break
        found.extend(session.exec(base.where(col(Interaction.id).in_(rows))))
        before = rows[-1]
        if len(rows) < PAGE:
            break
    return found
