"""Nudge scheduler benchmarks (issue 7).

    .venv/bin/python bench/bench_nudges.py [--postgres postgresql://postgres@127.0.0.1:5432/test] [--skip-burst]

(a) start-up with 100,000 pending follow-ups: a fresh process builds the bot (idle), then starts the
    scheduler (APScheduler + the first full sweep); wall time and RSS above idle. SQLite, and
    PostgreSQL with --postgres (a scratch database is created and dropped).
(b) 10,000 nudges due at the same moment for 2,000 members (one chat each), through the real
    TelegramAdapter (python-telegram-bot) to the fake Bot API enforcing Telegram's limits (30/s
    overall, 1/s per chat, 429 beyond): delivered, duplicates, sustained rate, 429s.
(c) due → arrival delay under light load (about 2 nudges/s, below every limit), real clock.

The fake server runs in its own process, like a remote platform would.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from core.db import make_engine, upgrade
from core.models import ChatIdentity, Customer, FollowUp, Member, Team

PENDING, BURST, BURST_MEMBERS, LIGHT = 100_000, 10_000, 2_000, 240


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


# -- seeding ---------------------------------------------------------------------------------------
def seed(url: str, *, members: int, chats: bool, follow_ups: list[tuple[int, datetime, str]]) -> list[int]:
    """A team with `members` members (Telegram chat = 10_000 + i) and the given (member index, due, action)."""
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        team = conn.execute(insert(Team).values(name="Bench", timezone="Asia/Taipei", language="zh-Hant",
                                                country="TW", silent_days=30, created_at=now)
                            .returning(Team.id)).scalar_one()
        conn.execute(insert(Member), [
            {"team_id": team, "name": f"Sales {i}", "role": "owner" if i == 0 else "sales",
             "timezone": "Asia/Taipei", "language": "en", "country": "TW", "work_start": "09:00",
             "work_end": "18:00", "work_days": "12345", "digest_time": "08:30", "active": True, "created_at": now}
            for i in range(members)])
        ids = list(conn.execute(select(Member.id).order_by(Member.id)).scalars())
        if chats:
            conn.execute(insert(ChatIdentity), [
                {"team_id": team, "member_id": mid, "platform": "telegram", "platform_user_id": str(10_000 + i),
                 "chat_id": str(10_000 + i), "display_name": f"Sales {i}", "created_at": now}
                for i, mid in enumerate(ids)])
        conn.execute(insert(Customer), [
            {"team_id": team, "name": f"Acme {i}", "name_key": f"acme {i}", "aliases": [], "phones": [], "tags": [],
             "owner_id": ids[i % len(ids)], "shared": False, "important": False, "created_at": now,
             "updated_at": now} for i in range(50)])
        customers = list(conn.execute(select(Customer.id)).scalars())
        rows = [{"team_id": team, "member_id": ids[m], "customer_id": customers[n % len(customers)], "due_at": due,
                 "action": action, "status": "pending", "explicit_time": True, "attempts": 0, "sent_late": False,
                 "created_at": now, "updated_at": now} for n, (m, due, action) in enumerate(follow_ups)]
        for start in range(0, len(rows), 20_000):
            conn.execute(insert(FollowUp), rows[start:start + 20_000])
    engine.dispose()
    return ids


# -- (a) start-up ----------------------------------------------------------------------------------
def start_child(url: str) -> None:
    """Runs in a fresh process: idle bot, then the scheduler; prints one result line."""
    from bot.bootstrap import build
    from core.settings import load_settings

    async def main() -> None:
        settings = load_settings("/nonexistent.toml", database_url=url, default_language="en")
        app = build(settings)
        await app.start(with_scheduler=False)  # migrations checked, engine connected: the idle bot
        with app.engine.connect() as connection:
            connection.execute(select(func.count()).select_from(FollowUp)).scalar_one()
        idle = rss_mb()
        from bot.notifier import create_scheduler

        started = time.perf_counter()
        scheduler = create_scheduler(app.engine, settings, app.messengers, app.clock)
        await scheduler.start()
        await scheduler.dispatch()  # the first full sweep: claim what is due, find the next due time
        elapsed = time.perf_counter() - started
        after_start = rss_mb()
        await asyncio.sleep(3)  # a few more sweeps and the notices job
        settled = rss_mb()
        jobs = len(scheduler._scheduler.get_jobs()) if scheduler._scheduler else 0
        await scheduler.stop()
        await app.stop()
        print(f"RESULT {elapsed:.3f} {idle:.1f} {after_start:.1f} {settled:.1f} {jobs}")

    asyncio.run(main())


def bench_start(url: str, label: str) -> str:
    rng = random.Random(1)
    now = datetime.now(UTC)
    rows = [(i % 50, now + timedelta(minutes=rng.randint(10, 90 * 24 * 60)), f"follow up {i}") for i in range(PENDING)]
    seed(url, members=50, chats=False, follow_ups=rows)
    out = subprocess.run([sys.executable, __file__, "--start-child", url], capture_output=True, text=True,
                         check=True).stdout
    elapsed, idle, after, settled, jobs = next(line for line in out.splitlines() if line.startswith("RESULT")).split()[1:]
    return (f"(a) {label}: {PENDING:,} pending follow-ups: scheduler start + first sweep {float(elapsed) * 1000:.0f} ms; "
            f"RSS idle {float(idle):.0f} MB, +{float(after) - float(idle):.1f} MB after start, "
            f"+{float(settled) - float(idle):.1f} MB after 3 s; APScheduler jobs: {jobs}")


# -- (b) and (c) through Telegram -------------------------------------------------------------------
def fake_child(port_file: str) -> None:
    """Runs in its own process: the fake Bot API with real limits, plus /count and /calls for the bench."""
    from aiohttp import web

    from tests.fakes.telegram_api import FakeTelegram

    async def serve() -> None:
        fake = await FakeTelegram(enforce_limits=True).start()

        async def count(request: web.Request) -> web.Response:
            prefix = request.query.get("prefix", "")
            accepted = sum(1 for c in fake.calls if c.method == "sendMessage" and c.status == 200
                           and prefix in c.body.get("text", ""))
            return web.json_response({"accepted": accepted, "rate_limited": fake.rate_limited})

        async def calls(request: web.Request) -> web.Response:
            return web.json_response([[c.method, c.status, c.at, c.body.get("chat_id"), c.body.get("text", "")]
                                      for c in fake.calls if c.method == "sendMessage"])

        stats = web.Application()
        stats.router.add_get("/count", count)
        stats.router.add_get("/calls", calls)
        runner = web.AppRunner(stats)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        Path(port_file).write_text(f"{fake.port} {site._server.sockets[0].getsockname()[1]} {fake.token}")
        await asyncio.Event().wait()

    asyncio.run(serve())


class FakeProcess:
    """The fake Bot API in its own process, like a remote platform (CLOCK_MONOTONIC is shared)."""

    def __init__(self, folder: str) -> None:
        port_file = Path(folder) / "fake.port"
        self.process = subprocess.Popen([sys.executable, __file__, "--fake-child", str(port_file)])
        deadline = time.monotonic() + 30
        while not port_file.exists() or len(port_file.read_text().split()) < 3:
            if time.monotonic() > deadline:
                raise TimeoutError("fake Bot API did not start")
            time.sleep(0.05)
        api, stats, self.token = port_file.read_text().split()
        self.base_url, self.file_url = f"http://127.0.0.1:{api}/bot", f"http://127.0.0.1:{api}/file/bot"
        self.stats = f"http://127.0.0.1:{stats}"

    async def get(self, path: str):
        import aiohttp

        async with aiohttp.ClientSession() as session, session.get(self.stats + path) as response:
            return await response.json()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


async def bench_telegram(folder: str, skip_burst: bool) -> list[str]:
    from bot.bootstrap import build
    from bot.platforms import telegram_adapter
    from core.settings import load_settings

    url = f"sqlite:///{folder}/burst.db"
    burst_at = datetime.now(UTC) + timedelta(seconds=25)
    rows = [] if skip_burst else [(i % BURST_MEMBERS, burst_at, f"nudge-{i}-") for i in range(BURST)]
    seed(url, members=BURST_MEMBERS, chats=True, follow_ups=rows)
    fake = FakeProcess(folder)
    settings = load_settings("/nonexistent.toml", database_url=url, telegram_bot_token=fake.token,
                             telegram_api_base_url=fake.base_url, telegram_file_base_url=fake.file_url,
                             telegram_poll_timeout=1, default_language="en")
    app = build(settings)
    adapter = telegram_adapter(app)
    app.attach(adapter)
    await adapter.start()
    await app.start(with_scheduler=True)
    lines = []

    async def delivered(prefix: str, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while (await fake.get(f"/count?prefix={prefix}"))["accepted"] < n:
            if time.monotonic() > deadline:
                raise TimeoutError(prefix)
            await asyncio.sleep(0.5)

    async def accepted(prefix: str) -> list[tuple[float, str, str]]:
        return [(at, chat, text_) for method, status, at, chat, text_ in await fake.get("/calls")
                if status == 200 and prefix in text_]

    load_before = os.getloadavg()
    cpu_before = time.process_time()
    if not skip_burst:
        await delivered("nudge-", BURST, 1200)
        await asyncio.sleep(2)  # anything extra would show up as a duplicate
        calls = await accepted("nudge-")
        keys = collections.Counter(text_.split("nudge-")[1].split("-")[0] for _, _, text_ in calls)
        times = sorted(at for at, _, _ in calls)
        first, last = times[0], times[-1]
        middle = times[len(times) // 10: -len(times) // 10]
        refused = sum(1 for _, status, *_ in await fake.get("/calls") if status == 429)
        window = max(sum(1 for t in times[i:i + 40] if t - times[i] < 1.0) for i in range(len(times)))
        with app.engine.connect() as connection:
            recorded = connection.execute(select(func.count()).select_from(FollowUp).where(
                FollowUp.status == "sent", FollowUp.message_id.is_not(None))).scalar_one()
        if os.environ.get("BENCH_DEBUG"):
            print("arrivals per second", sorted(collections.Counter(int(t - first) for t in times).items()))
            every = await fake.get("/calls")
            for n, (_, status, at, chat, _) in enumerate(every):
                if status == 429:
                    before = [(a, c) for _, s_, a, c, _ in every[:n] if s_ == 200]
                    same = [a for a, c in before if c == chat]
                    recent = sum(1 for a, _ in before if a > at - 1.0)
                    print(f"429 at {at - first:.3f} chat {chat}: since same chat {at - same[-1] if same else None}, "
                          f"accepted in last 1 s {recent}")
                    if n > 400:
                        break
        lines.append(
            f"(b) {BURST:,} nudges due at once for {BURST_MEMBERS:,} chats via python-telegram-bot → fake Bot API "
            f"(own process; 30/s, 1/s per chat enforced): delivered {len(keys):,}/{BURST:,}, "
            f"twice {sum(v > 1 for v in keys.values())}, recorded {recorded:,}; sustained "
            f"{(len(times) - 1) / (last - first):.2f}/s overall, {(len(middle) - 1) / (middle[-1] - middle[0]):.2f}/s "
            f"middle 80 % (limit 30/s); most in any 1 s: {window}; 429s provoked {refused}; first arrival "
            f"{first - time.monotonic() + time.time() - burst_at.timestamp():.2f} s after due; "
            f"bot CPU {time.process_time() - cpu_before:.0f} s over {last - first:.0f} s")

    # (c) light load: about 2 nudges a second, each chat at most one every 3 s, inserted while running
    rng = random.Random(3)
    start = datetime.now(UTC) + timedelta(seconds=10)
    plan, last_due = [], {}
    for i in range(LIGHT):
        due = start + timedelta(seconds=i * 0.5 + rng.random() * 0.4)
        member = rng.randrange(BURST_MEMBERS)
        while member in last_due and (due - last_due[member]).total_seconds() < 3:
            member = rng.randrange(BURST_MEMBERS)
        last_due[member] = due
        plan.append((member, due, f"light-{i}-"))
    with app.engine.begin() as connection:
        team, = connection.execute(select(Team.id)).scalars()
        ids = list(connection.execute(select(Member.id).order_by(Member.id)).scalars())
        connection.execute(insert(FollowUp), [
            {"team_id": team, "member_id": ids[m], "due_at": due, "action": action, "status": "pending",
             "explicit_time": True, "attempts": 0, "sent_late": False, "created_at": start, "updated_at": start}
            for m, due, action in plan])
    await delivered("light-", LIGHT, 300)
    offset = time.time() - time.monotonic()
    due_of = {action: due for _, due, action in plan}
    delays = [at + offset - due_of[f"light-{text_.split('light-')[1].split('-')[0]}-"].timestamp()
              for at, _, text_ in await accepted("light-")]
    early = sum(1 for d in delays if d < 0)
    lines.append(f"(c) {LIGHT} nudges at ~2/s (below the limits), real clock, 5 s sweep + wake at the due time: "
                 f"due → arrival p50 {pct(delays, .5) * 1000:.0f} ms, p99 {pct(delays, .99) * 1000:.0f} ms, "
                 f"max {max(delays) * 1000:.0f} ms; before due: {early}")
    lines.append(f"    load average before/after: {load_before[0]:.2f} / {os.getloadavg()[0]:.2f}")
    await app.stop()
    await adapter.stop()
    app.engine.dispose()
    fake.stop()
    return lines


def scratch_postgres(url: str) -> tuple[str, callable]:
    name = f"chatcrm_bench_nudges_{uuid.uuid4().hex[:6]}"
    admin = create_engine(make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(url).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres")
    parser.add_argument("--skip-burst", action="store_true")
    parser.add_argument("--start-child")
    parser.add_argument("--fake-child")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink the data sets for a smoke run")
    args = parser.parse_args()
    global PENDING, BURST, BURST_MEMBERS, LIGHT
    PENDING, BURST = int(PENDING * args.scale), int(BURST * args.scale)
    BURST_MEMBERS, LIGHT = max(1, int(BURST_MEMBERS * args.scale)), max(10, int(LIGHT * args.scale))
    if args.start_child:
        start_child(args.start_child)
        return
    if args.fake_child:
        fake_child(args.fake_child)
        return
    print(f"machine: {platform.machine()}, {psutil.cpu_count()} cpus, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as folder:
        print(bench_start(f"sqlite:///{folder}/pending.db", "SQLite"), flush=True)
        if args.postgres:
            url, drop = scratch_postgres(args.postgres)
            try:
                print(bench_start(url, "PostgreSQL"), flush=True)
            finally:
                drop()
        for line in asyncio.run(bench_telegram(folder, args.skip_burst)):
            print(line, flush=True)


if __name__ == "__main__":
    main()
