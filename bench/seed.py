"""Build a realistic data set: one team, 50 members, 100,000 customers, 1,000,000 interactions, 50,000 follow-ups.

    .venv/bin/python bench/seed.py sqlite:///bench/out/seed.db [--customers N --interactions N ...] [--in-order]

Uses bulk inserts (the row shapes are the real tables', via the migrated schema). `occurred_at` is drawn at random
over the last 200,000 minutes, or with `--in-order` rises with the insert order (a few hours of jitter), as real
notes arrive; the same random draws otherwise. Ends with `VACUUM ANALYZE` (what autovacuum would have done).
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlmodel import col

from core.db import make_engine, upgrade
from core.models import Contact, Customer, CustomerAlias, FollowUp, Interaction, Member, Team
from core.text import match_key, search_form

SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾周賴徐葉"
TRADES = ["五金行", "電子", "貿易", "機械", "塑膠", "食品", "建材", "印刷", "紡織", "精密"]
PLACES = ["大同", "永豐", "新光", "合興", "建國", "中華", "東昇", "華南", "信義", "光明", "天成", "聯發", "宏達"]
EN = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Wonka", "Tyrell"]
NOTES = ["拜訪{c}{p},他要A100一百件的報價,下週三前回覆", "打電話給{c},{p}說月結30天可以,等採購確認",
         "Visited {c}, {p} wants a quote for 200 units, follow up Friday", "{c} 王總 要樣品 3 箱,明天寄出",
         "拜访{c}{p},要B200五百个的报价", "Call with {c}: price too high, send revised quote next week"]


def customer_name(i: int, rng: random.Random) -> str:
    if i % 3 == 0:
        return f"{rng.choice(EN)} {rng.choice(['Trading', 'Industries', 'Supply', 'Tech'])} {i}"
    return f"{rng.choice(PLACES)}{rng.choice(TRADES)}{i}"


def seed(url: str, *, members: int, customers: int, interactions: int, follow_ups: int, batch: int = 20000,
         in_order: bool = False) -> None:
    rng = random.Random(7)
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    started = time.perf_counter()
    with engine.begin() as conn:
        team_id = conn.execute(insert(Team).values(name="Bench team", timezone="Asia/Taipei", language="zh-Hant", country="TW", silent_days=30, created_at=now).returning(col(Team.id))).scalar_one()
        member_rows = [{"team_id": team_id, "name": f"Sales {i}", "role": "owner" if i == 0 else "sales",
                        "timezone": "Asia/Taipei", "language": "zh-Hant", "country": "TW", "work_start": "09:00",
                        "work_end": "18:00", "work_days": "12345", "digest_time": "08:30", "active": True,
                        "created_at": now} for i in range(members)]
        conn.execute(insert(Member), member_rows)
    member_ids = list(range(1, members + 1))
    for start in range(0, customers, batch):
        rows: list[dict] = []
        aliases: list[dict] = []
        contacts: list[dict] = []
        for i in range(start, min(start + batch, customers)):
            name = customer_name(i, rng)
            rows.append({"id": i + 1, "team_id": team_id, "name": name, "name_key": match_key(name), "aliases": [], "emails": [],
                         "phones": [], "tags": [], "owner_id": member_ids[i % members], "shared": i % 10 == 0,
                         "important": i % 50 == 0, "created_at": now, "updated_at": now,
                         "last_interaction_at": now - timedelta(days=rng.randint(0, 90))})
            aliases.append({"team_id": team_id, "customer_id": i + 1, "alias": name, "key": match_key(name)})
            contacts.append({"team_id": team_id, "customer_id": i + 1, "name": f"{rng.choice(SURNAMES)}經理",
                             "name_key": "", "phones": [], "handles": {}, "created_at": now})
        with engine.begin() as conn:
            conn.execute(insert(Customer), rows)
            conn.execute(insert(CustomerAlias), aliases)
            conn.execute(insert(Contact), contacts)
    print(f"customers: {customers} in {time.perf_counter() - started:.1f}s", flush=True)
    for start in range(0, interactions, batch):
        rows = []
        for n in range(start, min(start + batch, interactions)):
            customer = rng.randint(1, customers)
            text = rng.choice(NOTES).format(c=f"客戶{customer}", p=f"{rng.choice(SURNAMES)}總")
            back = rng.randint(0, 200000)
            if in_order:  # the n-th note of `interactions`, give or take up to 4 hours
                back = max(0, 200000 - n * 200000 // interactions + back % 240)
            rows.append({"team_id": team_id, "customer_id": customer, "member_id": member_ids[customer % members],
                         "kind": rng.choice(["visit", "call", "note", "message"]), "text": text,
                         "search_text": search_form(text), "amounts": [], "details": {},
                         "occurred_at": now - timedelta(minutes=back), "created_at": now})
        with engine.begin() as conn:
            conn.execute(insert(Interaction), rows)
    print(f"interactions: {interactions} in {time.perf_counter() - started:.1f}s", flush=True)
    for start in range(0, follow_ups, batch):
        rows = []
        for _ in range(start, min(start + batch, follow_ups)):
            customer = rng.randint(1, customers)
            rows.append({"team_id": team_id, "customer_id": customer, "member_id": member_ids[customer % members],
                         "due_at": now + timedelta(minutes=rng.randint(-5000, 60000)), "action": "報價",
                         "status": "pending", "explicit_time": False, "attempts": 0, "sent_late": False,
                         "created_at": now, "updated_at": now})
        with engine.begin() as conn:
            conn.execute(insert(FollowUp), rows)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('customer','id'), (SELECT max(id) FROM customer))")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "VACUUM")
        conn.exec_driver_sql("ANALYZE")
    print(f"seeded in {time.perf_counter() - started:.1f}s", flush=True)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--follow-ups", type=int, default=50_000)
    parser.add_argument("--in-order", action="store_true", help="occurred_at rises with the insert order")
    args = parser.parse_args()
    seed(args.url, members=args.members, customers=args.customers, interactions=args.interactions,
         follow_ups=args.follow_ups, in_order=args.in_order)


if __name__ == "__main__":
    main()
