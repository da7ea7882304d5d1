"""One truth about each customer, on both databases: one customer per company per team (a colleague's
customer is found, not doubled; access is asked and granted), "same as X?" before creating, aliases only from
confirmed mentions, nothing left behind by change customer and undo."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from sqlmodel import col, select

from core.models import AuditEvent, Contact, Customer, CustomerAlias, FollowUp, Interaction, Role
from core.services import customers, teams
from core.services.actor import Actor
from core.services.errors import NotFound
from core.uow import UnitOfWork, unit_of_work
from core.usecases import customers as customer_views
from core.usecases.access import AccessRequested, AccessStatus, access_messages, decide_access, request_access
from core.usecases.note_filing import file_note, file_under_new_customer, file_under_typed_name, undo_note
from core.usecases.notes import NoteInput, NoteResult, NoteStatus, Source, log_note

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # Wed 10:00 in Taipei
T = TypeVar("T")
_ids = iter(range(1, 10_000))


def run(engine, work: Callable[[UnitOfWork], T]) -> tuple[T, list]:
    with unit_of_work(engine) as uow:
        result = work(uow)
        events = list(uow.events)
    return result, events


def team(engine) -> tuple[Actor, Actor, Actor, Actor]:
    """The owner Amy, the manager 林經理, and two salespeople: 陳小姐 and Bob."""
    with unit_of_work(engine) as uow:
        amy = Actor.of(teams.found_team(uow.session, teams.Newcomer("telegram", "1", "100", "Amy Lin")))
    people = []
    for user, name, role in (("2", "林經理", Role.manager), ("3", "陳小姐", Role.sales), ("4", "Bob Wu", Role.sales)):
        with unit_of_work(engine) as uow:
            invite = teams.create_invite(uow.session, amy, role.value)
            member = teams.join(uow.session, invite.code, teams.Newcomer("telegram", user, f"dm{user}", name))
            people.append(Actor.of(member))
    return amy, people[0], people[1], people[2]


def log(engine, actor: Actor, text: str) -> NoteResult:
    note = NoteInput(text, Source("telegram", f"dm{actor.member_id}", str(next(_ids))))
    return run(engine, lambda uow: log_note(uow, actor, NOW, note))[0]


def names(engine) -> list[str]:
    with unit_of_work(engine) as uow:
        return sorted(uow.session.exec(select(Customer.name).where(col(Customer.merged_into_id).is_(None))).all())


def aliases_of(engine, name: str) -> set[str]:
    with unit_of_work(engine) as uow:
        customer = uow.session.exec(select(Customer).where(Customer.name == name)).one()
        return set(uow.session.exec(select(CustomerAlias.alias).where(CustomerAlias.customer_id == customer.id)))


def audit_actions(engine, entity: str) -> list[str]:
    with unit_of_work(engine) as uow:
        return list(uow.session.exec(select(AuditEvent.action).where(AuditEvent.entity == entity)
                                     .order_by(col(AuditEvent.id))))


def test_a_note_about_a_colleagues_customer_is_stored_on_it_and_access_is_asked_and_granted(engine):
    _amy, manager, chen, bob = team(engine)
    first = log(engine, chen, "拜訪大同五金行，王總要報價 200 台，下週三回覆")
    assert first.note.customer.name == "大同五金行" and first.note.owner is None
    second = log(engine, bob, "Visited 大同五金行 today, 王總 wants the quote by Friday")
    note = second.note
    assert note.customer == first.note.customer and note.owner == "陳小姐" and not note.access_requested
    assert names(engine) == ["大同五金行"]  # no second customer
    with unit_of_work(engine) as uow:
        stored = uow.session.get(Interaction, note.id)
        assert stored.member_id == bob.member_id and stored.customer_id == note.customer.id  # the note is Bob's
        assert uow.session.exec(select(FollowUp.customer_id).where(FollowUp.source_interaction_id == note.id)
                                ).all() in ([], [note.customer.id])
        assert uow.session.exec(select(Contact.name)).all() == ["王總"]  # the same contact, not a copy
    try:  # reading the colleague's history stays as it is
        run(engine, lambda uow: customer_views.customer_card(uow, bob, note.customer.id))
        raise AssertionError("Bob should not see the card yet")
    except NotFound:
        pass

    asked, events = run(engine, lambda uow: request_access(uow, bob, NOW, note.customer.id))
    assert asked.status is AccessStatus.REQUESTED and events == [AccessRequested(asked.request.id)]
    again, events = run(engine, lambda uow: request_access(uow, bob, NOW, note.customer.id))
    assert again.status is AccessStatus.PENDING and events == []
    messages, _ = run(engine, lambda uow: access_messages(uow, asked.request.id, ["telegram"]))
    assert [(m.to.chat_id, m.kind) for m in messages] == [("dm3", "ask"), ("100", "ask"), ("dm2", "ask")]
    assert messages[0].request.requester == "Bob Wu" and messages[0].request.owner == "陳小姐"

    refused, _ = run(engine, lambda uow: decide_access(uow, bob, NOW, asked.request.id, True))
    assert refused.status is AccessStatus.NOT_ALLOWED
    granted, events = run(engine, lambda uow: decide_access(uow, chen, NOW, asked.request.id, True))
    assert granted.status is AccessStatus.GRANTED and events == [AccessRequested(asked.request.id)]
    twice, events = run(engine, lambda uow: decide_access(uow, manager, NOW, asked.request.id, False))
    assert twice.status is AccessStatus.DECIDED and twice.request.status == "granted" and events == []
    messages, _ = run(engine, lambda uow: access_messages(uow, asked.request.id, ["telegram"]))
    assert [(m.to.chat_id, m.kind, m.request.decided_by) for m in messages] == [("dm4", "granted", "陳小姐")]

    card, _ = run(engine, lambda uow: customer_views.customer_card(uow, bob, note.customer.id))
    assert card.interaction_count == 2 and card.owner == "陳小姐"
    seen, _ = run(engine, lambda uow: request_access(uow, bob, NOW, note.customer.id))
    assert seen.status is AccessStatus.SEES
    later = log(engine, bob, "打電話給大同五金行王總確認交期")
    assert later.note.customer == note.customer and later.note.owner is None
    assert audit_actions(engine, "customeraccess") == ["request", "grant"]


def test_a_declined_member_still_files_notes_there_and_may_ask_again(engine):
    _amy, manager, chen, bob = team(engine)
    acme = log(engine, chen, "Met Acme Trading, Mr. Lee wants 5,000 PCBs").note.customer
    note = log(engine, bob, "Acme Trading called, Mr. Lee asks for a discount").note
    assert note.customer == acme
    asked, _ = run(engine, lambda uow: request_access(uow, bob, NOW, acme.id))
    declined, _ = run(engine, lambda uow: decide_access(uow, manager, NOW, asked.request.id, False))
    assert declined.status is AccessStatus.DECLINED
    messages, _ = run(engine, lambda uow: access_messages(uow, asked.request.id, ["telegram"]))
    assert [(m.to.chat_id, m.kind) for m in messages] == [("dm4", "declined")]
    assert log(engine, bob, "Acme Trading again: samples shipped").note.customer == acme
    anew, _ = run(engine, lambda uow: request_access(uow, bob, NOW, acme.id))
    assert anew.status is AccessStatus.REQUESTED and names(engine) == ["Acme Trading"]


def test_a_new_name_of_a_known_company_is_asked_as_same_as_before_anything_is_created(engine):
    amy, _manager, chen, bob = team(engine)
    datong = log(engine, chen, "拜訪大同五金行，王總要報價").note.customer
    globex = log(engine, amy, "Called Globex Corp, Ms. Park wants a demo").note.customer
    for text, known in (("大同五金行股份有限公司 李副理來電詢價", datong), ("新客戶 大同五金行有限公司，李副理來電", datong),
                        ("GLOBEX, Inc. visited our booth", globex), ("a new prospect, Globex Ltd, asked for a demo", globex)):
        note = log(engine, bob, text).note
        # the parser knew it, or it is asked "same as X?": never a second customer
        assert note.customer == known or (note.same_as and note.candidates == (known,)), (text, note)
    assert names(engine) == sorted(["大同五金行", globex.name])

    asked = log(engine, chen, "a new prospect, Globex Ltd, asked for a demo").note
    if asked.customer is None:  # "same as Globex Corp?" — this time: a new one
        separate, _ = run(engine, lambda uow: file_under_new_customer(uow, chen, asked.id))
        assert separate.note.customer.name == asked.mention and separate.note.new_customer
        again, _ = run(engine, lambda uow: file_under_new_customer(uow, chen, asked.id))
        assert again.status is NoteStatus.UNCHANGED


def test_confirming_same_as_files_there_and_learns_the_name(engine):
    _amy, _manager, chen, bob = team(engine)
    datong = log(engine, chen, "拜訪大同五金行，王總要報價").note.customer
    unfiled = log(engine, bob, "下午見客戶，談了交期").note
    assert unfiled.customer is None
    asked, _ = run(engine, lambda uow: file_under_typed_name(uow, bob, unfiled.id, "大同五金行股份有限公司"))
    assert asked.status is NoteStatus.AMBIGUOUS and asked.note.candidates == (datong,)
    assert asked.note.mention == "大同五金行股份有限公司" and names(engine) == ["大同五金行"]
    filed, _ = run(engine, lambda uow: file_note(uow, bob, unfiled.id, datong.id))
    assert filed.note.customer == datong and filed.note.owner == "陳小姐"
    assert "大同五金行股份有限公司" in aliases_of(engine, "大同五金行")  # confirmed for that customer
    twice, _ = run(engine, lambda uow: file_note(uow, bob, unfiled.id, datong.id))
    assert twice.status is NoteStatus.UNCHANGED


def test_moving_a_note_away_teaches_no_alias_and_removes_the_customer_it_created(engine):
    amy, _manager, chen, _bob = team(engine)
    acme = log(engine, amy, "Visited Acme, Mr. Lee wants a quote").note.customer
    globex = log(engine, amy, "Called Globex, Ms. Park will order in May").note.customer
    moved = log(engine, amy, "Acme: Mr. Lee asked for samples").note
    assert moved.customer == acme
    run(engine, lambda uow: file_note(uow, amy, moved.id, globex.id))
    assert "Acme" not in aliases_of(engine, "Globex")
    assert log(engine, amy, "Acme confirmed the order").note.customer == acme  # not ambiguous

    created = log(engine, chen, "拜訪新客戶永豐電子，張經理說下個月下單").note
    assert created.customer.name == "永豐電子" and created.new_customer and created.contact == "張經理"
    result, _ = run(engine, lambda uow: file_note(uow, chen, created.id, acme.id))
    assert result.note.customer == acme and result.note.contact == "張經理" and not result.note.new_customer
    assert "永豐電子" not in names(engine)
    with unit_of_work(engine) as uow:
        contacts = uow.session.exec(select(Contact.name, Contact.customer_id).order_by(col(Contact.id))).all()
        assert ("張經理", acme.id) in contacts and all(cid != created.customer.id for _, cid in contacts)
    assert "delete" in audit_actions(engine, "customer")
    assert "永豐電子" not in aliases_of(engine, "Acme")  # moved away from what its mention named: no alias


def test_a_created_customer_something_else_refers_to_stays(engine):
    amy, _manager, chen, _bob = team(engine)
    acme = log(engine, amy, "Visited Acme, Mr. Lee wants a quote").note.customer
    first = log(engine, chen, "拜訪永豐電子，張經理要樣品").note
    second = log(engine, chen, "永豐電子 張經理又打來問交期").note
    assert second.customer == first.customer and not second.new_customer
    run(engine, lambda uow: file_note(uow, chen, first.id, acme.id))
    assert "永豐電子" in names(engine)  # the second note still refers to it
    assert "永豐電子" not in aliases_of(engine, "Acme")


def test_undo_removes_what_the_note_created_unless_something_else_refers_to_it(engine):
    amy, _manager, chen, _bob = team(engine)
    acme = log(engine, amy, "Visited Acme, Mr. Lee wants a quote").note.customer
    note = log(engine, amy, "Acme: Ms. Chang from purchasing called, follow up tomorrow").note
    assert note.customer == acme and note.contact and note.follow_up is not None
    undone, _ = run(engine, lambda uow: undo_note(uow, amy, note.id))
    assert undone.status is NoteStatus.CHANGED
    with unit_of_work(engine) as uow:
        assert note.contact not in uow.session.exec(select(Contact.name)).all()
        assert uow.session.exec(select(FollowUp).where(FollowUp.source_interaction_id == note.id)).all() == []
    assert names(engine) == ["Acme"]  # it did not create Acme
    again, _ = run(engine, lambda uow: undo_note(uow, amy, note.id))
    assert again.status is NoteStatus.UNCHANGED
    assert audit_actions(engine, "contact")[-1] == "delete" and "delete" in audit_actions(engine, "followup")

    made = log(engine, chen, "拜訪新客戶華新麗華，劉總說下週報價").note
    kept = log(engine, chen, "華新麗華 劉總回電").note
    run(engine, lambda uow: undo_note(uow, chen, made.id))
    assert "華新麗華" in names(engine)  # the second note refers to it
    with unit_of_work(engine) as uow:
        assert uow.session.exec(select(Contact.name)).all().count("劉總") == 1
    run(engine, lambda uow: undo_note(uow, chen, kept.id))


def test_a_typed_name_of_a_known_company_asks_and_a_colleagues_customer_is_found(engine):
    _amy, _manager, chen, bob = team(engine)
    midea = log(engine, chen, "今天跟美的集团赵经理吃饭，下周报价").note.customer
    unfiled = log(engine, bob, "下午見客戶，談了交期").note
    assert unfiled.customer is None
    asked, _ = run(engine, lambda uow: file_under_typed_name(uow, bob, unfiled.id, "美的集團有限公司"))
    assert asked.status is NoteStatus.AMBIGUOUS and asked.note.candidates == (midea,)
    filed, _ = run(engine, lambda uow: file_under_typed_name(uow, bob, unfiled.id, "美的集团"))
    assert filed.note.customer == midea and filed.note.owner == "陳小姐"
    assert names(engine) == ["美的集团"]


def test_creating_a_customer_of_a_name_the_team_has_returns_that_customer(engine):
    _amy, _manager, chen, bob = team(engine)
    with unit_of_work(engine) as uow:
        first = customers.create_customer(uow.session, chen, "Blue Harbour Ltd").id
    with unit_of_work(engine) as uow:
        assert customers.create_customer(uow.session, bob, "ＢＬＵＥ harbour ltd").id == first
    made, _ = run(engine, lambda uow: customer_views.new_customer(uow, bob, "Blue Harbour"))
    assert not made.created and made.customer.id == first and made.owner == "陳小姐"
    assert names(engine) == ["Blue Harbour Ltd"]
