"""After `/erase` on SQLite the erased bytes are gone from the database's files at once, not at some later
checkpoint: the erasure's connection zeroes what it frees (secure_delete) and, once committed, the WAL is copied
into the database file and truncated. The scan reads the raw bytes of chatcrm.db and chatcrm.db-wal for the
customer's name, contact, phone and e-mail in UTF-8 and in the JSON-escaped form JSON columns store. The second
test plays the erasure as the inbox worker does: raw updates stored (the press quoting the preview), replies held
in the outbox and marked sent, the row finished."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from core.chat import ButtonIn, CommandIn
from core.services import inbox, outbox
from tests.chat_helpers_lists import share
from tests.customer_list_samples import csv_bytes

NAME, CONTACT, PHONE, EMAIL = "翡翠鸚鵡設計", "鄔翠萍", "0987 654 321", "cuiping.wu@feicui-parrot.tw"
WORDS = (NAME, "翡翠鸚鵡", CONTACT, EMAIL, "feicui-parrot", "+886987654321", "0987654321", "0987-654-321", "987654321")


def forms(word: str) -> set[bytes]:
    """How SQLite may hold `word`: UTF-8 as typed and lower-cased, and JSON's \\uXXXX escapes of it."""
    escaped = json.dumps(word)[1:-1]
    return {word.encode(), word.lower().encode(), escaped.encode(), escaped.upper().replace("\\U", "\\u").encode()}


def found_in(path: Path) -> dict[str, int]:
    data = path.read_bytes() if path.exists() else b""
    return {word: n for word in WORDS if (n := sum(data.count(f) for f in forms(word)))}


def files(engine) -> tuple[Path, Path]:
    database = Path(engine.url.database or "")
    return database, database.with_name(database.name + "-wal")


async def populate(sales) -> None:
    await share(sales, "名單.csv", csv_bytes(["公司名稱", "聯絡人", "電話", "Email"], [[NAME, CONTACT, PHONE, EMAIL]],
                                              "utf-8"))
    await sales.say(f"拜訪{NAME} {CONTACT}要樣品，寄到 {EMAIL}，下週三前回覆")
    await sales.say(f"{NAME} 報價 12 萬，{CONTACT}說電話 {PHONE} 找她")
    await sales.say("/c 翡翠鸚鵡")


def assert_clean(engine, *, wal_empty: bool = True) -> None:
    database, wal = files(engine)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA secure_delete")).scalar() == 1
    assert found_in(database) == {}
    assert found_in(wal) == {}
    assert not wal_empty or not wal.exists() or wal.stat().st_size == 0


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
async def test_an_erased_customer_leaves_no_bytes_in_the_database_file_or_its_wal(app, engine, owner, sales):
    database, wal = files(engine)
    await populate(sales)
    before = {**found_in(database), **{f"wal:{k}": v for k, v in found_in(wal).items()}}
    assert NAME in before or f"wal:{NAME}" in before  # the scan sees the data while it is there

    [confirm] = await owner.say(f"/erase {NAME} 原因：本人要求")
    [done] = await owner.press("Erase permanently", confirm)
    assert done.text.startswith("🗑 Erased:") and NAME not in done.text
    assert_clean(engine)


async def from_inbox(app, engine, key: str, payload: dict, incoming, later: float) -> list:
    """`incoming` handled as the inbox worker does: its raw update stored and claimed, the replies marked sent in
    the transaction that finishes the row."""
    now = app.clock.now() + timedelta(seconds=later)
    with Session(engine) as session:
        inbox.store(session, "test", [(key, "test:dm-owner", payload)], now)
        session.commit()
        [claim] = [c for c in inbox.claim(session, "w1", now) if c.key == key]
        session.commit()
    claim.sent = []
    with inbox.processing(claim):
        replies = await app.handle(incoming)
        for reply in replies:
            receipt = outbox.receipt_of(reply)
            if receipt is not None:
                await receipt.sent()
    with Session(engine) as session:
        inbox.finish(session, "w1", claim.id, claim.sent, now)
        session.commit()
    return replies


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
async def test_an_erasure_from_the_inbox_leaves_no_bytes_either(app, engine, owner, sales):
    await populate(sales)
    typed = f"/erase {NAME} 原因：本人要求"
    [confirm] = await from_inbox(app, engine, "u:1", {"message": {"message_id": 1, "text": typed}},
                                 CommandIn(owner.envelope(), "erase", typed.split(" ", 1)[1]), 0)
    payload = confirm.buttons[0][0].payload
    press = {"callback_query": {"id": "c1", "data": payload, "message": {"message_id": 2, "text": confirm.text}}}
    [done] = await from_inbox(app, engine, "u:2", press, ButtonIn(owner.envelope(), payload, callback_id="c1"), 1)
    assert done.text.startswith("🗑 Erased:")
    assert_clean(engine, wal_empty=False)  # the worker wrote after the checkpoint (marked sent, finished)
