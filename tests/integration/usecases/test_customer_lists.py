"""A customer list shared as a file, on both databases: told from a chat export, imported in one go."""

from __future__ import annotations

from pathlib import Path

from core.db import session_scope
from core.services import teams
from core.services.actor import Actor
from core.uow import unit_of_work
from core.usecases import customer_lists, customers

SAMPLES = Path(__file__).parents[2] / "fixtures" / "exports"


def test_a_list_is_told_from_an_export_and_imported(engine):
    data = "客戶名稱,電話,聯絡人\n大同五金行,02-2345-6789,王總\n永豐電子,,\n,,\n".encode()
    assert customer_lists.is_customer_list(data, "customers.csv")
    export = (SAMPLES / "whatsapp_android_en_us.txt").read_bytes()
    assert not customer_lists.is_customer_list(export, "WhatsApp Chat with Janet Wu.txt")
    with session_scope(engine) as session:
        actor = Actor.of(teams.found_team(session, teams.Newcomer("test", "owner", "dm1", "Amy Lin")))
    with unit_of_work(engine) as uow:
        result = customer_lists.import_customer_list(uow, actor, data)
        assert (result.created, result.updated, result.skipped, result.names) == (2, 0, 1, ("大同五金行", "永豐電子"))
        again = customer_lists.import_customer_list(uow, actor, data)
        assert (again.created, again.updated) == (0, 2)
        card = customers.customer_card(uow, actor, customers.find_customer(uow, actor, "大同五金行").customer.id)
        assert card.phones == ("02-2345-6789",) and [c.name for c in card.contacts] == ["王總"]
