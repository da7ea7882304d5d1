"""The note parser with 100,000 known customers: per-note latency (p50/p99) and index build time.

    .venv/bin/python bench/bench_parse.py

Customer names come from the seed script's generator (Chinese and English company names); notes mix
known customers, typos, unknown names and every language.
"""

from __future__ import annotations

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

CUSTOMERS = 100_000
NOTES = 5_000
TEMPLATES = ["拜訪{c}王總,他要A100一百件的報價,下週三前回覆", "Visited {c}, Mr. Lee wants a quote for 200 units, follow up Friday",
             "打電話給{c}陳小姐,月結30天OK,明天下午3點再確認", "拜访{c}李老板,要B200五百个的报价,后天回复",
             "{c} Janet Wu 要報價 200 pcs,明天 follow up", "昨天下午拜訪了{c},談得不錯,月底前再約",
             "call {c} tmr 3pm re: invoice NT$1,500", "{c}那邊說要 80 萬的案子,下個月5號開會"]


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    rng = random.Random(7)
    names = [customer_name(i, rng) for i in range(CUSTOMERS)]
    started = time.perf_counter()
    index = CustomerIndex(KnownCustomer(i, name, (), (f"{name[:1]}經理",)) for i, name in enumerate(names, 1))
    build = time.perf_counter() - started
    now = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Asia/Taipei"))
    samples: list[float] = []
    for i in range(NOTES):
        name = names[rng.randrange(CUSTOMERS)]
        if i % 5 == 4 and len(name) > 3:  # a typo: one character dropped
            cut = rng.randrange(1, len(name) - 1)
            name = name[:cut] + name[cut + 1:]
        note = TEMPLATES[i % len(TEMPLATES)].format(c=name)
        started = time.perf_counter()
        parse_note(note, now=now, tz="Asia/Taipei", customers=index)
        samples.append(time.perf_counter() - started)
    print(f"machine: {platform.machine()} {platform.processor() or ''} Python {platform.python_version()}")
    print(f"index of {CUSTOMERS:,} customers built in {build:.2f} s")
    print(f"parse_note  p50 {pct(samples, .5):6.2f} ms   p99 {pct(samples, .99):6.2f} ms   "
          f"max {max(samples) * 1000:6.2f} ms   n={NOTES}   (target p99 <= 5 ms)")


if __name__ == "__main__":
    main()
