"""A shared contact filed on a customer, on both databases: chosen, typed (resolved, new, or asked again)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.bootstrap import build
from core.chat import ContactIn
from core.db import session_scope
from core.models import Contact, Customer
from core.services import customers as customer_service
from core.services import teams
from core.services.actor import Actor
from core.settings import load_settings
from core.uow import unit_of_work
from core.usecases import contacts
from core.usecases.contacts import ContactSaved, SharedContact, WhichCustomer
from core.usecases.views import CustomerRef
from tests.conversation import Chat, RecordingMessenger


def owner(engine, country: str = "TW") -> Actor:
    with session_scope(engine) as session:
        return Actor.of(teams.found_team(session, teams.Newcomer("test", "owner", "dm1", "Amy Lin", country=country)))


def test_a_shared_contact_is_read_with_its_phone_in_e164_and_the_recent_customers_offered(engine):
    actor = owner(engine)
    with unit_of_work(engine) as uow:
        acme = customer_service.create_customer(uow.session, actor, "Acme")
        received = contacts.receive_contact(uow, actor, name=" 王總 ", phone="0912 345 678", platform="telegram",
                                            platform_user_id="777")
    assert received.contact == SharedContact("王總", "+886912345678", "telegram", "777",
                                             phones=("+886912345678",))
    assert received.choices == (CustomerRef(acme.id, "Acme"),)
    assert SharedContact.from_json(received.contact.to_json(), "slack") == received.contact
    with unit_of_work(engine) as uow:
        nameless = contacts.receive_contact(uow, actor, name="", phone="+1 650 253 0000", platform="telegram")
    assert nameless.contact.name == nameless.contact.phone == "+16502530000"


def test_saving_on_a_chosen_customer_keeps_the_phone_and_chat_account(engine):
    actor = owner(engine)
    with unit_of_work(engine) as uow:
        acme = customer_service.create_customer(uow.session, actor, "Acme").id
        contact = SharedContact("王總", "+886912345678", "telegram", "777")
        assert contacts.save_contact(uow, actor, acme, contact) == ContactSaved("王總", CustomerRef(acme, "Acme"))
        contacts.save_contact(uow, actor, acme, contact)  # shared twice: one contact
    with session_scope(engine) as session:
        saved = session.exec(select(Contact)).one()
        assert (saved.customer_id, saved.phones, saved.handles) == (acme, ["+886912345678"], {"telegram": "777"})


def test_a_typed_customer_is_resolved_created_or_asked_among_several(engine):
    actor = owner(engine)
    contact = SharedContact("陳小姐", None, "telegram")
    with unit_of_work(engine) as uow:
        first = customer_service.create_customer(uow.session, actor, "大同五金").id
        customer_service.create_customer(uow.session, actor, "大同電子")
        asked = contacts.save_contact_to_named(uow, actor, " 大同 ", contact)
        assert isinstance(asked, WhichCustomer) and asked.name == "大同"
        assert {c.name for c in asked.candidates} == {"大同五金", "大同電子"}
        known = contacts.save_contact_to_named(uow, actor, "大同五金", contact)
        assert known == ContactSaved("陳小姐", CustomerRef(first, "大同五金"))
        new = contacts.save_contact_to_named(uow, actor, "Acme", contact)
        assert isinstance(new, ContactSaved) and new.customer.name == "Acme"
    with session_scope(engine) as session:
        assert len(session.exec(select(Customer)).all()) == 3 and len(session.exec(select(Contact)).all()) == 2


@pytest.fixture
def settings(tmp_path):
    return load_settings(tmp_path / "none.toml", default_timezone="Asia/Taipei", default_language="en")


async def test_in_the_chat_a_contact_is_asked_for_and_filed(engine, clock, settings):
    app = build(settings, clock=clock, engine=engine)
    app.attach(RecordingMessenger("test"))
    amy = Chat(app, "owner", "Amy Lin", "en")
    await amy.say("/start")
    await amy.say("/new Acme")
    ask = (await amy.contact("王總", "0912 345 678", "777"))[0]
    assert "+886912345678" in ask.text and [b.label for row in ask.buttons for b in row] == ["Acme", "✖️ Cancel"]
    saved = (await amy.press("Acme", ask))[0]
    assert saved.edit and "王總" in saved.text and "Acme" in saved.text
    assert "Acme" not in (await amy.press("Acme", ask))[0].text  # the question was answered: a stale button
    await amy.contact("Lee", None)
    typed = (await amy.say("Brand New Co"))[0]
    assert "Lee" in typed.text and "Brand New Co" in typed.text and not typed.edit
    with session_scope(engine) as session:
        lee = session.exec(select(Contact).where(Contact.name == "Lee")).one()
        assert session.get(Customer, lee.customer_id).name == "Brand New Co"


def test_a_vcard_keeps_title_company_email_and_every_phone_and_the_company_comes_first(engine):
    actor = owner(engine)
    with unit_of_work(engine) as uow:
        globex = customer_service.create_customer(uow.session, actor, "Globex").id
        tatung = customer_service.create_customer(uow.session, actor, "大同五金行").id
        received = contacts.receive_contact(
            uow, actor, name="王大明", phone="0912-345-678", platform="telegram", company=" 大同五金行 ",
            title="副理", email=" <Wang@Tatung.com.tw> ", phones=("0912-345-678", "(02) 2712-3456"))
    assert received.contact.phones == ("+886912345678", "+886227123456")
    assert (received.contact.company, received.contact.title, received.contact.email) == (
        "大同五金行", "副理", "wang@tatung.com.tw")
    assert received.suggested == CustomerRef(tatung, "大同五金行") and received.new_company is None
    assert [c.id for c in received.choices] == [tatung, globex]  # the company first, once
    assert SharedContact.from_json(received.contact.to_json(), "slack") == received.contact
    with unit_of_work(engine) as uow:
        saved = contacts.save_contact(uow, actor, tatung, received.contact)
        contacts.save_contact(uow, actor, tatung, received.contact)  # shared again: completes nothing twice
    assert saved == ContactSaved("王大明", CustomerRef(tatung, "大同五金行"))
    with session_scope(engine) as session:
        row = session.exec(select(Contact)).one()
        assert (row.title, row.email, row.phones) == ("副理", "wang@tatung.com.tw", ["+886912345678", "+886227123456"])


def test_an_unknown_company_is_offered_as_a_new_customer_and_phones_follow_the_members_country(engine):
    actor = owner(engine, country="CN")
    with unit_of_work(engine) as uow:
        received = contacts.receive_contact(uow, actor, name="赵经理", phone="138 0013 8000", platform="telegram",
                                            company="美的集团", title="采购经理")
        assert received.contact.phone == "+8613800138000" and received.suggested is None
        assert received.new_company == "美的集团"
        saved = contacts.save_contact_to_company(uow, actor, received.contact)
    assert isinstance(saved, ContactSaved) and saved.customer.name == "美的集团"
    with session_scope(engine) as session:
        row = session.exec(select(Contact)).one()
        assert (row.name, row.title, row.phones) == ("赵经理", "采购经理", ["+8613800138000"])


async def test_in_the_chat_a_vcard_contact_suggests_its_company_and_a_typed_sentence_is_refused(
        engine, clock, settings):
    app = build(settings, clock=clock, engine=engine)
    app.attach(RecordingMessenger("test"))
    amy = Chat(app, "owner", "Amy Lin", "en")
    await amy.say("/start")
    await amy.say("/new Globex")
    await amy.say("/new Blue Harbour Trading")
    ask = (await amy.send(ContactIn(amy.envelope(), "Anna Lopez", "+1 650 253 0000", None,
                                    company="Blue Harbour Trading", title="Buyer", email="anna@blueharbour.com")))[0]
    labels = [b.label for row in ask.buttons for b in row]
    assert labels[0] == "Blue Harbour Trading" and "Buyer" in ask.text and "anna@blueharbour.com" in ask.text
    refused = (await amy.say("Visited them yesterday, Anna wants a quote for 500 units"))[0]
    assert "reads like a note" in refused.text
    saved = (await amy.press("Blue Harbour Trading", ask))[0]  # still waiting: the button works
    assert "Anna Lopez" in saved.text and "Blue Harbour Trading" in saved.text
    with session_scope(engine) as session:
        anna = session.exec(select(Contact)).one()
        assert (anna.title, anna.email, anna.phones) == ("Buyer", "anna@blueharbour.com", ["+16502530000"])
        assert len(session.exec(select(Customer)).all()) == 2  # no customer named after the sentence
    new = (await amy.send(ContactIn(amy.envelope(), "李經理", "0912345678", None, company="新竹科技")))[0]
    assert [b.label for row in new.buttons for b in row][-2:] == ["➕ New customer “新竹科技”", "✖️ Cancel"]
    cancelled = (await amy.press("Cancel", new))[0]
    assert cancelled.edit and "Cancelled" in cancelled.text
    assert "already answered" in (await amy.press("新竹科技", new))[0].text
    with session_scope(engine) as session:
        assert len(session.exec(select(Contact)).all()) == 1


def test_every_phone_a_contact_or_customer_gets_is_e164_with_the_members_country(engine):
    actor = owner(engine, country="CN")
    with unit_of_work(engine) as uow:
        midea = customer_service.create_customer(uow.session, actor, "美的集团", phones=["020 8888 6666", "+886 2 2345 6789"])
        assert midea.phones == ["+862088886666", "+886223456789"]
        zhao = customer_service.add_contact(uow.session, actor, midea.id, "赵经理", phone="138 0013 8000")
        again = customer_service.add_contact(uow.session, actor, midea.id, "赵经理", phone="+86 138-0013-8000")
        assert again.id == zhao.id and again.phones == ["+8613800138000"]  # one number, however written
