"""/pipeline time (issue 15 item 3): `core.usecases.deals.pipeline` for a manager (the team, per salesperson)
and for one salesperson, over a seeded database with deals (aggregation in SQL: one GROUP BY, two small lists,
one count).

    .venv/bin/python -m bench.bench_pipeline sqlite:///bench/out/pipeline.db --deals 50000
    .venv/bin/python -m bench.bench_pipeline postgresql+psycopg://postgres@127.0.0.1:5432/bench_pipeline --deals 50000

Seeding reuses bench/seed.py and bench/bench_reports.py (`seed_deals`); `--no-seed` times an existing database.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, datetime

from sqlalchemy import select

from bench.bench_reports import seed_deals, timed
from bench.seed import seed
from core.db import make_engine
from core.models import Member
from core.services.actor import Actor
from core.uow import unit_of_work
from core.usecases import deals


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--follow-ups", type=int, default=10_000)
    parser.add_argument("--deals", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--no-seed", action="store_true")
    args = parser.parse_args()
    if not args.no_seed:
        start = time.perf_counter()
        seed(args.url, members=args.members, customers=args.customers, interactions=args.interactions,
             follow_ups=args.follow_ups)
        seed_deals(args.url, args.deals, rng=random.Random(7))
        print(f"seeded in {time.perf_counter() - start:.0f} s")
    engine = make_engine(args.url)
    with unit_of_work(engine) as uow:
        owner = uow.session.exec(select(Member).where(Member.role == "owner")).scalars().first()  # type: ignore[attr-defined]
        sales = uow.session.exec(select(Member).where(Member.role == "sales")).scalars().first()  # type: ignore[attr-defined]
        actors = {"manager (team)": Actor.of(owner)}
        if sales is not None:
            actors["salesperson (own)"] = Actor.of(sales)
    now = datetime.now(UTC)
    for label, actor in actors.items():
        def run(actor: Actor = actor) -> deals.PipelineView:
            with unit_of_work(engine) as uow:
                return deals.pipeline(uow, actor, now)

        view = run()
        p50, p99 = timed(run, args.runs)
        print(f"/pipeline {label}: {sum(r.deals for r in view.totals)} deals, {len(view.members)} members, "
              f"{view.stalled_count} stalled: p50 {p50:.1f} ms, p99 {p99:.1f} ms over {args.runs} runs")
    print(f"load average {os.getloadavg()[0]:.1f}")
    engine.dispose()


if __name__ == "__main__":
    main()
