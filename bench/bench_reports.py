"""Report time (issue 15): the monthly team report and its chart over a seeded database with deals.

    .venv/bin/python bench/bench_reports.py sqlite:///bench/out/reports.db [--deals 10000 --customers 20000 ...]
    .venv/bin/python bench/bench_reports.py postgresql+psycopg://postgres@127.0.0.1:5432/bench_reports

Seeds one team (bench/seed.py: members, customers, interactions, follow-ups), then deals spread over the last
120 days across the stages with their stage changes, and payment follow-ups; then times
`core.usecases.reports.report_for` (month, owner: the whole team) and `bot.charts.report_chart` N times each
and prints p50/p99. Memory: RSS before and after the first chart (matplotlib and the font loaded lazily).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psutil
from sqlalchemy import insert, select

from bench.seed import seed
from core.db import make_engine
from core.models import Customer, Deal, DealStageChange, FollowUp, Member, Team
from core.services.actor import Actor
from core.uow import unit_of_work
from core.usecases import reports

LADDER = ["initial", "needs", "proposal", "won"]


def seed_deals(url: str, deals: int, *, rng: random.Random) -> None:
    engine = make_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        team_id = connection.execute(select(Team.id)).scalar_one()
        members = [m for (m,) in connection.execute(select(Member.id))]
        customers = [c for (c,) in connection.execute(select(Customer.id).limit(max(deals, 1000)))]
        rows, changes, payments = [], [], []
        for i in range(deals):
            created = now - timedelta(days=rng.uniform(0, 120))
            reached = rng.choices(range(4), weights=[40, 25, 20, 15])[0]
            lost = reached < 3 and rng.random() < 0.3
            moved = created
            history = []
            for step in range(1, reached + 1):
                moved = moved + timedelta(days=rng.uniform(0.5, 8))
                history.append((LADDER[step - 1], LADDER[step], min(moved, now)))
            closed = min(moved + timedelta(days=rng.uniform(0.5, 5)), now)
            if lost:
                history.append((LADDER[reached], "lost", closed))
            stage = "lost" if lost else LADDER[reached]
            rows.append({"id": i + 1, "team_id": team_id, "customer_id": rng.choice(customers),
                         "owner_id": rng.choice(members), "title": f"deal {i}", "stage": stage,
                         "amount": Decimal(rng.randrange(10, 2000) * 1000), "currency": "TWD" if i % 10 else "USD",
                         "probability": 50, "created_at": created, "updated_at": now, "last_activity_at": moved,
                         "won_at": history[-1][2] if stage == "won" else None,
                         "lost_at": closed if lost else None, "closed_at": closed if stage in ("won", "lost") else None})
            for source, target, at in history:
                changes.append({"team_id": team_id, "deal_id": i + 1, "member_id": rows[-1]["owner_id"],
                                "from_stage": source, "to_stage": target, "at": at})
            if stage == "won" and rng.random() < 0.2:
                payments.append({"team_id": team_id, "member_id": rows[-1]["owner_id"],
                                 "customer_id": rows[-1]["customer_id"], "due_at": now - timedelta(days=rng.uniform(-10, 30)),
                                 "action": "尾款", "kind": "payment", "amount": Decimal(30000), "currency": "TWD",
                                 "status": "pending", "attempts": 0, "created_at": now, "updated_at": now})
        for start in range(0, len(rows), 5000):
            connection.execute(insert(Deal), rows[start:start + 5000])
        for start in range(0, len(changes), 5000):
            connection.execute(insert(DealStageChange), changes[start:start + 5000])
        if payments:
            connection.execute(insert(FollowUp), payments)
    engine.dispose()


def timed(function, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--interactions", type=int, default=200_000)
    parser.add_argument("--follow-ups", type=int, default=20_000)
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--deals-only", action="store_true", help="add the deals to a database seeded before")
    args = parser.parse_args()
    if not args.no_seed:
        start = time.perf_counter()
        if not args.deals_only:
            seed(args.url, members=args.members, customers=args.customers, interactions=args.interactions,
                 follow_ups=args.follow_ups)
        seed_deals(args.url, args.deals, rng=random.Random(7))
        print(f"seeded in {time.perf_counter() - start:.0f} s")
    engine = make_engine(args.url)
    with unit_of_work(engine) as uow:
        owner = uow.session.get(Member, uow.session.execute(select(Member.id).where(Member.role == "owner")).scalar())
        assert owner is not None
        actor = Actor.of(owner)
    now = datetime.now(UTC)

    def month() -> reports.Report:
        with unit_of_work(engine) as uow:
            return reports.report_for(uow, actor, now, "month")

    report = month()
    p50, p99 = timed(month, args.runs)
    print(f"monthly team report ({len(report.members)} members, {sum(s.deals for s in report.stages)} deals in the "
          f"stages): p50 {p50:.0f} ms, p99 {p99:.0f} ms over {args.runs} runs")
    from bot.charts import report_chart

    process = psutil.Process(os.getpid())
    before = process.memory_info().rss
    report_chart(report, "zh-Hant", period_label="本月")
    after = process.memory_info().rss
    p50, p99 = timed(lambda: report_chart(report, "zh-Hant", period_label="本月"), max(5, args.runs // 3))
    print(f"chart: p50 {p50:.0f} ms, p99 {p99:.0f} ms; RSS +{(after - before) / 2**20:.0f} MB at the first chart")
    print(f"load average {os.getloadavg()[0]:.1f}")
    engine.dispose()


if __name__ == "__main__":
    main()
