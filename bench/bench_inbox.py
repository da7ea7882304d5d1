"""Inbox throughput on PostgreSQL per worker count, end to end: Telegram notes stored in the inbox, processed by
worker processes doing the real CRM work (issue 17 item 8: ≥ 300 notes/s with 4 workers on this machine).

Each worker process builds the bot (`bot.bootstrap.build`) and runs the inbox's `Worker` for "telegram" the way
`adapters/telegram/receiver.InboxReceiver` does: a claimed row's payload becomes a PTB `Update`, then an
`Incoming` (`adapters.telegram.translate.to_incoming`), `ChatCRM.handle` logs the note (its unit of work, its
replies into the outbox), every reply's receipt is marked sent as the adapter does after sending it (no HTTP
call: Telegram's send limit is not what is measured), and the worker finishes the row. Wake-ups are the real
ones: the rows are stored by this process, the workers hear of them through LISTEN/NOTIFY.

The data: one team of `--members` salespeople (one private chat each) over a seeded base (bench/seed.py:
customers, notes, follow-ups); each note names one of its writer's own customers. The seeded base is made once
in a template database (`<db>_tpl`) and each run starts from a copy of it (`<db>`); both are dropped at the end.

    .venv/bin/python -m bench.bench_inbox --postgres postgresql://postgres@127.0.0.1:5432/bench_g
    .venv/bin/python -m bench.bench_inbox --postgres … --raw          # the inbox alone: claim + finish, no CRM
    .venv/bin/python -m bench.bench_inbox --postgres … --profile      # one worker under cProfile, top functions
    .venv/bin/python -m bench.bench_inbox --postgres … --claim-latency  # the claim's select against a backlog
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import multiprocessing
import os
import platform
import pstats
import random
import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col, select

from bench.seed import NOTES, SURNAMES, seed
from core.db import make_engine
from core.models import ChatIdentity, Customer, InboxItem, Interaction, Member, ReplyOutbox
from core.services import inbox

CHAT_BASE = 700_000_000  # Telegram user ids of the bench's salespeople (private chat id = user id)


def admin_engine(url: str) -> Engine:
    return make_engine(make_url(url).set(database="postgres").render_as_string(hide_password=False),
                       isolation_level="AUTOCOMMIT")


def recreate(url: str, *, template: str | None = None) -> None:
    name = make_url(url).database
    admin = admin_engine(url)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()


def drop(url: str) -> None:
    admin = admin_engine(url)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def make_template(url: str, members: int, customers: int, interactions: int) -> None:
    recreate(url)
    seed(url, members=members, customers=customers, interactions=interactions, follow_ups=interactions // 20)
    engine = make_engine(url)
    with Session(engine) as session:
        for member in session.exec(select(Member)).all():
            user = str(CHAT_BASE + (member.id or 0))
            session.add(ChatIdentity(team_id=member.team_id, member_id=member.id or 0, platform="telegram",
                                     platform_user_id=user, chat_id=user, display_name=member.name))
        session.commit()
    engine.dispose()


def updates(url: str, notes: int) -> list[tuple[str, str, dict[str, Any]]]:
    """Telegram updates (as getUpdates returns them): each member writes notes naming their own customers."""
    rng = random.Random(17)
    engine = make_engine(url)
    with Session(engine) as session:
        owned: dict[int, list[str]] = {}
        for owner, name in session.exec(select(Customer.owner_id, Customer.name)).all():
            owned.setdefault(owner or 0, []).append(name)
    engine.dispose()
    writers = sorted(owned)
    items = []
    now = int(time.time())
    for i in range(notes):
        member = writers[i % len(writers)]
        user = CHAT_BASE + member
        note = rng.choice(NOTES).format(c=rng.choice(owned[member]), p=f"{rng.choice(SURNAMES)}總")
        update = {"update_id": 1 + i, "message": {
            "message_id": 1 + i, "date": now, "text": note, "chat": {"id": user, "type": "private"},
            "from": {"id": user, "is_bot": False, "first_name": f"Sales {member}", "language_code": "zh-hant"}}}
        items.append((str(1 + i), f"telegram:{user}", update))
    return items


# -- a worker process --------------------------------------------------------------------------------

def work(url: str, name: str, ready: Any, stop: Any, results: Any, profile: bool, trace: int = 0,
         profile_out: str | None = None, pre_ping: bool = True) -> None:
    profiler = cProfile.Profile(time.process_time) if profile else None  # CPU time: what a note costs the worker
    if profiler is not None:
        profiler.enable()
    stats = asyncio.run(_work(url, name, ready, stop, trace, pre_ping))
    if profiler is not None:
        profiler.disable()
        if profile_out:
            profiler.dump_stats(profile_out)
        out = io.StringIO()
        profiled = pstats.Stats(profiler, stream=out)
        profiled.sort_stats("cumulative").print_stats(r"/(core|bot|adapters)/", 30)  # where a note's time goes
        profiled.sort_stats("tottime").print_stats(20)  # what the CPU does
        stats["profile"] = out.getvalue()
    results.put(stats)


async def _work(url: str, name: str, ready: Any, stop: Any, trace: int = 0, pre_ping: bool = True
                ) -> dict[str, Any]:
    from telegram import Update

    from adapters.telegram.translate import to_incoming
    from bot.bootstrap import build
    from core.services.outbox import receipt_of
    from core.settings import load_settings

    settings = load_settings("/nonexistent.toml", database_url=url, default_timezone="Asia/Taipei")
    app = build(settings, engine=make_engine(url, pool_pre_ping=pre_ping))
    statements = {"n": 0}
    handled = {"notes": 0, "handle": 0.0, "replies": 0}
    traced: list[str] = []

    def count(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements["n"] += 1
        if trace and handled["notes"] == trace:  # the statements from the end of note `trace` - 1 to its own end
            traced.append(f"{threading.current_thread().name[:12]:12} " + " ".join(statement.split())[:160])

    event.listen(app.engine, "before_cursor_execute", count)

    async def process(claim: inbox.Claim) -> None:
        update = Update.de_json(claim.payload, None)
        incoming = to_incoming(update, "chatcrm_bench_bot")
        assert incoming is not None
        started = time.perf_counter()
        replies = await app.handle(incoming)
        handled["handle"] += time.perf_counter() - started
        for reply in replies:  # as adapters/telegram/adapter._deliver does once a reply was sent
            if (receipt := receipt_of(reply)) is not None:
                await receipt.sent()
        handled["notes"] += 1
        handled["replies"] += len(replies)

    worker = app.open_inbox(name).processor("telegram", process, concurrency=32)
    await worker.start()
    assert worker.wakeups is not None
    await worker.wakeups.ready.wait()
    cpu = time.process_time()
    ready.set()
    while not stop.is_set():
        await asyncio.sleep(0.05)
    await worker.stop()
    app.engine.dispose()
    return {"name": name, **handled, "statements": statements["n"], "cpu": time.process_time() - cpu,
            "trace": traced}


def run(url: str, template: str, workers: int, items: list[tuple[str, str, dict[str, Any]]],
        profile: bool = False, trace: int = 0, profile_out: str | None = None, pre_ping: bool = True
        ) -> dict[str, Any]:
    recreate(url, template=template)
    context = multiprocessing.get_context("spawn")
    ready = [context.Event() for _ in range(workers)]
    stop, results = context.Event(), context.Queue()
    processes = [context.Process(target=work, args=(url, f"w{i}", ready[i], stop, results, profile, trace,
                                                              profile_out, pre_ping))
                 for i in range(workers)]
    for process in processes:
        process.start()
    for flag in ready:
        if not flag.wait(300):
            raise RuntimeError("a worker did not start")
    engine = make_engine(url)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    for offset in range(0, len(items), 100):  # batches as getUpdates hands them over
        with Session(engine) as session:
            inbox.store(session, "telegram", items[offset:offset + 100], datetime.now(UTC))
            session.commit()
    stored = time.perf_counter() - started
    while True:
        with engine.connect() as connection:
            left = connection.execute(select(func.count()).select_from(InboxItem)
                                      .where(col(InboxItem.status) != inbox.DONE)).scalar_one()
        if not left:
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    load_after = os.getloadavg()[0]
    stop.set()
    stats = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(60)
    with engine.connect() as connection:
        logged = connection.execute(select(func.count()).select_from(Interaction)
                                    .where(col(Interaction.source_platform) == "telegram")).scalar_one()
        unsent = connection.execute(select(func.count()).select_from(ReplyOutbox)
                                    .where(col(ReplyOutbox.status) != "sent")).scalar_one()
    engine.dispose()
    notes = sum(s["notes"] for s in stats)
    return {"workers": workers, "notes": notes, "logged": logged, "unsent": unsent, "elapsed": elapsed,
            "stored": stored, "rate": len(items) / elapsed, "load": (load_before, load_after),
            "handle_ms": 1000 * sum(s["handle"] for s in stats) / max(1, notes),
            "statements": sum(s["statements"] for s in stats) / max(1, notes),
            "cpu_ms": 1000 * sum(s["cpu"] for s in stats) / max(1, notes),
            "profile": next((s.get("profile") for s in stats if s.get("profile")), None),
            "trace": next((s["trace"] for s in stats if s.get("trace")), [])}


# -- the inbox alone (no CRM work behind a row) -------------------------------------------------------

def raw_work(url: str, name: str, generic: bool, ready: Any, start: Any) -> None:
    engine = make_engine(url)
    take = inbox._claim_each if generic else inbox.claim  # the claim before migration 0019, for comparison
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    ready.set()
    start.wait()
    while True:
        with Session(engine) as session:
            claims = take(session, name, datetime.now(UTC), lease=inbox.LEASE_SECONDS, limit=16, platform=None)
            session.commit()
        if not claims:
            with engine.connect() as connection:
                left = connection.execute(select(func.count()).select_from(InboxItem)
                                          .where(col(InboxItem.status) != inbox.DONE)).scalar_one()
            if not left:
                break
            time.sleep(0.005)
            continue
        with Session(engine) as session:  # one transaction per row, like an update's effects
            for claim in claims:
                inbox.finish(session, name, claim.id)
                session.commit()
    engine.dispose()


def raw_run(url: str, workers: int, generic: bool = False, rows: int = 6000, chats: int = 300) -> float:
    from core.db import upgrade

    recreate(url)
    engine = make_engine(url)
    upgrade(engine)
    for offset in range(0, rows, 100):
        with Session(engine) as session:
            inbox.store(session, "telegram", [(f"u:{i}", f"telegram:{i % chats}", {"update_id": i})
                                              for i in range(offset, offset + 100)], datetime.now(UTC))
            session.commit()
    engine.dispose()
    context = multiprocessing.get_context("spawn")
    ready, start = [context.Event() for _ in range(workers)], context.Event()
    processes = [context.Process(target=raw_work, args=(url, f"w{i}", generic, ready[i], start))
                 for i in range(workers)]
    for process in processes:
        process.start()
    for flag in ready:
        flag.wait(300)
    started = time.perf_counter()
    start.set()
    for process in processes:
        process.join()
    return rows / (time.perf_counter() - started)


def claim_latency(url: str) -> None:
    """The claim's select alone against the backlog: 300 chats, 128 of them in flight, over 100,000 done rows
    (vacuumed), 6,000 and 60,000 open rows; this claim's walk and a `DISTINCT ON (chat_key)` over all open rows."""
    from core.db import upgrade

    recreate(url)
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    with Session(engine) as session:
        for offset in range(0, 100_000, 5000):
            inbox.store(session, "telegram", [(f"d{i}", f"telegram:{i % 300}", {"n": i})
                                              for i in range(offset, offset + 5000)], now)
        session.execute(text("UPDATE inboxitem SET status = 'done'"))
        session.commit()
    walk = text("SELECT i.id FROM inboxitem i WHERE i.status IN ('pending', 'processing') AND (i.status = 'pending' "
                "OR i.claimed_until < now()) AND NOT EXISTS (SELECT 1 FROM inboxitem earlier WHERE earlier.chat_key "
                "= i.chat_key AND earlier.status IN ('pending', 'processing') AND earlier.id < i.id) ORDER BY i.id "
                "LIMIT 16 FOR UPDATE SKIP LOCKED")
    heads = text("SELECT DISTINCT ON (chat_key) id FROM inboxitem WHERE status IN ('pending', 'processing') "
                 "ORDER BY chat_key, id")
    for backlog in (6000, 60_000):
        with Session(engine) as session:
            session.execute(text("DELETE FROM inboxitem WHERE status <> 'done'"))
            inbox.store(session, "telegram", [(f"p{backlog}:{i}", f"telegram:{i % 300}", {"n": i})
                                              for i in range(backlog)], now)
            session.execute(text("UPDATE inboxitem SET status = 'processing', claimed_until = now() + interval "
                                 "'1 hour' WHERE id IN (SELECT DISTINCT ON (chat_key) id FROM inboxitem WHERE "
                                 "status = 'pending' ORDER BY chat_key, id LIMIT 128)"))
            session.commit()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE inboxitem"))
        for name, query in (("oldest-first walk (this claim)", walk), ("DISTINCT ON over open rows", heads)):
            samples = []
            for _ in range(15):
                with engine.connect() as connection:
                    started = time.perf_counter()
                    connection.execute(query).all()
                    samples.append(time.perf_counter() - started)
                    connection.rollback()
            print(f"claim select, {backlog:,} open rows: {name} p50 {sorted(samples)[7] * 1000:.1f} ms", flush=True)
    engine.dispose()
    drop(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", required=True, help="a PostgreSQL URL (its database is created and dropped)")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--notes", type=int, default=3000)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--raw", action="store_true", help="the inbox alone, no CRM work (6,000 rows, 300 chats), "
                        "this claim and the earlier one in turn")
    parser.add_argument("--profile", action="store_true", help="one worker under cProfile (CPU time)")
    parser.add_argument("--profile-out", help="with --profile: also dump the raw cProfile stats to this file")
    parser.add_argument("--trace", type=int, default=0, help="with --profile: list the SQL statements of note N "
                        "(all of the worker's between the end of note N-1 and its own)")
    parser.add_argument("--no-pre-ping", action="store_true", help="the workers' engine without pool_pre_ping "
                        "(core.db.make_engine sets it: a round trip at every connection checkout)")
    parser.add_argument("--claim-latency", action="store_true", help="the claim's select against a backlog")
    args = parser.parse_args()
    url = make_url(args.postgres).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    counts = [int(n) for n in args.workers.split(",")]
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores; load average {os.getloadavg()}")
    if args.claim_latency:
        claim_latency(url)
        return
    if args.raw:
        for workers in counts:  # the two claims in turn, under the same load
            one = raw_run(url, workers)
            each = raw_run(url, workers, generic=True)
            print(f"raw: workers={workers}: claimed+finished {one:,.0f} rows/s (one statement, SKIP LOCKED); "
                  f"{each:,.0f} rows/s (the earlier claim: NOT EXISTS, an UPDATE per row); "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
        drop(url)
        return
    template = f"{make_url(url).database}_tpl"
    template_url = make_url(url).set(database=template).render_as_string(hide_password=False)
    started = time.perf_counter()
    make_template(template_url, args.members, args.customers, args.interactions)
    items = updates(template_url, args.notes)
    print(f"seeded {args.members} members, {args.customers} customers, {args.interactions} notes in "
          f"{time.perf_counter() - started:.0f} s; {len(items)} notes to process", flush=True)
    try:
        for workers in [1] if args.profile else counts:
            result = run(url, template, workers, items, profile=args.profile, trace=args.trace,
                         profile_out=args.profile_out, pre_ping=not args.no_pre_ping)
            print(f"workers={workers}: {result['rate']:,.0f} notes/s ({len(items)} notes in "
                  f"{result['elapsed']:.1f} s, stored in {result['stored']:.2f} s; {result['logged']} logged, "
                  f"{result['notes'] - len(items)} taken twice, "
                  f"{result['unsent']} replies unsent); per note: handle {result['handle_ms']:.1f} ms wall, "
                  f"{result['statements']:.1f} SQL statements, {result['cpu_ms']:.1f} ms worker CPU; "
                  f"load {result['load'][0]:.1f} → {result['load'][1]:.1f}", flush=True)
            if result["profile"]:
                print(result["profile"])
            for line in result["trace"]:
                print(line)
    finally:
        drop(url)
        drop(template_url)


if __name__ == "__main__":
    main()
