"""Customer lists on both databases: XLSX and CSV (UTF-8 ± BOM, Big5, GB18030) in zh-Hant, zh-Hans and English,
rows of one company merged within the file and with the team's customers, re-imports updating, dry runs writing
nothing, and bad files refused with nothing half-imported."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import func, select

from core.db import session_scope
from core.models import AuditEvent, Contact, Customer, CustomerAlias
from core.services import customers as customer_service
from core.services import teams
from core.services.actor import Actor
from core.uow import unit_of_work
from core.usecases import customer_lists, customers
from core.usecases.customer_lists import NotACustomerList, UnknownOwner
from tests.customer_list_samples import (
    BAD,
    ENGLISH_HEADER,
    ENGLISH_ROWS,
    SHANGHAI_HEADER,
    SHANGHAI_ROWS,
    TAIPEI_HEADER,
    TAIPEI_ROWS,
    csv_bytes,
    excel_xlsx,
    xlsx,
)

SAMPLES = Path(__file__).parents[2] / "fixtures" / "exports"
NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


def team(engine) -> tuple[Actor, Actor, Actor]:
    """An owner (Amy Lin) and two salespeople (陳小姐 in Taipei, 王大明 in Shanghai) of one team."""
    with session_scope(engine) as session:
        owner = Actor.of(teams.found_team(session, teams.Newcomer("test", "owner", "dm1", "Amy Lin")))
        chen = teams.join(session, teams.create_invite(session, owner).code, teams.Newcomer("test", "s1", "dm2", "陳小姐"))
        wang = teams.join(session, teams.create_invite(session, owner).code, teams.Newcomer("test", "s2", "dm3", "王大明"))
        wang.country = "CN"
        session.add(wang)
        session.flush()
        return owner, Actor.of(chen), Actor.of(wang)


def run(engine, actor: Actor, data: bytes, name: str, **options) -> customer_lists.CustomerListImported:
    with unit_of_work(engine) as uow:
        return customer_lists.import_customer_list(uow, actor, data, name, now=NOW, **options)


def count(engine, model) -> int:
    with session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_a_traditional_chinese_workbook_under_title_rows_merges_one_companys_rows(engine):
    owner, chen, _ = team(engine)
    with session_scope(engine) as session:
        yongfeng_id = customer_service.create_customer(session, chen, "永丰电子").id  # known in Simplified
    data = xlsx(TAIPEI_HEADER, TAIPEI_ROWS, title=["2026 年 11 月 客戶名單", "業務部 製表"])
    assert customer_lists.is_customer_list(data, "客戶名單.xlsx")
    result = run(engine, owner, data, "客戶名單.xlsx")
    # rows 5–9 under two title rows, a blank row and the header: 大同 twice (row 7 merged), row 8 has no company
    assert (result.created, result.updated, result.merged_duplicates) == (2, 1, 1)
    assert [(s.row, s.reason) for s in result.skipped_rows] == [(8, "no company name")]
    assert result.names == ("大同五金股份有限公司", "美商3M股份有限公司台灣分公司")
    datong, yongfeng, three_m = result.customers
    assert datong.phones == ("+886223456789", "+886922111222") and datong.owner == "陳小姐"
    assert datong.contacts == ("王志明", "李副理") and datong.emails == ("wang@datong.com.tw",)
    assert (yongfeng.name, yongfeng.phones, yongfeng.owner) == ("永丰电子", ("+886912345678",), "陳小姐")
    assert three_m.emails == ("KHuang@3m.com",) and three_m.owner == "Amy Lin"
    with unit_of_work(engine) as uow:
        found = customers.find_customer(uow, owner, "大同五金")  # the merged row's name finds the customer
        assert found.customer is not None and found.customer.name == "大同五金股份有限公司"
        card = customers.customer_card(uow, owner, found.customer.id)
        assert [(c.name, c.title) for c in card.contacts] == [("王志明", "總經理"), ("李副理", "副理")]
        assert customers.customer_card(uow, owner, yongfeng_id).phones == ("+886912345678",)
    with session_scope(engine) as session:
        row = session.get(Customer, found.customer.id)
        assert row.tags == ["VIP", "五金"] and row.address == "台北市中山區南京東路二段100號"
        wang_contact = session.exec(select(Contact).where(Contact.name == "王志明")).one()
        assert (wang_contact.phones, wang_contact.email) == (["+886223456789"], "wang@datong.com.tw")
        # the Email and 備註 columns fill the customer's e-mails and notes, one line per row
        assert (row.emails, row.email, row.notes) == (["wang@datong.com.tw"], "wang@datong.com.tw",
                                                      "月底對帳\n二樓倉庫收貨")
        actions = session.exec(select(AuditEvent.action, AuditEvent.entity).where(AuditEvent.entity_id.is_not(None),
                                                                                 AuditEvent.action != "join")).all()
        assert sorted(a for a, e in actions if e == "customer") == ["create", "create", "create", "update"]


def test_a_re_import_updates_rather_than_doubles(engine):
    owner, _, _ = team(engine)
    data = xlsx(TAIPEI_HEADER, TAIPEI_ROWS)
    first = run(engine, owner, data, "list.xlsx")
    counts = (count(engine, Customer), count(engine, Contact), count(engine, CustomerAlias))
    again = run(engine, owner, data, "list.xlsx")
    assert (first.created, first.updated) == (3, 0)
    assert (again.created, again.updated, again.merged_duplicates, again.skipped) == (0, 3, 1, 1)
    assert (count(engine, Customer), count(engine, Contact), count(engine, CustomerAlias)) == counts
    assert again.as_json()["customers"] == first.as_json()["customers"]


def test_a_salesperson_s_gb18030_list_lands_on_a_colleagues_customer_without_a_second_one(engine):
    _, chen, wang = team(engine)
    with session_scope(engine) as session:
        midea_id = customer_service.create_customer(session, chen, "美的集團").id  # 陳小姐's, not shared
    data = csv_bytes(SHANGHAI_HEADER, SHANGHAI_ROWS, "gb18030", title="客户名单 2026")
    result = run(engine, wang, data, "客户名单.csv")  # 王大明 in CN: 138… is a Chinese mobile
    assert (result.created, result.updated, result.merged_duplicates, result.skipped) == (2, 1, 1, 0)
    midea = result.customers[0]
    # what the file gave, and whose customer it is; nothing else of the colleague's record is shown
    assert midea == customer_lists.ListedCustomer("美的集團", ("+8613812345678",), ("zhao@midea.cn",),
                                                  ("赵经理", "孙小姐"), "陳小姐", False)
    assert [c.owner for c in result.customers[1:]] == ["王大明", "王大明"]
    assert result.customers[2].phones == ("+8675586013388",)
    assert count(engine, Customer) == 3
    with session_scope(engine) as session:
        stored = session.get(Customer, midea_id)
        assert (stored.owner_id, stored.phones, stored.tags) == (chen.member_id, ["+8613812345678"], ["家电"])


def test_an_english_list_with_a_bom_dry_run_then_for_an_owner(engine):
    owner, _, _ = team(engine)
    with session_scope(engine) as session:
        customer_service.create_customer(session, owner, "Acme Trading", phones=["+14155550100"])
    data = csv_bytes(ENGLISH_HEADER, ENGLISH_ROWS, "utf-8-sig")
    before = (count(engine, Customer), count(engine, Contact), count(engine, AuditEvent))
    dry = run(engine, owner, data, "accounts.csv", dry_run=True, owner="陳小姐")
    assert (count(engine, Customer), count(engine, Contact), count(engine, AuditEvent)) == before
    done = run(engine, owner, data, "accounts.csv", owner="陳小姐")
    assert dry.as_json() == done.as_json() == {
        "created": 2, "updated": 1, "merged_duplicates": 1, "skipped": [],
        "customers": [
            {"name": "Acme Trading", "phones": ["+14155550100", "+14155550101"], "emails": ["anna@acme.example"],
             "contacts": ["Anna Lopez", "Mr. Lee"], "owner": "Amy Lin"},
            {"name": "Blue Harbour Logistics", "phones": ["+442079460958"], "emails": ["tom@blueharbour.example"],
             "contacts": ["Tom Baker"], "owner": "陳小姐"},
            {"name": "Globex Corporation", "phones": [], "emails": ["sales@globex.example"], "contacts": [],
             "owner": "陳小姐"}]}
    with pytest.raises(UnknownOwner), unit_of_work(engine) as uow:
        customer_lists.import_customer_list(uow, owner, data, "accounts.csv", owner="Nobody")


def test_a_big5_list_merges_rows_sharing_a_phone(engine):
    owner, _, _ = team(engine)
    data = csv_bytes(["公司", "電話", "聯絡人"], [["台積電", "03-5636688", "黃經理"],
                                              ["台灣積體電路製造股份有限公司", "03-563-6688 分機 1234", "蔡課長"],
                                              ["鴻海精密工業", "02-2268-3466", ""]], "cp950")
    result = run(engine, owner, data, "廠商.csv")
    assert (result.created, result.merged_duplicates) == (2, 1)
    assert result.customers[0].contacts == ("黃經理", "蔡課長")
    assert result.customers[0].phones == ("+88635636688",)


def test_a_list_is_told_from_an_export(engine):
    export = (SAMPLES / "whatsapp_android_en_us.txt").read_bytes()
    assert not customer_lists.is_customer_list(export, "WhatsApp Chat with Janet Wu.txt")
    assert customer_lists.is_customer_list("客戶名稱,電話\n大同五金行,02-2345-6789\n".encode(), None)
    assert not customer_lists.is_customer_list(b"Dear customer,\nthank you.\n", "letter.txt")


@pytest.mark.parametrize(("name", "data", "reason"), BAD, ids=[b[0] for b in BAD])
def test_bad_files_are_refused_by_reason_and_nothing_is_written(engine, name, data, reason):
    owner, _, _ = team(engine)
    with session_scope(engine) as session:
        customer_service.create_customer(session, owner, "大同五金行", phones=["+886223456789"])
    before = (count(engine, Customer), count(engine, Contact), count(engine, AuditEvent))
    assert customer_lists.is_customer_list(data, name)  # meant as a list: the reply says what is wrong
    with pytest.raises(NotACustomerList) as refused:
        run(engine, owner, data, name)
    assert refused.value.reason == reason
    assert (count(engine, Customer), count(engine, Contact), count(engine, AuditEvent)) == before


def test_a_workbook_as_excel_writes_it_shared_strings_numbers_and_dates(engine):
    owner, _, _ = team(engine)
    data = excel_xlsx(["客戶名稱", "手機", "聯絡人", "備註"],
                      [["宏遠紡織股份有限公司", 912345678, "周經理", ("date", 46000)],  # a phone typed as a number
                       ["", "", "", ""],
                       ["宏遠紡織", "0912-345-678", "周經理", "同一家"]], title="客戶名單(Excel)")
    assert customer_lists.is_customer_list(data, "名單.xlsx")
    result = run(engine, owner, data, "名單.xlsx")
    assert (result.created, result.merged_duplicates, result.skipped) == (1, 1, 0)
    assert result.customers[0].phones == ("+886912345678",) and result.customers[0].contacts == ("周經理",)
    with session_scope(engine) as session:
        assert session.exec(select(Customer.notes)).one() == "2025-12-09\n同一家"  # serial 46000, a date style


@pytest.mark.parametrize("chunk", [1, 2])
def test_a_list_read_in_small_chunks_merges_and_counts_as_one_read_does(engine, monkeypatch, chunk):
    monkeypatch.setattr(customer_lists, "CHUNK_ROWS", chunk)
    owner, _, _ = team(engine)
    data = xlsx(TAIPEI_HEADER, TAIPEI_ROWS)
    first = run(engine, owner, data, "list.xlsx")
    assert (first.created, first.updated, first.merged_duplicates, first.skipped) == (3, 0, 1, 1)
    datong = first.customers[0]
    assert datong.phones == ("+886223456789", "+886922111222") and datong.contacts == ("王志明", "李副理")
    again = run(engine, owner, data, "list.xlsx")
    assert (again.created, again.updated, again.merged_duplicates) == (0, 3, 1)
    assert again.as_json()["customers"] == first.as_json()["customers"]
    assert count(engine, Customer) == 3
    with session_scope(engine) as session:  # re-imported: the e-mails and notes are not doubled
        row = session.exec(select(Customer).where(Customer.name == "大同五金股份有限公司")).one()
        assert (row.emails, row.notes) == (["wang@datong.com.tw"], "月底對帳\n二樓倉庫收貨")


def test_a_list_that_turns_out_bad_after_a_stored_chunk_leaves_nothing(engine, monkeypatch):
    from core.services import list_files

    monkeypatch.setattr(customer_lists, "CHUNK_ROWS", 2)
    monkeypatch.setattr(list_files, "MAX_ROWS", 3)
    owner, _, _ = team(engine)
    before = (count(engine, Customer), count(engine, Contact), count(engine, AuditEvent))
    with pytest.raises(NotACustomerList) as refused:
        run(engine, owner, csv_bytes(ENGLISH_HEADER, ENGLISH_ROWS, "utf-8"), "accounts.csv")
    assert refused.value.reason == "too_many_rows"
    assert (count(engine, Customer), count(engine, Contact), count(engine, AuditEvent)) == before


def test_an_old_single_email_is_kept_beside_the_lists_emails(engine):
    owner, _, _ = team(engine)
    with session_scope(engine) as session:
        acme = customer_service.create_customer(session, owner, "Acme Trading")
        acme.email = "old@acme.example"  # as rows before migration 0008 had it
        session.add(acme)
    result = run(engine, owner, csv_bytes(ENGLISH_HEADER, ENGLISH_ROWS[:1], "utf-8"), "accounts.csv")
    assert result.customers[0].emails == ("old@acme.example", "anna@acme.example")
    with session_scope(engine) as session:
        stored = session.get(Customer, acme.id)
        assert (stored.emails, stored.email, stored.notes) == (["old@acme.example", "anna@acme.example"],
                                                               "old@acme.example", "prefers email")


@pytest.mark.parametrize("kind", ["xlsx", "excel", "csv"])
def test_a_list_longer_than_the_limit_is_refused_when_read_before_any_row_is_planned(monkeypatch, kind):
    from core.services import list_files

    monkeypatch.setattr(list_files, "MAX_ROWS", 4)
    make = {"xlsx": lambda rows: xlsx(TAIPEI_HEADER, rows, title=["2026 客戶名單"]),
            "excel": lambda rows: excel_xlsx(TAIPEI_HEADER, rows),
            "csv": lambda rows: csv_bytes(TAIPEI_HEADER, rows, "utf-8")}[kind]
    with pytest.raises(list_files.ListFileError) as refused:
        list_files.read_list(make(TAIPEI_ROWS), f"list.{kind}")  # 5 rows
    assert refused.value.reason == "too_many_rows"
    sheet = list_files.read_list(make(TAIPEI_ROWS[:4]), f"list.{kind}")  # at the limit: read
    assert len(list(sheet.rows)) == 4
