"""RSS of an idle bot process on a seeded database (bench/seed.py), measured from outside with psutil.

    .venv/bin/python bench/bench_memory.py sqlite:///bench/out/seed.db

The child builds the bot (`bot.bootstrap.build`, no voice model), reports its RSS after start, then logs
one note (which builds the team's name index: 100,000 customers) and reports again after a GC and a settle.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import asyncio, gc, itertools, sys, time
from datetime import UTC, datetime
sys.path.insert(0, {root!r})
from bot.bootstrap import build
from core.chat import ChatRef, Envelope, Sender, TextIn
from core.settings import load_settings
from bench.bench_core import sales_actor
from core.db import make_engine

url = {url!r}
engine = make_engine(url)
_, user = sales_actor(engine)
engine.dispose()
app = build(load_settings("/nonexistent.toml", database_url=url, default_timezone="Asia/Taipei"))
print("started", flush=True); sys.stdin.readline()

async def note():
    chat, sender = ChatRef("bench", "bench"), Sender(user, "Bench")
    return await app.handle(TextIn(Envelope(chat, sender, str(time.time_ns()), datetime.now(UTC)),
                                   "拜訪大同五金行0王總,要報價"))
started = time.perf_counter()
asyncio.run(note())
gc.collect()
print("noted %.2f" % (time.perf_counter() - started), flush=True); sys.stdin.readline()
"""


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 1e6


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "sqlite:///bench/out/seed.db"
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(root=str(ROOT), url=url)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert child.stdout and child.stdin
    out: dict[str, float] = {}
    first = child.stdout.readline().strip()
    time.sleep(1.0)
    out["after start"] = rss_mb(child.pid)
    child.stdin.write("\n")
    child.stdin.flush()
    noted = child.stdout.readline().strip()
    time.sleep(1.0)
    out["after the first note (index built)"] = rss_mb(child.pid)
    child.stdin.write("\n")
    child.stdin.flush()
    child.wait(timeout=30)
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores; database: {url.split(':')[0]}; "
          f"{first}; first note {noted.split()[-1]} s")
    print(json.dumps({k: round(v, 1) for k, v in out.items()}))


if __name__ == "__main__":
    main()
