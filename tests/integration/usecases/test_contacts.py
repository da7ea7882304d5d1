"""A shared contact filed on a customer, on both databases: chosen, typed (resolved, new, or asked again)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.bootstrap import build
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
    assert received.contact == SharedContact("王總", "+886912345678", "telegram", "777")
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
    assert "+886912345678" in ask.text and [b.label for row in ask.buttons for b in row] == ["Acme"]
    saved = (await amy.press("Acme", ask))[0]
    assert saved.edit and "王總" in saved.text and "Acme" in saved.text
    assert "Acme" not in (await amy.press("Acme", ask))[0].text  # the question was answered: a stale button
    await amy.contact("Lee", None)
    typed = (await amy.say("Brand New Co"))[0]
    assert "Lee" in typed.text and "Brand New Co" in typed.text and not typed.edit
    with session_scope(engine) as session:
        lee = session.exec(select(Contact).where(Contact.name == "Lee")).one()
        assert session.get(Customer, lee.customer_id).name == "Brand New Co"
