"""A 100,000-row customer list (XLSX, zh-Hant / zh-Hans / English rows, 5% duplicates): import rate and peak
memory above idle, on SQLite (and PostgreSQL with --postgres URL).

    .venv/bin/python bench/bench_customer_lists.py [--postgres postgresql+psycopg://…/db]

Targets: >= 5,000 rows/s; peak RSS < 300 MB above idle. Each run is a child process: idle is its RSS with the
app's modules loaded and the file's bytes read; the peak is its getrusage max RSS. The workbook is generated
once (openpyxl write-only) into a temporary folder. Runs: a first import (every customer new) and a re-import
of the same file (every row matched, nothing new), through `core.usecases.customer_lists.import_customer_list`
with the customers listed (as `chatcrm import-customers --json` needs; the chat leaves them out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS = 100_000
HEADER = ["公司名稱", "聯絡人", "職稱", "電話", "Email", "地址", "標籤", "備註"]
ZH_HANT = ["大同", "永豐", "台光", "鴻達", "國泰", "新光", "華碩", "宏遠", "聯發", "統一"]
ZH_HANS = ["美的", "华为", "海尔", "格力", "联想", "腾讯", "比亚迪", "小米", "京东", "万科"]
TRADES_HANT = ["五金行", "電子", "精密工業", "實業", "貿易", "科技", "食品", "塑膠"]
TRADES_HANS = ["电子", "科技", "贸易", "实业", "机械", "食品", "物流", "家电"]
EN = ["Acme", "Globex", "Initech", "Umbrella", "Blue Harbour", "Northwind", "Contoso", "Fabrikam"]
SUFFIX_HANT = ["股份有限公司", "有限公司", "企業社", ""]
SUFFIX_HANS = ["有限公司", "集团有限公司", "股份有限公司", ""]
SUFFIX_EN = ["Co., Ltd.", "Inc.", "Ltd", "LLC", ""]
PEOPLE = ["王總", "陳小姐", "林經理", "李副理", "赵经理", "刘总", "Anna Lopez", "Tom Baker", "張課長", "黃老闆"]


def row(rng: random.Random, i: int) -> list[object]:
    kind = i % 3
    if kind == 0:
        name = f"{rng.choice(ZH_HANT)}{rng.choice(TRADES_HANT)}{i}{rng.choice(SUFFIX_HANT)}"
        phone: object = f"02-{2000 + i // 10000:04d}-{i % 10000:04d}"
        address = f"台北市中山區南京東路{i % 300}號"
    elif kind == 1:
        name = f"{rng.choice(ZH_HANS)}{rng.choice(TRADES_HANS)}{i}{rng.choice(SUFFIX_HANS)}"
        phone = f"+86 138 {i // 10000:04d} {i % 10000:04d}"
        address = f"上海市浦东新区世纪大道{i % 500}号"
    else:
        name = f"{rng.choice(EN)} Trading {i} {rng.choice(SUFFIX_EN)}".strip()
        phone = f"+1 415 {500 + i // 10000:03d} {i % 10000:04d}"
        address = f"{i % 900} Market St, San Francisco"
    return [name, rng.choice(PEOPLE), "採購", phone, f"buyer{i}@example.com", address, "VIP、經銷", "月底對帳"]


def workbook(path: Path) -> None:
    from openpyxl import Workbook

    rng = random.Random(13)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("客戶名單")
    sheet.append(["2026 年度客戶名單(業務部)"])
    sheet.append([])
    sheet.append(HEADER)
    recent: list[list[object]] = []
    for i in range(ROWS):
        if len(recent) > 7 and i % 20 == 0:  # 5%: an earlier company again, written another way
            again = list(recent[-7])
            name = str(again[0])
            again[0] = name.upper() if name.isascii() else name.replace("股份有限公司", "").replace("有限公司", "") + " 公司"
            again[1] = rng.choice(PEOPLE)
            if i % 40 == 0:
                again[0] = f"{name[:2]}分店{i}"  # another name, the same phone: merged by phone
            sheet.append(again)
        else:
            recent = [*recent[-9:], row(rng, i)]
            sheet.append(recent[-1])
    book.save(path)


def child(url: str, path: str) -> None:
    import resource

    import psutil

    sys.path.insert(0, str(ROOT))
    from core.db import make_engine, session_scope, upgrade
    from core.services.actor import Actor
    from core.services.teams import Newcomer, ensure_local_owner
    from core.uow import unit_of_work
    from core.usecases import customer_lists

    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        actor = Actor.of(ensure_local_owner(session, Newcomer("console", "local", "local", "Bench Owner")))
    data = Path(path).read_bytes()
    idle = psutil.Process().memory_info().rss
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    with unit_of_work(engine) as uow:
        result = customer_lists.import_customer_list(uow, actor, data, Path(path).name)
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss * 1024
    cpu_seconds = usage.ru_utime + usage.ru_stime - cpu.ru_utime - cpu.ru_stime
    engine.dispose()
    print(json.dumps({"seconds": elapsed, "rows": ROWS, "created": result.created, "updated": result.updated,
                      "merged": result.merged_duplicates, "skipped": result.skipped, "cpu_seconds": cpu_seconds,
                      "peak_above_idle_mb": (peak - idle) / 2**20, "idle_mb": idle / 2**20}))


def run(url: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", url, str(path)], check=True, capture_output=True,
                         text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL to run on as well")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    import psutil

    print(f"{platform.platform()}, Python {platform.python_version()}, {psutil.cpu_count()} CPUs, "
          f"{psutil.virtual_memory().total / 2**30:.1f} GB, load average {os.getloadavg()[0]:.2f} at the start")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "customers-100k.xlsx"
        started = time.perf_counter()
        workbook(path)
        print(f"workbook: {ROWS:,} rows, {path.stat().st_size / 2**20:.1f} MB, made in "
              f"{time.perf_counter() - started:.1f} s")
        targets = [("SQLite", f"sqlite:///{folder}/bench.db")]
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        for label, url in targets:
            for run_name in ("first import", "re-import"):
                figures = run(url, path)
                print(f"{label} {run_name}: {figures['seconds']:.2f} s = {ROWS / figures['seconds']:,.0f} rows/s; "
                      f"created {figures['created']:,}, updated {figures['updated']:,}, merged "
                      f"{figures['merged']:,}, skipped {figures['skipped']}; peak "
                      f"{figures['peak_above_idle_mb']:.0f} MB above idle ({figures['idle_mb']:.0f} MB); "
                      f"load average {os.getloadavg()[0]:.2f}; the bench process used {figures['cpu_seconds']:.1f} "
                      f"CPU s = {ROWS / figures['cpu_seconds']:,.0f} rows per CPU second")


if __name__ == "__main__":
    main()
