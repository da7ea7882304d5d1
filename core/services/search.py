"""Search over notes and transcripts, for Chinese text without spaces too.

Terms come from `core.text.search_tokens` (words, Chinese bigrams); every term must occur, each as a
prefix (a Chinese bigram is a whole index term: it can only match itself). SQLite walks the FTS5 index
newest first in pages and stops once enough visible hits are found.

PostgreSQL matches the stored `interaction.search_vector` (migration 0017) and picks its way by the
frequencies ANALYZE keeps for that column (`pg_stats.most_common_elems`, read once every few minutes):
- a term rarer than every frequent one (a customer number, a name, a word found nowhere) drives a GIN
  lookup, bounded: at most `RARE_CAP` notes are read, or the term was not rare and the walk follows;
- otherwise a walk over the team's newest notes by date, in one statement: the candidates come from the
  index `ix_interaction_team_time` alone (it carries `customer_id`, `id` and `search_bits`, a 63-bit
  signature of each note's terms: a note lacking one of the query's bits cannot match), a salesperson's are
  checked against the customers they see before any note row is read, then each remaining one against its
  stored vector by primary key, in date order, stopping at `limit` hits; what the newest `WALK` candidates
  did not hold is asked of the GIN index below them. Either way the result is the newest visible matches.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, and_, bindparam, or_, text, true
from sqlalchemy import func as sql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, col, select

from core.models import SEARCH_BITS, SEARCH_VECTOR, Customer, Interaction
from core.services.actor import Actor
from core.text import has_han, search_tokens

MAX_TERMS = 12
PAGE = 400
RARE_CAP = 600  # notes a "rare" term's GIN lookup may read before it counts as common
WALK = 4_000  # candidates (notes with every bit of the terms) walked by date before the GIN index takes the rest
STATS_TTL = 300.0  # seconds a reading of pg_stats is used
SHORT_PREFIX = 3  # a word shorter than this may be the prefix of many rare words: never "rare"

_stats_lock = threading.Lock()
_stats: dict[str, tuple[float, dict[str, float]]] = {}  # database URL → (read at, lexeme → share of notes)


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


# PostgreSQL


def _whole(term: str) -> bool:
    """A Chinese bigram is a whole index term: matching it exactly is the same as matching it as a prefix."""
    return len(term) == 2 and has_han(term[0]) and has_han(term[1])


def _tsquery(terms: list[str]) -> str:
    # terms are runs of letters and digits (core.text): no quote or backslash to escape
    return " & ".join(f"'{t}'" if _whole(t) else f"'{t}':*" for t in terms)


def _frequencies(session: Session) -> dict[str, float]:
    """The share of notes holding each frequent lexeme, from ANALYZE's statistics of `search_vector`."""
    key = session.get_bind().engine.url.render_as_string(hide_password=True)
    now = time.monotonic()
    with _stats_lock:
        cached = _stats.get(key)
    if cached is not None and now - cached[0] < STATS_TTL:
        return cached[1]
    row = session.connection().execute(text(
        "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
        "WHERE schemaname = current_schema() AND tablename = 'interaction' AND attname = 'search_vector'")).first()
    frequencies = dict(zip(row[0], row[1], strict=False)) if row is not None and row[0] is not None else {}
    with _stats_lock:
        _stats[key] = (now, frequencies)
    return frequencies


def _share(term: str, frequencies: dict[str, float]) -> float | None:
    """Estimated share of notes matching the term; None when no frequent lexeme matches it (it is rare)."""
    if _whole(term):
        return frequencies.get(term)
    found = [share for lexeme, share in frequencies.items() if lexeme.startswith(term)]
    if found:
        return min(1.0, sum(found))
    if len(term) < SHORT_PREFIX:
        return 0.05  # unknown: may prefix many rare words
    return None


