"""The customer use cases on both databases: the card as a view, finding, /new, /important, searching notes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.db import session_scope
from core.models import Deal, Team
from core.services import customers as customer_service
from core.services import followups, interactions, teams
from core.services.actor import Actor
from core.services.errors import InvalidInput, NotFound
from core.uow import unit_of_work
from core.usecases import customers
from core.usecases.customers import ImportantRequest
from core.usecases.views import CustomerRef

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


def team(engine) -> tuple[Actor, Actor]:
    """An owner and a salesperson of one team."""
    with session_scope(engine) as session:
        owner = Actor.of(teams.found_team(session, teams.Newcomer("test", "owner", "dm1", "Amy Lin")))
        code = teams.create_invite(session, owner).code
        return owner, Actor.of(teams.join(session, code, teams.Newcomer("test", "sales", "dm2", "陳小姐")))


def test_the_card_shows_everything_a_customer_has(engine):
    owner, _ = team(engine)
    with session_scope(engine) as session:
        acme = customer_service.create_customer(session, owner, "Acme", aliases=["艾克米"], phones=["+886223456789"])
        customer_service.add_contact(session, owner, acme.id, "Mr. Lee", title="buyer")
        for day in range(7):
            interactions.log_interaction(session, owner, text=f"call {day}", customer_id=acme.id,
                                         occurred_at=NOW - timedelta(days=day))
        voice, _ = interactions.log_interaction(session, owner, text="", transcript="wants 100 units",
                                                kind="voice", customer_id=acme.id, occurred_at=NOW + timedelta(hours=1))
        followups.schedule(session, owner, due_at=NOW + timedelta(days=2), action="send the quote",
                           customer_id=acme.id, source_interaction_id=voice.id)
        session.add(Deal(team_id=owner.team_id, customer_id=acme.id, title="A100 order", stage="proposal",
                         amount=120000, currency="TWD"))
        acme_id = acme.id
    with unit_of_work(engine) as uow:
        card = customers.customer_card(uow, owner, acme_id)
    assert card.customer == CustomerRef(acme_id, "Acme")
    assert card.aliases == ("艾克米",) and card.phones == ("+886223456789",)
    assert [(c.name, c.title) for c in card.contacts] == [("Mr. Lee", "buyer")]
    assert card.interaction_count == 8 and len(card.recent) == 5
    assert (card.recent[0].kind, card.recent[0].text) == ("voice", "wants 100 units")  # newest first, the transcript
    assert [(f.action, f.customer) for f in card.follow_ups] == [("send the quote", card.customer)]
    assert [(d.title, d.stage, d.amount, d.currency) for d in card.deals] == [("A100 order", "proposal", 120000,
                                                                              "TWD")]
    assert not card.important and card.quiet_days == 30


def test_quiet_days_are_the_customers_own_or_else_the_teams(engine):
    owner, _ = team(engine)
    with session_scope(engine) as session:
        acme = customer_service.create_customer(session, owner, "Acme").id
        session.get(Team, owner.team_id).silent_days = 21
    with unit_of_work(engine) as uow:
        set_on = customers.set_important(uow, owner, acme, True)
        assert (set_on.important, set_on.quiet_days, set_on.changed) == (True, 21, True)
        assert customers.customer_card(uow, owner, acme).quiet_days == 21
        again = customers.set_important(uow, owner, acme, True)
        assert not again.changed
        own = customers.mark_important(uow, owner, "acme", True, 14)
        assert own.match.customer == CustomerRef(acme, "Acme") and own.quiet_days == 14
        assert customers.customer_card(uow, owner, acme).important
        off = customers.mark_important(uow, owner, "Acme", False)
        assert not off.important and not customers.customer_card(uow, owner, acme).important
        with pytest.raises(InvalidInput):
            customers.set_important(uow, owner, acme, True, 999)


def test_important_by_a_name_that_is_unclear_or_unknown_changes_nothing(engine):
    owner, _ = team(engine)
    with unit_of_work(engine) as uow:
        customer_service.create_customer(uow.session, owner, "大同五金")
        customer_service.create_customer(uow.session, owner, "大同電子")
        unclear = customers.mark_important(uow, owner, "大同", True)
        assert unclear.match.customer is None and {c.name for c in unclear.match.candidates} == {"大同五金", "大同電子"}
        unknown = customers.mark_important(uow, owner, "Nobody Inc", True)
        assert unknown.match == customers.CustomerMatch(None) and not unknown.changed
        assert not any(customers.customer_card(uow, owner, c.id).important for c in unclear.match.candidates)


def test_new_finds_the_customer_of_that_name_or_creates_it(engine):
    owner, _ = team(engine)
    with unit_of_work(engine) as uow:
        created = customers.new_customer(uow, owner, "Acme Trading")
        assert created.created and created.customer.name == "Acme Trading"
        again = customers.new_customer(uow, owner, "ACME trading")
        assert not again.created and again.customer == created.customer
        assert customers.new_customer(uow, owner, "Acme").created  # a prefix is another customer
        assert [c.name for c in customers.recent_customers(uow, owner)] == ["Acme", "Acme Trading"]
        assert customers.find_customer(uow, owner, "acme trading").customer == created.customer


def test_search_finds_notes_as_views_among_visible_customers(engine):
    owner, sales = team(engine)
    with session_scope(engine) as session:
        acme = customer_service.create_customer(session, owner, "Acme")
        interactions.log_interaction(session, owner, text="拜訪王總,他要A100一百件的報價", customer_id=acme.id)
        interactions.log_interaction(session, owner, text="unfiled quote")  # no customer: not found
    with unit_of_work(engine) as uow:
        hits = customers.search_notes(uow, owner, "报价")
        assert [(h.customer, h.text) for h in hits] == [(CustomerRef(acme.id, "Acme"), "拜訪王總,他要A100一百件的報價")]
        assert customers.search_notes(uow, owner, "   ") == ()
        assert customers.search_notes(uow, sales, "报价") == ()  # the owner's own customer
        assert customers.recent_customers(uow, sales) == () and customers.find_customer(uow, sales, "Acme").customer is None
        with pytest.raises(NotFound):
            customers.customer_card(uow, sales, acme.id)


@pytest.mark.parametrize(("args", "expected"), [
    ("Acme", ImportantRequest("Acme")),
    ("Acme Trading 14", ImportantRequest("Acme Trading", quiet_days=14)),
    ("宏達電 14天", ImportantRequest("宏達電", quiet_days=14)),
    ("Acme off", ImportantRequest("Acme", important=False)),
    ("宏達電 不重要", ImportantRequest("宏達電", important=False)),
    ("14", ImportantRequest("14")),
    ("", ImportantRequest("")),
])
def test_important_arguments_are_read(args, expected):
    assert ImportantRequest.parse(args) == expected
