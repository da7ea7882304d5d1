"""The shared send limiter alone (issue 17 item 2): P pacers (own engine, thread and event loop each, like processes)
on one PostgreSQL database send M messages each to C chats at once; prints the combined rate, the most departures
in any one second, the shortest gap between two to one chat, reservations and late-wake retakes.

    python -m bench.bench_shared_limits postgresql://postgres@127.0.0.1:5432/test --pacers 3 --messages 120 --chats 40

Creates the database `bench_e` next to the given one and drops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import threading
import time
from collections import defaultdict

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.db import make_engine, upgrade
from core.scheduling.limits import PLATFORM_LIMITS
from core.scheduling.shared_limits import SharedPacer

DATABASE = "bench_e"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--pacers", type=int, default=3)
    parser.add_argument("--messages", type=int, default=120)
    parser.add_argument("--chats", type=int, default=40)
    args = parser.parse_args()
    admin = create_engine(make_url(args.url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    url = make_url(args.url).set(database=DATABASE).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    departures: list[tuple[float, str]] = []
    counts: list[tuple[int, int]] = []

    def run(index: int) -> None:
        own = make_engine(url)
        pacer = SharedPacer(own, {"telegram": PLATFORM_LIMITS["telegram"]})

        async def send(n: int) -> None:
            chat = f"chat-{(n + index * 7) % args.chats}"
            await pacer.wait("telegram", chat, held=True)  # as the messengers wait: answered at once here
            departures.append((time.monotonic(), chat))
            pacer.done("telegram", chat)

        async def burst() -> None:
            await asyncio.gather(*(send(n) for n in range(args.messages)))

        asyncio.run(burst())
        counts.append((pacer.reservations, pacer.retakes))
        pacer.close()
        own.dispose()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(args.pacers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
    admin.dispose()
    times = sorted(moment for moment, _ in departures)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - 1.0:
            start += 1
        most = max(most, end - start + 1)
    per_chat: defaultdict[str, list[float]] = defaultdict(list)
    for moment, chat in departures:
        per_chat[chat].append(moment)
    shortest = min(b - a for moments in per_chat.values() for a, b in itertools.pairwise(sorted(moments)))
    rate = (len(times) - 1) / (times[-1] - times[0])
    print(f"{args.pacers} pacers x {args.messages} messages to {args.chats} chats: {rate:.1f}/s "
          f"({rate / 30:.0%} of 30/s), most in one second {most}, shortest gap in a chat {shortest:.3f} s, "
          f"reservations {sum(r for r, _ in counts)}, retakes {sum(t for _, t in counts)}")


if __name__ == "__main__":
    main()
