"""Search on PostgreSQL takes several paths (a rare term's bounded GIN lookup, a walk over the newest notes, the
GIN index below the walked part); each returns the newest visible matches. The term frequencies that choose
the path and the bounds are set so a few rows exercise every path; SQLite runs the same cases through FTS5."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from core.db import session_scope
from core.models import Interaction
from core.services import customers, interactions, search
from core.services.search import search_notes
from tests.integration.storage.test_services import _join, _team

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
COMMON = {"day": 1.0, "send": 0.3, "the": 0.3, "revised": 0.6, "quote": 0.6, "for": 0.3, "bob": 0.3, "visited": 0.5,
          "拜访": 0.5, "王总": 0.5}


@pytest.mark.parametrize(("frequencies", "rare_cap", "walk"), [
    ({}, 100, 100),  # every term rare: the GIN lookup holds every match
    ({}, 2, 100),  # the lookup reads more than its cap: the walk finds them
    (COMMON, 100, 100),  # common terms: the walk
    (COMMON, 100, 4),  # the walk's window is too short: the GIN index below it
    (COMMON, 100, 1),
])
def test_every_path_finds_the_newest_visible_matches(engine, monkeypatch, frequencies, rare_cap, walk):
    monkeypatch.setattr(search, "_frequencies", lambda session: frequencies)
    monkeypatch.setattr(search, "RARE_CAP", rare_cap)
    monkeypatch.setattr(search, "WALK", walk)
    with session_scope(engine) as session:
        owner = _team(session)
        amy, bob = _join(session, owner, "2"), _join(session, owner, "3")
        mine = customers.create_customer(session, amy, "大同五金行")
        theirs = customers.create_customer(session, bob, "永豐電子")
        for day in range(12):
            at = NOW - timedelta(days=day)
            interactions.log_interaction(session, amy, text=f"day {day}: send the revised quote" if day % 3 == 0
                                         else f"day {day}: visited", customer_id=mine.id, occurred_at=at)
            interactions.log_interaction(session, bob, text=f"day {day}: revised quote for Bob", customer_id=theirs.id,
                                         occurred_at=at)
        found = [i.text for i, _ in search_notes(session, amy, "revised quote", limit=3)]
        assert found == ["day 0: send the revised quote", "day 3: send the revised quote",
                         "day 6: send the revised quote"]
        assert [i.text for i, _ in search_notes(session, amy, "day 11")] == ["day 11: visited"]  # not Bob's
        everything = search_notes(session, owner, "revised quote", limit=20)
        assert len(everything) == 16
        assert [i.occurred_at for i, _ in everything] == sorted((i.occurred_at for i, _ in everything), reverse=True)
        assert search_notes(session, amy, "nosuchword") == []


@pytest.mark.parametrize("frequencies", [{}, COMMON])
def test_deleted_unfiled_and_whole_bigram_terms(engine, monkeypatch, frequencies):
    """A deleted note and an unfiled one are never found; a Chinese bigram matches as a whole term, a single
    character as the start of one."""
    monkeypatch.setattr(search, "_frequencies", lambda session: frequencies)
    with session_scope(engine) as session:
        owner = _team(session)
        shop = customers.create_customer(session, owner, "大同五金行")
        kept, _ = interactions.log_interaction(session, owner, text="拜訪王總,報價單", customer_id=shop.id,
                                               occurred_at=NOW)
        gone, _ = interactions.log_interaction(session, owner, text="拜訪王總,刪掉的", customer_id=shop.id,
                                               occurred_at=NOW - timedelta(hours=1))
        interactions.log_interaction(session, owner, text="拜訪王總,還沒歸檔", occurred_at=NOW - timedelta(hours=2))
        gone.deleted_at = NOW
        session.add(gone)
        session.flush()
        assert [i.id for i, _ in search_notes(session, owner, "拜訪 王總")] == [kept.id]
        assert [i.id for i, _ in search_notes(session, owner, "王")] == [kept.id]  # 王 starts the term 王总
        assert [i.id for i, _ in search_notes(session, owner, "报价")] == [kept.id]  # script-folded
        assert search_notes(session, owner, "總報") == []  # the bigram 总报 is in no note


def test_frequencies_come_from_analyze(engine):
    """The term frequencies are ANALYZE's statistics of the stored vector: a term in every note is common."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL statistics")
    search._stats.clear()
    with session_scope(engine) as session:
        owner = _team(session)
        shop = customers.create_customer(session, owner, "大同五金行")
        for n in range(50):
            interactions.log_interaction(session, owner, text=f"報價 {n}", customer_id=shop.id,
                                         occurred_at=NOW - timedelta(minutes=n))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE interaction"))
    with session_scope(engine) as session:
        frequencies = search._frequencies(session)
        assert frequencies["报价"] == pytest.approx(1.0)
        assert search._share("报价", frequencies) == pytest.approx(1.0)
        assert search._share("4242", frequencies) is None  # in no frequent lexeme: rare
        assert [i.text for i, _ in search_notes(session, owner, "報價 7", limit=3)] == ["報價 7"]
        stored = session.connection().execute(select(Interaction.id).where(text("search_vector @@ '报价'"))).all()
        assert len(stored) == 50  # the generated column is filled by the server
    search._stats.clear()


def test_the_signature_bits_of_a_note_hold_every_term_that_finds_it(engine, monkeypatch):
    """`search_bits`, computed by PostgreSQL, holds the bit `_bloom` gives each term or prefix that matches the
    note, so the walk never skips a match; on SQLite the column is a NULL nobody reads."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the signature is PostgreSQL's")
    texts = ["拜訪大同五金行王總,他要A100一百件的報價", "Revised quotation for ÄRZTE GmbH: 3,500 units", "王 3 ab"]
    with session_scope(engine) as session:
        owner = _team(session)
        shop = customers.create_customer(session, owner, "大同五金行")
        for n, body in enumerate(texts):
            interactions.log_interaction(session, owner, text=body, customer_id=shop.id,
                                         occurred_at=NOW - timedelta(minutes=n))
        session.flush()
        stored = dict(session.connection().execute(text("SELECT text, search_bits FROM interaction")).all())
        for body in texts:
            for term in search._terms(body):
                for probe in {term, term[:3], term[:4]}:
                    mask = search._bloom([probe])
                    assert stored[body] & mask == mask, (body, probe)
        assert search._bloom(["王", "3", "ab"]) == 0  # too short to say anything: no bit, the walk reads every note
        assert search._bloom(["ärzte"]) == 0  # not ASCII: PostgreSQL lower-cases it by its own rules
        monkeypatch.setattr(search, "_frequencies", lambda session: {"quotation": 0.5, "ärzte": 0.5, "500": 0.5})
        assert [i.text for i, _ in search_notes(session, owner, "quota")] == [texts[1]]  # the walk, with the bits
        assert [i.text for i, _ in search_notes(session, owner, "ärz 500")] == [texts[1]]
