"""A customer list sent in the chat as a document: imported with a summary counting exactly what happened, or
refused with what was expected, in the member's language, with nothing half-imported (never "sorry")."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from bot.i18n import t
from core.db import session_scope
from core.models import AuditEvent, Contact, Customer
from tests.chat_helpers_lists import share
from tests.conversation import joined
from tests.customer_list_samples import (
    BAD,
    SHANGHAI_HEADER,
    SHANGHAI_ROWS,
    TAIPEI_HEADER,
    TAIPEI_ROWS,
    csv_bytes,
    xlsx,
)


def count(engine, model) -> int:
    with session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


async def test_a_workbook_sent_as_a_document_is_imported_with_a_summary_and_a_resend_updates(app, engine, owner):
    data = xlsx(TAIPEI_HEADER, TAIPEI_ROWS)  # header on row 1: 大同 twice (row 4 merged), row 5 has no company
    [reply] = await share(owner, "客戶名單.xlsx", data)
    assert reply.text == ("📇 Customer list imported: 3 new customers, 0 updated, 1 duplicate row merged, "
                          "1 row skipped.\n"
                          "New: 大同五金股份有限公司, 永豐電子有限公司, 美商3M股份有限公司台灣分公司\n"
                          "Row 5 skipped: no company name.")
    customers = count(engine, Customer)
    [again] = await share(owner, "客戶名單.xlsx", data)
    assert again.text == ("📇 Customer list imported: 0 new customers, 3 updated, 1 duplicate row merged, "
                          "1 row skipped.\nRow 5 skipped: no company name.")
    assert count(engine, Customer) == customers == 3
    with session_scope(engine) as session:
        datong = session.exec(select(Customer).where(Customer.name == "大同五金股份有限公司")).one()
        assert (datong.emails, datong.notes) == (["wang@datong.com.tw"], "月底對帳\n二樓倉庫收貨")


async def test_the_summary_is_written_in_each_members_language(app, owner, sales):
    [reply] = await share(sales, "名單.xlsx", xlsx(TAIPEI_HEADER, TAIPEI_ROWS[:2]))
    assert reply.text == "📇 客戶名單已匯入:新增 2 家,更新 0 家。\n新客戶:大同五金股份有限公司, 永豐電子有限公司"
    shanghai = await joined(owner, "cn1", "王大明", "zh-CN")
    [reply] = await share(shanghai, "客户名单.csv", csv_bytes(SHANGHAI_HEADER, SHANGHAI_ROWS, "gb18030"))
    assert reply.text.startswith("📇 客户名单已导入:新增 3 家,更新 0 家,合并重复 1 行。\n新客户:美的集团股份有限公司")


async def test_a_list_whose_rows_all_lack_a_company_says_so(app, engine, owner):
    [reply] = await share(owner, "list.csv", b"Company,Phone\n,0912-345-678\n")
    assert reply.text == ("📇 That list held no customer to import: every row was skipped.\n"
                          "Row 2 skipped: no company name.")
    assert count(engine, Customer) == 0


LANGUAGES = [("en", "en"), ("zh-TW", "zh-Hant"), ("zh-CN", "zh-Hans")]


@pytest.mark.parametrize(("code", "language"), LANGUAGES, ids=[lang for _, lang in LANGUAGES])
@pytest.mark.parametrize(("name", "data", "reason"), BAD, ids=[b[0] for b in BAD])
async def test_a_bad_list_gets_what_was_expected_in_the_members_language(app, engine, owner, name, data, reason,
                                                                        code, language):
    member = await joined(owner, f"m-{language}", "林志明", code)
    before = (count(engine, Customer), count(engine, Contact), count(engine, AuditEvent))
    [reply] = await share(member, name, data)
    assert reply.text == t(language, f"lists.{reason}", limit="100,000")
    assert "sorry" not in reply.text.lower()
    assert (count(engine, Customer), count(engine, Contact), count(engine, AuditEvent)) == before


def _hundred_thousand(kind: str) -> bytes:
    rows = [[f"永豐電子 {i} 有限公司", f"0912-{i // 1000:03d}-{i % 1000:03d}"] for i in range(100_000)]
    if kind == "csv":
        return csv_bytes(["公司名稱", "手機"], rows, "utf-8")
    import io

    from openpyxl import Workbook
    book = Workbook(write_only=True)
    sheet = book.create_sheet("客戶名單")
    sheet.append(["公司名稱", "手機"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_a_hundred_thousand_row_list_sent_in_the_chat_is_imported_whole(app, engine, owner, kind):
    [reply] = await share(owner, f"客戶名單.{kind}", _hundred_thousand(kind))
    assert reply.text.startswith("📇 Customer list imported: 100000 new customers, 0 updated.\nNew: 永豐電子 0 有限公司")
    assert count(engine, Customer) == 100_000
