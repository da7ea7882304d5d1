"""PostgreSQL/SQLite note search on a seeded database (bench/seed.py), per query and overall p50/p99.

    .venv/bin/python bench/seed.py postgresql://postgres@127.0.0.1:5432/bench_search [--in-order]
    .venv/bin/python -m bench.bench_search postgresql://postgres@127.0.0.1:5432/bench_search [--runs 20] [--no-freeze]

Searches as a salesperson (own and shared customers) and as the owner (the whole team), the
queries of bench/bench_core.py plus a rare and a missing term. The objects alive after the imports are
frozen out of the garbage collector first (`gc.freeze()`, as a long-running process would after its
start): on a loaded machine a full collection of them takes 100-250 ms and would otherwise land in about
one search in sixty; `--no-freeze` measures with it.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_core import SEARCHES, pct
from core.db import make_engine, session_scope
from core.models import Member
from core.services.actor import Actor
from core.services.search import search_notes

QUERIES = [*SEARCHES, "客戶4242", "nosuchword"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-freeze", action="store_true", help="leave the import-time objects to the collector")
    args = parser.parse_args()
    engine = make_engine(args.url)
    with session_scope(engine) as session:
        members = {role: session.exec(select(Member).where(Member.role == role).order_by(Member.id)).first()
                   for role in ("sales", "owner")}
        actors = {role: Actor.of(m) for role, m in members.items() if m is not None}
    if not args.no_freeze:
        gc.collect()
        gc.freeze()
    every: list[float] = []
    for role, actor in actors.items():
        for query in QUERIES:
            samples = []
            with session_scope(engine) as session:
                search_notes(session, actor, query)
                for _ in range(args.runs):
                    started = time.perf_counter()
                    hits = search_notes(session, actor, query)
                    samples.append(time.perf_counter() - started)
            every += samples
            print(f"{role:<5} {query!r:<16} hits {len(hits):>2}  p50 {pct(samples, .5):7.1f} ms  "
                  f"max {max(samples) * 1000:7.1f} ms")
    print(f"all   p50 {pct(every, .5):.1f} ms  p99 {pct(every, .99):.1f} ms  n={len(every)}")
    engine.dispose()


if __name__ == "__main__":
    main()
