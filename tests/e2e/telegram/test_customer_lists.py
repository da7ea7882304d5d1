"""A customer list sent to the bot on Telegram as a document (python-telegram-bot against the fake Bot API):
the summary of what was imported, and a clear refusal of a list that cannot be imported, nothing stored."""

from __future__ import annotations

from sqlmodel import select

from core.db import session_scope
from core.models import Customer
from tests.customer_list_samples import BAD, TAIPEI_HEADER, TAIPEI_ROWS, xlsx
from tests.fakes.telegram_api import message

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def document(file_id: str, name: str, mime: str, data: bytes) -> dict:
    return message(None, document={"file_id": file_id, "file_unique_id": f"{file_id}-u", "file_name": name,
                                   "mime_type": mime, "file_size": len(data)})


async def test_a_list_sent_as_a_document_gets_the_summary_and_a_bad_one_what_was_expected(fake, running):
    app, _ = running
    fake.inject(message("/start"))
    await fake.wait_for("sendMessage", 1)
    data = xlsx(TAIPEI_HEADER, TAIPEI_ROWS, title=["2026 客戶名單"])
    fake.add_file("list1", data)
    fake.inject(document("list1", "客戶名單.xlsx", XLSX, data))
    reply = (await fake.wait_for("sendMessage", 2))[-1].body["text"]
    assert reply.startswith("📇 Customer list imported: 3 new customers, 0 updated, 1 duplicate row merged, "
                            "1 row skipped.\nNew: 大同五金股份有限公司, 永豐電子有限公司")
    assert reply.endswith("Row 7 skipped: no company name.")
    protected = dict((b[0], b[1]) for b in BAD)["protected.xlsx"]
    fake.add_file("list2", protected)
    fake.inject(document("list2", "protected.xlsx", XLSX, protected))
    refusal = (await fake.wait_for("sendMessage", 3))[-1].body["text"]
    assert refusal.startswith("That workbook is password-protected.")
    with session_scope(app.engine) as session:
        assert len(session.exec(select(Customer)).all()) == 3
