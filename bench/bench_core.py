"""Core benchmarks on a seeded database (see bench/seed.py), through the bot layer.

    .venv/bin/python bench/bench_core.py sqlite:///bench/out/seed.db
    .venv/bin/python bench/bench_core.py postgresql://postgres@127.0.0.1:5432/chatcrm_bench

Measures: logging a note end to end (p50/p99, notes/s), resolving a mention, building a customer
card, searching notes (p50/p99 each); a raw sqlite3 single-row INSERT loop with the same durability
settings for comparison; the process's RSS. BENCH_NOTES=N notes (2000); BENCH_ONLY_LOGGING=1 times the
logging alone (for A/B runs of two code versions taken in turn on a loaded machine). A run whose notes
were not all stored (an error is a reply too) exits with an error instead of printing timings.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil  # type: ignore[import-untyped]
from sqlalchemy import Engine
from sqlmodel import col, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.bootstrap import build
from core.chat import ChatRef, Envelope, Sender, TextIn
from core.db import make_engine, session_scope
from core.models import ChatIdentity, Customer, Interaction, Member
from core.services.actor import Actor
from core.services.customers import customer_card, resolve_customer
from core.services.search import search_notes
from core.settings import load_settings

TEMPLATES = ["拜訪{c}王總,他要A100一百件的報價,下週三前回覆", "Visited {c}, Mr. Lee wants a quote for 200 units, follow up Friday",
             "打電話給{c}陳小姐,月結30天OK,明天下午3點再確認", "拜访{c}李老板,要B200五百个的报价,后天回复"]
SEARCHES = ["A100", "報價", "quote 200", "月結", "revised quote", "王總 報價", "采购确认", "B200五百"]


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def line(name: str, samples: list[float]) -> str:
    return f"{name:<22} p50 {pct(samples, .5):7.2f} ms   p99 {pct(samples, .99):7.2f} ms   n={len(samples)}"


def sales_actor(engine: Engine) -> tuple[Actor, str]:
    with session_scope(engine) as session:
        member = session.exec(select(Member).where(Member.role == "sales").order_by(col(Member.id))).first()
        if member is None or member.id is None:
            sys.exit("no salesperson in this database: seed it first (bench/seed.py)")
        identity = session.exec(select(ChatIdentity).where(ChatIdentity.member_id == member.id)).first()
        if identity is None:
            session.add(ChatIdentity(team_id=member.team_id, member_id=member.id, platform="bench",
                                     platform_user_id=f"bench-{member.id}", chat_id="bench"))
        return Actor.of(member), f"bench-{member.id}"


def visible_names(engine: Engine, actor: Actor, n: int) -> list[tuple[int, str]]:
    with session_scope(engine) as session:
        rows = session.exec(select(Customer.id, Customer.name).where(actor.customer_filter()).limit(5000)).all()
    return random.Random(1).sample([(cid or 0, name) for cid, name in rows], n)


async def bench_logging(url: str, user: str, names: list[tuple[int, str]], notes: int,
                        cpu: list[float] | None = None) -> list[float]:
    """Wall-clock seconds per note; `cpu`: gets this process's CPU seconds per note (less skewed than the wall
    clock by other processes on a loaded machine; the PostgreSQL server's own work is not in it)."""
    settings = load_settings("/nonexistent.toml", database_url=url, default_timezone="Asia/Taipei")
    app = build(settings)
    ids = itertools.count(int(time.time() * 1000))
    samples = []
    chat = ChatRef("bench", "bench")
    sender = Sender(user, "Bench")
    # warm: the parser's customer index is built on the first note
    await app.handle(TextIn(Envelope(chat, sender, str(next(ids)), datetime.now(UTC)), "warm up note for Acme"))
    for i in range(notes):
        _, name = names[i % len(names)]
        text = TEMPLATES[i % len(TEMPLATES)].format(c=name)
        started, cpu_started = time.perf_counter(), time.process_time()
        replies = await app.handle(TextIn(Envelope(chat, sender, str(next(ids)), datetime.now(UTC)), text))
        samples.append(time.perf_counter() - started)
        if cpu is not None:
            cpu.append(time.process_time() - cpu_started)
        assert replies, "no reply"
    app.engine.dispose()
    return samples


def bench_notes_stored(engine: Engine) -> int:
    """Notes stored from the bench's chat: a run whose notes failed (an error is a reply too) is refused."""
    with session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(Interaction)
                            .where(Interaction.source_platform == "bench")).one()


def bench_reads(engine: Engine, actor: Actor, names: list[tuple[int, str]]) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"resolve (exact)": [], "resolve (typo)": [], "card": [], "search": []}
    with session_scope(engine) as session:
        resolve_customer(session, actor, "warm")
        for i, (cid, name) in enumerate(names):
            started = time.perf_counter()
            resolve_customer(session, actor, name)
            results["resolve (exact)"].append(time.perf_counter() - started)
            typo = name[:-2] + name[-1] if len(name) > 4 else name
            started = time.perf_counter()
            resolve_customer(session, actor, typo)
            results["resolve (typo)"].append(time.perf_counter() - started)
            started = time.perf_counter()
            customer_card(session, actor, cid)
            results["card"].append(time.perf_counter() - started)
            started = time.perf_counter()
            search_notes(session, actor, SEARCHES[i % len(SEARCHES)])
            results["search"].append(time.perf_counter() - started)
    return results


def raw_sqlite_rate(n: int = 5000) -> float:
    path = Path(tempfile.mkdtemp()) / "raw.db"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, team_id INT, customer_id INT, member_id INT, "
                       "kind TEXT, text TEXT, occurred_at TEXT)")
    started = time.perf_counter()
    for i in range(n):
        connection.execute("BEGIN")
        connection.execute("INSERT INTO t (team_id, customer_id, member_id, kind, text, occurred_at) "
                           "VALUES (1, ?, 2, 'visit', ?, ?)", (i, f"拜訪客戶{i}王總,要報價", "2026-11-18 02:00:00"))
        connection.execute("COMMIT")
    rate = n / (time.perf_counter() - started)
    connection.close()
    return rate


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "sqlite:///bench/out/seed.db"
    notes = int(os.environ.get("BENCH_NOTES", "2000"))
    engine = make_engine(url)
    actor, user = sales_actor(engine)
    names = visible_names(engine, actor, 500)
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"database: {engine.dialect.name}")
    only_logging = os.environ.get("BENCH_ONLY_LOGGING") == "1"  # A/B runs of the logging path alone
    reads = {} if only_logging else bench_reads(engine, actor, names)
    for name, samples in reads.items():
        print(line(name, samples))
    before = bench_notes_stored(engine)
    engine.dispose()
    cpu: list[float] = []
    samples = asyncio.run(bench_logging(url, user, names, notes, cpu))
    engine = make_engine(url)
    stored = bench_notes_stored(engine) - before
    engine.dispose()
    if stored < notes:
        sys.exit(f"only {stored} of {notes} notes were stored: the timings are of failures, not notes")
    rate = len(samples) / sum(samples)
    print(line("log a note (bot layer)", samples) + f"   {rate:.0f} notes/s")
    print(line("  its CPU (this process)", cpu))
    if url.startswith("sqlite") and not only_logging:
        raw = raw_sqlite_rate()
        print(f"raw sqlite3 single-row INSERT transactions: {raw:.0f}/s → chatcrm logging is {rate / raw:.1%} of it")
    print(f"RSS: {psutil.Process().memory_info().rss / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
