"""Scoring the note parser against the labelled corpus in tests/data/notes_corpus.jsonl."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from core.text import match_key
from core.understanding import CustomerIndex, KnownCustomer, NoteDraft, parse_note

DATA = Path(__file__).resolve().parents[2] / "data"
FIELDS = ("customer", "contact", "kind", "amounts", "due")


def load() -> tuple[list[dict], CustomerIndex]:
    rows = [json.loads(line) for line in (DATA / "notes_corpus.jsonl").read_text(encoding="utf-8").splitlines() if line]
    known = json.loads((DATA / "notes_known_customers.json").read_text(encoding="utf-8"))
    index = CustomerIndex(KnownCustomer(i, k["name"], tuple(k.get("aliases", ()))) for i, k in enumerate(known, 1))
    return rows, index


def field_ok(name: str, row: dict, draft: NoteDraft) -> bool:
    if name == "customer":
        if row["customer"] == "AMBIGUOUS":
            return not draft.customer_known and len(draft.customer_candidates) >= 2
        if row["customer"] is None:
            return draft.customer is None and not draft.customer_known
        return draft.customer is not None and match_key(draft.customer) == match_key(row["customer"])
    if name == "contact":
        expected = row["contact"]
        return (draft.contact is None) if expected is None else (
            draft.contact is not None and match_key(draft.contact) == match_key(expected))
    if name == "kind":
        return draft.kind == row["kind"]
    if name == "amounts":
        return sorted(float(a["value"]) for a in row["amounts"]) == sorted(float(a.value) for a in draft.amounts)
    due = draft.follow_up.due if draft.follow_up else None
    expected = datetime.fromisoformat(row["due"]) if row["due"] else None
    return due == expected


def score() -> tuple[dict[str, float], list[str]]:
    rows, index = load()
    right: dict[str, int] = defaultdict(int)
    misses: list[str] = []
    for row in rows:
        draft = parse_note(row["note"], now=datetime.fromisoformat(row["now"]), tz=row["tz"], customers=index)
        for name in FIELDS:
            if field_ok(name, row, draft):
                right[name] += 1
            else:
                got = draft.to_json()
                shown = got["follow_up"]["due"] if name == "due" and got["follow_up"] else got.get(name)
                misses.append(f"{name:8} {row['note']!r}: expected {row.get(name)!r}, got {shown!r}")
    return {name: right[name] / len(rows) for name in FIELDS}, misses
