"""Inbox throughput on PostgreSQL per worker count: rows stored, claimed (per chat in order), finished.

Measures the inbox's own cost (store + claim + finish per row, no CRM work behind it), so it shows whether the
inbox can keep up with the CRM and with Telegram's 30 messages/s.

    .venv/bin/python bench/bench_inbox.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from core.db import make_engine, upgrade
from core.models import InboxItem
from core.services import inbox

ROWS, CHATS = 6000, 300


def work(url: str, name: str) -> None:
    engine = make_engine(url)
    while True:
        with Session(engine) as session:
            claims = inbox.claim(session, name, datetime.now(UTC), limit=16)
            session.commit()
        if not claims:
            with engine.connect() as connection:
                left = connection.execute(select(func.count()).select_from(InboxItem)
                                          .where(InboxItem.status != "done")).scalar_one()
            if not left:
                break
            time.sleep(0.005)
            continue
        with Session(engine) as session:  # one transaction per row, like an update's effects
            for claim in claims:
                inbox.finish(session, name, claim.id)
                session.commit()
    engine.dispose()


def run(admin_url: str, workers: int) -> tuple[float, float]:
    name = f"bench_inbox_{uuid.uuid4().hex[:8]}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    for start in range(0, ROWS, 100):  # batches as getUpdates hands them over
        with Session(engine) as session:
            inbox.store(session, "telegram", [(f"u:{i}", f"telegram:{i % CHATS}", {"update_id": i})
                                              for i in range(start, start + 100)], datetime.now(UTC))
            session.commit()
    stored = ROWS / (time.perf_counter() - started)
    started = time.perf_counter()
    processes = [multiprocessing.Process(target=work, args=(url, f"w{i}")) for i in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    processed = ROWS / (time.perf_counter() - started)
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
    return stored, processed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", required=True, help="a PostgreSQL URL whose role may create databases")
    args = parser.parse_args()
    print(f"{ROWS} rows over {CHATS} chats; load average {os.getloadavg()[0]:.2f}")
    for workers in (1, 2, 4, 8):
        stored, processed = run(args.postgres, workers)
        print(f"workers={workers}: stored {stored:,.0f} rows/s (batches of 100), claimed+finished {processed:,.0f} rows/s")


if __name__ == "__main__":
    main()
