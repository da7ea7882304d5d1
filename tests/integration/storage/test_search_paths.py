"""Search on PostgreSQL takes three paths (the newest window, a walk by date for common terms, the GIN
index for rare ones); each returns the newest visible matches. Windows shrunk so a few rows exercise them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.db import session_scope
from core.services import customers, interactions, search
from core.services.search import search_notes
from tests.integration.storage.test_services import _join, _team

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(("window", "walk"), [(2, 4), (2, 100), (100, 100)])
def test_every_path_finds_the_newest_visible_matches(engine, monkeypatch, window, walk):
    monkeypatch.setattr(search, "RECENT_WINDOW", window)
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
        assert len(search_notes(session, owner, "revised quote", limit=20)) == 16
