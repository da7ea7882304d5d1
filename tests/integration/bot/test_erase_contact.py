"""/erase of a contact person in the conversation on both databases: a customer list gave the customer the
contact's phone and e-mail (and another row copied the e-mail onto another customer and its contact); after the erasure
neither the customer's card, nor its rows, nor any other contact, note or audit snapshot of the team keeps them,
while the customer's other numbers and addresses stay."""

from __future__ import annotations

from sqlmodel import select

from core.db import session_scope
from core.models import AuditEvent, Contact, Customer, Interaction
from tests.chat_helpers_lists import share
from tests.customer_list_samples import csv_bytes

HEADER = ["公司名稱", "聯絡人", "電話", "Email"]
ROWS = [
    ["大同五金", "王志明", "+886223456789", "wang@datong.com.tw"],
    ["大同五金", "李副理", "0922 111 222", "lee@datong.com.tw"],
    ["大同物流", "陳經理", "0933 000 111", "WANG@datong.com.tw"],  # a copy of 王志明's e-mail
]


def rows(engine):
    with session_scope(engine) as session:
        return (list(session.exec(select(Customer).order_by(Customer.id))),
                list(session.exec(select(Contact).order_by(Contact.id))),
                list(session.exec(select(Interaction))), list(session.exec(select(AuditEvent))))


async def test_erasing_a_contact_removes_their_phone_and_email_everywhere_in_the_team(app, engine, owner, sales):
    [imported] = await share(sales, "客戶名單.csv", csv_bytes(HEADER, ROWS, "utf-8"))
    assert imported.text.startswith("📇")
    await sales.say("拜訪大同五金 王志明說報價寄到 wang@datong.com.tw 或打 02-2345-6789，下週三前回覆")
    [card] = await sales.say("/c 大同五金")
    assert "wang@datong.com.tw" in card.text and "+886223456789" in card.text

    [confirm] = await owner.say("/erase 王志明 原因：本人要求")
    assert confirm.text.startswith("⚠️ Erase the contact person <b>王志明</b> (大同五金) permanently?")
    [done] = await owner.press("Erase permanently", confirm)
    assert done.text.startswith("🗑 The contact person is erased from 大同五金.") and "王志明" not in done.text

    [card] = await sales.say("/c 大同五金")
    assert "wang@datong.com.tw" not in card.text.lower() and "2345-6789" not in card.text
    assert "+886223456789" not in card.text and "王志明" not in card.text
    assert "lee@datong.com.tw" in card.text  # the other contact's details stay

    customers, contacts, notes, events = rows(engine)
    datong, logistics = customers
    assert "wang@datong.com.tw" not in [e.lower() for e in datong.emails] and datong.email != "wang@datong.com.tw"
    assert "lee@datong.com.tw" in datong.emails and "+886922111222" in datong.phones
    assert "+886223456789" not in datong.phones + logistics.phones
    assert [c.name for c in contacts] == ["李副理", "陳經理"]
    chen = contacts[1]
    assert (chen.phones, chen.email) == (["+886933000111"], None) and (logistics.email, logistics.emails) == (None, [])
    everything = repr([(c.phones, c.emails, c.email, c.notes) for c in customers]
                      + [(c.phones, c.email, c.notes) for c in contacts]
                      + [(n.text, n.search_text, n.details) for n in notes]
                      + [(e.before, e.after) for e in events]).lower()
    for word in ("wang@datong.com.tw", "2345-6789", "223456789", "王志明"):
        assert word not in everything, word
    [erasure] = [e for e in events if e.entity == "erasure"]
    assert erasure.after is not None and erasure.after["removed"]["redacted"] >= 3  # 2 customers, 1 contact, notes
