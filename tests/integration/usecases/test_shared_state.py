"""State a second process needs lives in the database: two engines on one database stand for two processes
(each engine has its own in-memory name index), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import func, select

from core.db import make_engine
from core.models import Customer
from core.services import customers
from core.services.customer_removal import delete_customer
from core.services.name_index import name_index
from core.uow import unit_of_work
from tests.integration.usecases.test_notes import founder, log, new_customer


@pytest.fixture
def other(engine) -> Iterator:
    """A second process on the same database."""
    second = make_engine(engine.url.render_as_string(hide_password=False))
    yield second
    second.dispose()


def customer_count(engine, name: str) -> int:
    with unit_of_work(engine) as uow:
        return uow.session.exec(select(func.count()).select_from(Customer).where(Customer.name == name)).one()


def test_a_customer_created_by_one_process_is_found_by_another_on_the_next_note(engine, other):
    actor = founder(engine)
    new_customer(engine, actor, "Acme")
    first, _ = log(other, actor, "Visited Acme, wants a quote", "m1")  # process B builds its index now
    assert first.note.customer.name == "Acme"
    created = new_customer(engine, actor, "Brightwave Optics")  # process A adds a customer
    second, _ = log(other, actor, "Called Brightwave Optics, send samples Friday", "m2")
    assert second.note.customer is not None and second.note.customer.id == created
    assert customer_count(engine, "Brightwave Optics") == 1  # no duplicate made by B


def test_a_chinese_name_and_a_typo_of_a_name_added_elsewhere_are_recognised(engine, other):
    actor = founder(engine)
    new_customer(engine, actor, "Acme")
    log(other, actor, "Visited Acme", "m1")
    chinese = new_customer(engine, actor, "宏遠科技")
    latin = new_customer(engine, actor, "Brightwave Optics")
    first, _ = log(other, actor, "今天拜訪宏遠科技王總,要報價", "m2")  # no spaces: only a known name delimits it
    assert first.note.customer is not None and first.note.customer.id == chinese
    second, _ = log(other, actor, "Visited Brightwave Optcs, wants samples", "m3")
    assert second.note.customer is not None and second.note.customer.id == latin
    with unit_of_work(engine) as uow:
        assert uow.session.exec(select(func.count()).select_from(Customer)).one() == 3


def test_a_contact_and_an_alias_added_elsewhere_are_known_at_once(engine, other):
    actor = founder(engine)
    acme = new_customer(engine, actor, "Acme")
    log(other, actor, "Visited Acme", "m1")
    with unit_of_work(engine) as uow:
        customer = uow.session.get(Customer, acme)
        customers.add_alias(uow.session, actor, customer, "Roadrunner Supply")
    result, _ = log(other, actor, "Roadrunner Supply wants 300 units", "m2")
    assert result.note.customer is not None and result.note.customer.id == acme
    assert customer_count(engine, "Roadrunner Supply") == 0


def test_a_customer_deleted_by_one_process_is_forgotten_by_another(engine, other, monkeypatch):
    monkeypatch.setattr(name_index, "invalidate", lambda team_id: None)  # as in another process: nothing local
    actor = founder(engine)
    zephyr = new_customer(engine, actor, "Zephyr Metals")
    log(other, actor, "Visited Zephyr Metals", "m1")
    with unit_of_work(other) as uow:
        assert name_index.customer_index(uow.session, actor.team_id).get(zephyr) is not None
    with unit_of_work(engine) as uow:
        delete_customer(uow.session, actor, zephyr)
    with unit_of_work(other) as uow:
        index = name_index.customer_index(uow.session, actor.team_id)
        assert index.get(zephyr) is None and index.find_mentions("Zephyr Metals called") == []
    result, _ = log(other, actor, "Zephyr Metals called again", "m2")
    assert result.note.new_customer and customer_count(engine, "Zephyr Metals") == 1


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_a_write_committed_long_after_taking_its_audit_id_is_still_applied(engine, other, monkeypatch):
    """A slow writer takes audit id k, a quick one k+1 and commits first; the floor moves past k; the slow
    one's commit is read from the deep floor within DEEP_EVERY seconds."""
    from core.models import AuditEvent
    from core.services import name_index as module

    clock = FakeTime()
    monkeypatch.setattr(module, "time", clock)
    actor = founder(engine)
    new_customer(engine, actor, "Acme")
    with unit_of_work(other) as uow:
        index = name_index.customer_index(uow.session, actor.team_id)
    slow = new_customer(engine, actor, "宏遠科技")
    new_customer(engine, actor, "Brightwave Optics")
    with unit_of_work(engine) as uow:  # the slow writer's audit event: not visible yet (committed later, below)
        event = uow.session.exec(select(AuditEvent).where(AuditEvent.entity_id == slow,
                                                          AuditEvent.entity == "customer")).one()
        late = {k: getattr(event, k) for k in ("id", "team_id", "actor_id", "action", "entity", "entity_id",
                                                "before", "after", "at")}
        uow.session.delete(event)
    for _ in range(3):  # lookups on the other process, the floor moving past the slow writer's id
        clock.now += module.FLOOR_LAG
        with unit_of_work(other) as uow:
            index = name_index.customer_index(uow.session, actor.team_id)
    assert name_index._engines[other][actor.team_id].floor > late["id"]
    assert index.get(slow) is None
    with unit_of_work(engine) as uow:
        uow.session.add(AuditEvent(**late))  # the slow writer commits now
    clock.now += module.DEEP_EVERY
    with unit_of_work(other) as uow:
        index = name_index.customer_index(uow.session, actor.team_id)
        assert [c.id for c in index.find_mentions("拜訪宏遠科技王總")] == [slow]
