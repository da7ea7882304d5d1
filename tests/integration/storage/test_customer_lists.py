"""Customer lists (CSV in UTF-8/Big5, XLSX) import in one transaction, merging with known customers."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlmodel import func, select

from core.db import session_scope
from core.models import Contact, Customer
from core.services import customers, teams
from core.services.actor import Actor
from core.services.customer_lists import NotACustomerList, import_customer_list, is_customer_list


def _owner(session) -> Actor:
    return Actor.of(teams.found_team(session, teams.Newcomer("test", "1", "dm1", "Amy")))


def test_csv_with_chinese_headers_in_big5(engine):
    data = "客戶名稱,電話,聯絡人,職稱,標籤\n大同五金行,02-2345-6789,王總,總經理,VIP、五金\n永豐電子,,陳小姐,,\n,,,\n".encode("big5")
    assert is_customer_list(data)
    with session_scope(engine) as session:
        owner = _owner(session)
        customers.create_customer(session, owner, "永丰电子")  # known in Simplified: updated, not duplicated
        result = import_customer_list(session, owner, data)
        assert (result.created, result.updated, result.skipped) == (1, 1, 1)
        datong = session.exec(select(Customer).where(Customer.name == "大同五金行")).one()
        assert datong.phones == ["02-2345-6789"]
        contact = session.exec(select(Contact).where(Contact.customer_id == datong.id)).one()
        assert (contact.name, contact.title) == ("王總", "總經理")
        assert session.exec(select(func.count()).select_from(Customer)).one() == 2


def test_xlsx_with_english_headers(engine):
    book = Workbook()
    sheet = book.active
    sheet.append(["Company", "Email", "Region"])
    sheet.append(["Acme Trading", "lee@acme.test", "Taipei"])
    buffer = io.BytesIO()
    book.save(buffer)
    with session_scope(engine) as session:
        result = import_customer_list(session, _owner(session), buffer.getvalue())
        assert result.created == 1
        acme = session.exec(select(Customer)).one()
        assert (acme.email, acme.region) == ("lee@acme.test", "Taipei")


@pytest.mark.parametrize("data", [b"", b"just,some,columns\n1,2,3\n", b"\x00\x01\x02binary", b"PK\x03\x04broken"])
def test_files_that_are_not_customer_lists_are_refused(engine, data):
    assert not is_customer_list(data)
    with session_scope(engine) as session, pytest.raises(NotACustomerList):
        import_customer_list(session, _owner(session), data)