def _postgres(session: Session, actor: Actor, base: Any, terms: list[str], limit: int) -> list:
    tsquery = sql.to_tsquery(text("'simple'"), bindparam("tsq", _tsquery(terms)))
    matches = SEARCH_VECTOR.bool_op("@@")(tsquery)  # what the GIN index serves
    # the same test on rows already chosen: an expression the GIN index cannot serve, so the planner reads those
    # rows rather than a term's whole posting list (it underestimates prefix terms)
    checked = sql.coalesce(SEARCH_VECTOR, text("''::tsvector")).bool_op("@@")(tsquery)
    ordered = (col(Interaction.occurred_at).desc(), col(Interaction.id).desc())
    frequencies = _frequencies(session)
    shares = {t: _share(t, frequencies) for t in terms}
    rare = [t for t, share in shares.items() if share is None]
    if rare:
        # the rare terms and the whole bigrams drive the lookup (a frequent prefix would read its whole posting list)
        driving = [t for t in terms if shares[t] is None or _whole(t)]
        lookup = SEARCH_VECTOR.bool_op("@@")(sql.to_tsquery(text("'simple'"), bindparam("rare", _tsquery(driving))))
        ids = list(session.exec(select(Interaction.id).where(Interaction.team_id == actor.team_id, lookup)
                                .limit(RARE_CAP + 1)))
        if len(ids) <= RARE_CAP:
            return list(session.exec(base.where(_among(ids), checked).order_by(*ordered).limit(limit)))
    # a walk over the team's newest notes: candidates from the team/time index alone (a note lacking a bit of the
    # terms' signature cannot match), a salesperson's filtered by customer before any note is read, each then
    # checked against its stored vector, stopping at `limit` hits
    candidates = select(Interaction.occurred_at, Interaction.id, Interaction.customer_id).where(
        Interaction.team_id == actor.team_id, col(Interaction.customer_id).is_not(None))
    mask = _bloom(terms)
    if mask:
        candidates = candidates.where(SEARCH_BITS.op("&")(bindparam("mask", mask, type_=BigInteger)) == mask)
    newest = candidates.order_by(*ordered).limit(WALK).subquery("newest")
    check = (select(Interaction.id).where(col(Interaction.id) == newest.c.id, checked,
                                          col(Interaction.deleted_at).is_(None))
             .offset(0).lateral("checked"))  # OFFSET 0: one primary-key lookup per candidate, in date order
    walk = select(check.c.id).select_from(newest).join(check, true())
    if not actor.sees_whole_team:
        walk = walk.join(Customer, col(Customer.id) == newest.c.customer_id).where(actor.customer_filter())
    ids = list(session.exec(walk.order_by(newest.c.occurred_at.desc(), newest.c.id.desc()).limit(limit)))
    hits = list(session.exec(base.where(_among(ids)).order_by(*ordered))) if ids else []
    if len(hits) >= limit:
        return hits
    # fewer hits than asked among the newest WALK notes: the GIN index below them
    cursor = session.exec(candidates.order_by(*ordered).offset(WALK - 1).limit(1)).first()
    if cursor is None:
        return hits
    return hits + list(session.exec(base.where(matches, _before((cursor[0], int(cursor[1] or 0)))).order_by(*ordered)
                                    .limit(limit - len(hits))))


def _bloom(terms: list[str]) -> int:
    """The bits every matching note has in `interaction.search_bits` (the SQL function `search_bloom`, migration
    0017): one per whole Chinese bigram or ASCII term of 3 characters or more, from its first 3 characters (a
    prefix's are those of every word it starts). Other scripts give none: PostgreSQL lower-cases lexemes by its own
    rules, which may not give back the folded term (core.text) the hash must see."""
    mask = 0
    for term in terms:
        if _whole(term) or (term.isascii() and len(term) >= 3):
            digest = hashlib.md5(term[:3].encode(), usedforsecurity=False).hexdigest()
            mask |= 1 << (int(digest[:4], 16) % 63)
    return mask


def _among(ids: list) -> Any:
    return col(Interaction.id) == sql.any_(bindparam("ids", [int(i) for i in ids], type_=ARRAY(Integer)))


def _before(cursor: tuple[datetime, int]) -> Any:
    at, last = cursor
    return and_(col(Interaction.occurred_at) <= at,
                or_(col(Interaction.occurred_at) < at, col(Interaction.id) < last))


# SQLite


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
