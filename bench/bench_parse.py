"""The note parser with 100,000 known customers: per-note latency (p50/p99) and index build time.

    .venv/bin/python bench/bench_parse.py

Customer names come from the seed script's generator (Chinese and English company names); notes mix
known customers, typos, unknown names, new-customer markers and every language. The first 200 notes warm the
caches and are not counted. The index's resident memory is printed too (RSS after − before the build). Two runs: as is, and with the index frozen out of the garbage collector's sight
(`gc.freeze()` after building it), which is what a long-lived bot process can do with its index.
"""

from __future__ import annotations

import gc
import os
import platform
import random
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.seed import customer_name
from core.understanding import CustomerIndex, KnownCustomer, parse_note
from core.voice.memory import trim

CUSTOMERS = 100_000
NOTES = 5_000
TEMPLATES = ["拜訪{c}王總,他要A100一百件的報價,下週三前回覆", "Visited {c}, Mr. Lee wants a quote for 200 units, follow up Friday",
             "打電話給{c}陳小姐,月結30天OK,明天下午3點再確認", "拜访{c}李老板,要B200五百个的报价,后天回复",
             "{c} Janet Wu 要報價 200 pcs,明天 follow up", "昨天下午拜訪了{c},談得不錯,月底前再約",
             "call {c} tmr 3pm re: invoice NT$1,500", "{c}那邊說要 80 萬的案子,下個月5號開會",
             "今天跟{c}赵经理吃饭,他说预算200万元,下周三前报价", "新客戶 {c} 張協理 要 5,000 片,提醒我週五前寄樣品",
             "Met a new prospect, {c}, buyer Anna Lopez wants 5,000 PCBs quoted by Friday",
             "{c} Lee said ok, send the PO draft tomorrow"]
WARM_UP = 200


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _rss_mb() -> float:
    """Resident memory (Linux /proc; 0 elsewhere)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError):
        return 0.0


def _machine() -> str:
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or "?"
    return f"{platform.machine()} {model}, Python {platform.python_version()}"


def _notes(names: list[str], rng: random.Random) -> list[str]:
    notes = []
    for i in range(NOTES + WARM_UP):
        name = names[rng.randrange(CUSTOMERS)]
        if i % 5 == 4 and len(name) > 3:  # a typo: one character dropped
            cut = rng.randrange(1, len(name) - 1)
            name = name[:cut] + name[cut + 1:]
        notes.append(TEMPLATES[i % len(TEMPLATES)].format(c=name))
    return notes


def _run(notes: list[str], index: CustomerIndex) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (this thread's) seconds per note: on a shared machine the two differ by the waits."""
    now = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Asia/Taipei"))
    wall: list[float] = []
    cpu: list[float] = []
    for i, note in enumerate(notes):
        started, started_cpu = time.perf_counter(), time.thread_time()
        parse_note(note, now=now, tz="Asia/Taipei", customers=index, country="TW", language="zh-Hant")
        if i >= WARM_UP:
            wall.append(time.perf_counter() - started)
            cpu.append(time.thread_time() - started_cpu)
    return wall, cpu


def main() -> None:
    rng = random.Random(7)
    names = [customer_name(i, rng) for i in range(CUSTOMERS)]
    gc.collect()
    before = _rss_mb()
    started = time.perf_counter()
    index = CustomerIndex(KnownCustomer(i, name, (), (f"{name[:1]}經理",)) for i, name in enumerate(names, 1))
    build = time.perf_counter() - started
    gc.collect()
    trim()  # what the name index does after a build: freed memory back to the OS
    held = _rss_mb() - before
    notes = _notes(names, rng)
    print(f"machine: {_machine()}")
    print(f"index of {CUSTOMERS:,} customers built in {build:.2f} s, holding {held:.1f} MB RSS")
    for label in ("as is", "gc.freeze()"):
        if label == "gc.freeze()":
            gc.collect()
            gc.freeze()
        wall, cpu = _run(notes, index)
        for kind, samples in (("wall", wall), ("cpu", cpu)):
            print(f"parse_note ({label:11}, {kind:4}) p50 {pct(samples, .5):6.2f} ms   p99 {pct(samples, .99):6.2f} ms"
                  f"   max {max(samples) * 1000:6.2f} ms   n={NOTES}   (target p99 <= 5 ms)")
    print(f"load average while measuring: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
