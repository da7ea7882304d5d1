"""A 100,000-message WhatsApp export: parse rate, import rate into SQLite, and peak memory above idle.

    .venv/bin/python bench/bench_chat_import.py

Targets: parse >= 100,000 messages/s; import into SQLite >= 20,000 messages/s; peak < 200 MB above idle.
Peak memory is the process's max RSS (getrusage) minus the RSS before the export was generated.
"""

from __future__ import annotations

import platform
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.db import make_engine, session_scope, upgrade
from core.exports import parse_export
from core.services import chat_import
from core.services.actor import Actor
from core.services.teams import Newcomer, ensure_local_owner
from core.understanding import parse_note

MESSAGES = 100_000
LINES = ["好的,我們8月15日前交貨", "Can you send the revised quote Friday?", "<媒體已略去>", "收到,謝謝!",
         "A100 一百件,單價 NT$1,500", "please confirm the 200 units by next week", "此訊息已刪除",
         "明天下午兩點再確認\n第二行:含運費", "OK 👍", "IMG-20240705-WA0001.jpg (file attached)"]


def export(n: int) -> bytes:
    rng = random.Random(3)
    start = datetime(2023, 1, 1, 8, 0)
    out = []
    for i in range(n):
        at = start + timedelta(minutes=7 * i + rng.randrange(5))
        hour = at.hour % 12 or 12
        half = "上午" if at.hour < 12 else "下午"
        who = "陳小姐" if rng.random() < 0.5 else "王大明"
        out.append(f"{at.year}/{at.month}/{at.day} {half}{hour}:{at.minute:02d} - {who}: {LINES[i % len(LINES)]}")
    return ("\n".join(out) + "\n").encode()


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def main() -> None:
    idle = rss_mb()
    data = export(MESSAGES)
    zone = ZoneInfo("Asia/Taipei")
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        conversation = parse_export(data, tz=zone)
        best = min(best, time.perf_counter() - started)
    assert len(conversation.messages) == MESSAGES, len(conversation.messages)
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/import.db")
        upgrade(engine)
        with session_scope(engine) as session:
            member = ensure_local_owner(session, Newcomer("console", "local", "local", "王大明"))
            actor = Actor.of(member)
        started = time.perf_counter()
        with session_scope(engine) as session:
            result = chat_import.store_conversation(session, actor, conversation.messages, fmt="whatsapp",
                                                    title="陳小姐", me="王大明", customer=None,
                                                    note_parser=parse_note, now=datetime.now(UTC),
                                                    tz="Asia/Taipei")
        stored = time.perf_counter() - started
        engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"machine: {platform.machine()} {psutil.cpu_count()} cpus, Python {platform.python_version()}")
    print(f"export: {MESSAGES:,} WhatsApp messages, {len(data) / 2**20:.1f} MB")
    print(f"parse   {best:6.2f} s   {MESSAGES / best:10,.0f} messages/s   (target >= 100,000/s, best of 3)")
    print(f"import  {stored:6.2f} s   {result.added / stored:10,.0f} messages/s   (target >= 20,000/s, SQLite, one "
          f"transaction, promises scanned)")
    print(f"memory  idle {idle:.0f} MB, peak {peak:.0f} MB, peak above idle {peak - idle:.0f} MB   (target < 200 MB)")


if __name__ == "__main__":
    main()
