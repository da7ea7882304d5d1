"""Shared contacts as people and edited notes through python-telegram-bot and the fake Bot API."""

from __future__ import annotations

import json

from sqlmodel import select

from core.db import session_scope
from core.models import Contact, Customer, Interaction
from tests.fakes.telegram_api import callback, message

VCARD = ("BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lopez;Anna;;;\r\nFN:Anna Lopez\r\nORG:Blue Harbour Trading;Purchasing\r\n"
         "TITLE:Buyer\r\nEMAIL;TYPE=WORK:anna@blueharbour.com\r\nTEL;TYPE=CELL:+1 650 253 0000\r\n"
         "TEL;TYPE=WORK:+1 650 253 0001\r\nEND:VCARD\r\n")


async def say(fake, text: str, n: int) -> dict:
    fake.inject(message(text))
    return (await fake.wait_for("sendMessage", n))[-1].body


def keyboard(body: dict) -> list[tuple[str, str]]:
    markup = body["reply_markup"]
    markup = json.loads(markup) if isinstance(markup, str) else markup
    return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]


async def test_a_shared_vcard_keeps_the_person_and_its_company_is_offered_first(fake, running):
    app, _ = running
    await say(fake, "/start", 1)
    await say(fake, "/new Globex", 2)
    await say(fake, "/new Blue Harbour Trading", 3)
    contact = {"phone_number": "+16502530000", "first_name": "Anna", "last_name": "Lopez", "vcard": VCARD}
    fake.inject(message(None, contact=contact))
    asked = (await fake.wait_for("sendMessage", 4))[-1].body
    buttons = keyboard(asked)
    assert buttons[0][0] == "Blue Harbour Trading" and buttons[-1][0] == "✖️ Cancel"
    assert "Buyer" in asked["text"] and "anna@blueharbour.com" in asked["text"] and "+16502530001" in asked["text"]
    fake.inject(callback(buttons[0][1], message_id=700))
    await fake.wait_for("editMessageText", 1)
    with session_scope(app.engine) as session:
        anna = session.exec(select(Contact)).one()
        harbour = session.exec(select(Customer).where(Customer.name == "Blue Harbour Trading")).one()
        assert (anna.name, anna.customer_id, anna.title, anna.email) == ("Anna Lopez", harbour.id, "Buyer",
                                                                         "anna@blueharbour.com")
        assert anna.phones == ["+16502530000", "+16502530001"]


async def test_editing_the_message_of_a_note_edits_the_note(fake, running):
    app, _ = running
    await say(fake, "/start", 1)
    original = message("Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday")
    fake.inject(original)
    await fake.wait_for("sendMessage", 2)
    edited = {**original["message"], "text": "Visited Acme, Mr. Lee wants a quote for 300 units, follow up Friday",
              "edit_date": original["message"]["date"] + 30}
    fake.inject({"edited_message": edited})
    updated = (await fake.wait_for("sendMessage", 3))[-1].body["text"]
    assert "Note updated" in updated and "300" in updated
    with session_scope(app.engine) as session:
        assert "300 units" in session.exec(select(Interaction)).one().text
