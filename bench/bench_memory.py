"""RSS of an idle bot process on a seeded database (bench/seed.py), measured from outside with psutil.

    .venv/bin/python bench/bench_memory.py sqlite:///bench/out/seed.db [--trace]

The child upgrades the schema and builds the bot (`bot.bootstrap.build`, no voice model) and reports its RSS
after start; then it handles a few notes through `ChatCRM.handle`: a known Chinese customer, one with a typo, an
English name with a typo, a contact only, and a new customer (which checks the team's company keys first), so
every part of the name index is built (parser index, fuzzy keys, company keys) — the realistic idle state of
a bot that has been answering. RSS is read again after a GC and a settle. A note that fails (an error logged)
fails the run.

`--trace`: run the child under tracemalloc instead and print the largest allocation sites after the notes
(the RSS figures of that run are inflated by tracemalloc itself and are not the result).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import asyncio, gc, logging, random, sys, time
from datetime import UTC, datetime
sys.path.insert(0, {root!r})
TRACE = {trace!r}
if TRACE:
    import tracemalloc
    tracemalloc.start()
errors = []
class Failures(logging.Handler):
    def emit(self, record):
        errors.append(record.getMessage())
        print(self.format(record), file=sys.stderr)
logging.getLogger().addHandler(Failures(logging.ERROR))
from bot.bootstrap import build
from core.chat import ChatRef, Envelope, Sender, TextIn
from core.schema import upgrade_schema
from core.settings import load_settings
from bench.bench_core import sales_actor
from core.db import make_engine
from sqlalchemy import text

url = {url!r}
engine = make_engine(url)
upgrade_schema(engine)
_, user = sales_actor(engine)
with engine.connect() as conn:
    zh = conn.execute(text("SELECT name FROM customer WHERE name NOT LIKE '% %' ORDER BY id LIMIT 2")).scalars().all()
    en = conn.execute(text("SELECT name FROM customer WHERE name LIKE '% % %' ORDER BY id LIMIT 1")).scalar_one()
engine.dispose()
app = build(load_settings("/nonexistent.toml", database_url=url, default_timezone="Asia/Taipei"))
gc.collect()
print("started", flush=True); sys.stdin.readline()

stamp = time.time_ns()
typo_en = en[:3] + en[4:]
# a new company unlike any earlier run's (a name close to one would be offered as that customer instead)
new_name = "".join(random.Random(stamp).sample("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥春夏秋冬梅蘭竹菊松柏桃李", 6))
NOTES = [f"拜訪{{zh[0]}}王總,要報價", f"打電話給{{zh[1][:2] + zh[1][3:]}}陳小姐,月結30天OK,明天下午3點再確認",
         f"Call with {{typo_en}}: price too high, send revised quote next week", "打電話給陳經理,他說下週再談",
         f"新客戶 {{new_name}}光電 張協理 要 5,000 片,提醒我週五前寄樣品"]

async def notes():
    chat, sender = ChatRef("bench", "bench"), Sender(user, "Bench")
    for i, note in enumerate(NOTES):
        await app.handle(TextIn(Envelope(chat, sender, f"{{stamp}}-{{i}}", datetime.now(UTC)), note))
started = time.perf_counter()
asyncio.run(notes())
gc.collect()
from core.services.name_index import name_index
team = next(iter(name_index._engines.values()), {{}})
built = [part for part in ("index", "grams", "companies") if all(getattr(t, part) is not None for t in team.values())]
if not team or len(built) < 3:
    errors.append("name index parts built: " + ", ".join(built))
    print(errors[-1], file=sys.stderr)
print("noted %d %.2f %d" % (len(NOTES), time.perf_counter() - started, len(errors)), flush=True)
if TRACE:
    for stat in tracemalloc.take_snapshot().statistics("lineno")[:25]:
        print("trace", stat, flush=True)
    print("trace total %.1f MB" % (tracemalloc.get_traced_memory()[0] / 1e6), flush=True)
    print("end", flush=True)
sys.stdin.readline()
"""


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 1e6


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    trace = "--trace" in sys.argv
    url = args[0] if args else "sqlite:///bench/out/seed.db"
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(root=str(ROOT), url=url, trace=trace)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert child.stdout and child.stdin
    out: dict[str, float] = {}
    first = child.stdout.readline().strip()
    if first != "started":
        raise SystemExit(f"the child did not start: {first!r}")
    time.sleep(1.0)
    out["after start"] = rss_mb(child.pid)
    child.stdin.write("\n")
    child.stdin.flush()
    noted = child.stdout.readline().split()
    if noted[:1] != ["noted"] or noted[3] != "0":
        raise SystemExit(f"a note failed in the child: {noted}")
    if trace:
        while (line := child.stdout.readline().strip()) != "end":
            print(line.removeprefix("trace "))
    time.sleep(1.0)
    out[f"idle after {noted[1]} notes (name index of the team built)"] = rss_mb(child.pid)
    child.stdin.write("\n")
    child.stdin.flush()
    child.wait(timeout=30)
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}; "
          f"database: {url.split(':')[0]}; {noted[1]} notes in {noted[2]} s" + (" (tracemalloc on)" if trace else ""))
    print(json.dumps({k: round(v, 1) for k, v in out.items()}))


if __name__ == "__main__":
    main()
