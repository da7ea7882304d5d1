"""Rename, merge and delete customers, and the card's owner, contacts and visits, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from core.models import (
    AuditEvent,
    Contact,
    Customer,
    CustomerAlias,
    CustomerFile,
    Deal,
    FollowUp,
    Interaction,
)
from core.services import customers, followups
from core.services.errors import NotFound
from core.uow import unit_of_work
from core.usecases import customer_admin
from core.usecases import customers as customer_views
from core.usecases.access import decide_access, request_access
from core.usecases.customer_admin import AdminStatus
from core.usecases.note_filing import undo_note
from core.usecases.notes import NoteStatus
from tests.integration.usecases.test_customer_truth import NOW, log, names, run, team


def test_merge_moves_everything_and_the_audit_shows_it(engine):
    _amy, _manager, chen, bob = team(engine)
    keep = log(engine, chen, "拜訪大同五金行，王總要報價 200 台，下週三回覆").note
    drop = log(engine, chen, "Visited DaTong Hardware, Mr. Lee wants samples tomorrow").note
    assert keep.customer != drop.customer
    kid, did = keep.customer.id, drop.customer.id
    with unit_of_work(engine) as uow:
        session = uow.session
        customers.add_contact(session, chen, did, "王總", phone="+886223456789")
        session.add(Deal(team_id=chen.team_id, customer_id=did, owner_id=chen.member_id, title="200 台報價",
                         amount=200_000, currency="TWD"))
        session.add(CustomerFile(team_id=chen.team_id, customer_id=did, member_id=chen.member_id,
                                 file_name="報價單.pdf", sha256="ab" * 32, data=b"%PDF"))
        customers.add_alias(session, chen, session.get(Customer, did), "大同五金行(台北)")
    targets, _ = run(engine, lambda uow: customer_admin.merge_targets(uow, chen, did))
    assert keep.customer in targets
    with pytest.raises(NotFound):  # Bob does not see them
        run(engine, lambda uow: customer_admin.merge(uow, bob, did, kid))
    merged, _ = run(engine, lambda uow: customer_admin.merge(uow, chen, did, kid))
    assert merged.status is AdminStatus.DONE and merged.other == keep.customer
    assert merged.holdings.interactions == 1 and merged.holdings.deals == 1
    with unit_of_work(engine) as uow:
        session = uow.session
        for model in (Interaction, FollowUp, Deal, CustomerFile, Contact):
            assert session.exec(select(model).where(col(model.customer_id) == did)).all() == [], model
        contacts = session.exec(select(Contact.name).where(Contact.customer_id == kid)).all()
        assert sorted(contacts) == sorted(["王總", "Mr. Lee"])  # the two 王總 became one
        wang = session.exec(select(Contact).where(Contact.name == "王總")).one()
        assert wang.phones == ["+886223456789"]
        aliases = set(session.exec(select(CustomerAlias.alias).where(CustomerAlias.customer_id == kid)))
        assert {"DaTong Hardware", "大同五金行(台北)"} <= aliases
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "merge")).one()
        assert event.entity_id == kid and event.before["dropped"]["id"] == did
        assert event.after["moved"]["interaction"] == 1 and event.after["moved"]["deal"] == 1
    assert names(engine) == ["大同五金行"]
    assert log(engine, chen, "DaTong Hardware 王總下單了").note.customer == keep.customer
    again, _ = run(engine, lambda uow: customer_admin.merge(uow, chen, did, kid))
    assert again.status is AdminStatus.UNCHANGED
    with unit_of_work(engine) as uow:
        assert len(uow.session.exec(select(AuditEvent).where(AuditEvent.action == "merge")).all()) == 1


def test_merge_carries_granted_access(engine):
    _amy, _manager, chen, bob = team(engine)
    with unit_of_work(engine) as uow:
        keep = customers.create_customer(uow.session, chen, "Acme Trading").id
        drop = customers.create_customer(uow.session, chen, "ACME Taiwan Branch").id
    asked, _ = run(engine, lambda uow: request_access(uow, bob, NOW, drop))
    run(engine, lambda uow: decide_access(uow, chen, NOW, asked.request.id, True))
    with pytest.raises(NotFound):
        run(engine, lambda uow: customer_views.customer_card(uow, bob, keep))
    run(engine, lambda uow: customer_admin.merge(uow, chen, drop, keep))
    card, _ = run(engine, lambda uow: customer_views.customer_card(uow, bob, keep))
    assert card.customer.id == keep and "ACME Taiwan Branch" in card.aliases


def test_rename_keeps_the_old_name_and_refuses_a_taken_one(engine):
    _amy, _manager, chen, bob = team(engine)
    acme = log(engine, chen, "Visited Acme, Mr. Lee wants a quote").note.customer
    globex = log(engine, chen, "Called Globex, Ms. Park will order").note.customer
    done, _ = run(engine, lambda uow: customer_admin.rename(uow, chen, NOW, acme.id, "Acme Trading Co."))
    assert done.status is AdminStatus.DONE and done.customer.name == "Acme Trading Co."
    same, _ = run(engine, lambda uow: customer_admin.rename(uow, chen, NOW, acme.id, "Acme Trading Co."))
    assert same.status is AdminStatus.UNCHANGED
    taken, _ = run(engine, lambda uow: customer_admin.rename(uow, chen, NOW, acme.id, "GLOBEX"))
    assert taken.status is AdminStatus.CONFLICT and taken.other == globex
    bad, _ = run(engine, lambda uow: customer_admin.rename(uow, chen, NOW, acme.id, "/todo"))
    assert bad.status is AdminStatus.BAD_NAME
    assert log(engine, chen, "Acme called back").note.customer.id == acme.id  # the old name finds it
    with pytest.raises(NotFound):
        run(engine, lambda uow: customer_admin.rename(uow, bob, NOW, acme.id, "Acme"))
    shared_by_grant = run(engine, lambda uow: request_access(uow, bob, NOW, acme.id))[0]
    run(engine, lambda uow: decide_access(uow, chen, NOW, shared_by_grant.request.id, True))
    not_his, _ = run(engine, lambda uow: customer_admin.rename(uow, bob, NOW, acme.id, "Acme"))
    assert not_his.status is AdminStatus.NOT_ALLOWED  # seeing it is not owning it
    with unit_of_work(engine) as uow:
        assert uow.session.exec(select(AuditEvent.action).where(AuditEvent.action == "rename")).all() == ["rename"]


def test_delete_is_for_managers_keeps_the_notes_unfiled_and_is_audited(engine):
    _amy, manager, chen, _bob = team(engine)
    note = log(engine, chen, "拜訪永豐電子，張經理說下個月下單，下週二回覆").note
    cid = note.customer.id
    refused, _ = run(engine, lambda uow: customer_admin.delete(uow, chen, NOW, cid))
    assert refused.status is AdminStatus.NOT_ALLOWED and "永豐電子" in names(engine)
    done, _ = run(engine, lambda uow: customer_admin.delete(uow, manager, NOW, cid))
    assert done.status is AdminStatus.DONE and done.holdings.interactions == 1 and done.holdings.contacts == 1
    assert "永豐電子" not in names(engine)
    with unit_of_work(engine) as uow:
        stored = uow.session.get(Interaction, note.id)
        assert stored.customer_id is None and stored.deleted_at is None and stored.contact_id is None
        assert uow.session.exec(select(Contact)).all() == [] and uow.session.exec(select(CustomerAlias)).all() == []
        event = uow.session.exec(select(AuditEvent).where(AuditEvent.action == "delete",
                                                          AuditEvent.entity == "customer")).one()
        assert event.entity_id == cid and event.before["name"] == "永豐電子" and event.actor_id == manager.member_id
    again, _ = run(engine, lambda uow: customer_admin.delete(uow, manager, NOW, cid))
    assert again.status is AdminStatus.GONE
    assert run(engine, lambda uow: undo_note(uow, chen, note.id))[0].status is NoteStatus.CHANGED


def test_the_card_shows_the_owner_contacts_in_full_and_each_visit(engine):
    _amy, manager, chen, _bob = team(engine)
    first = log(engine, chen, "拜訪大同五金行，王總要報價").note
    cid = first.customer.id
    with unit_of_work(engine) as uow:
        customers.add_contact(uow.session, chen, cid, "王總", phone="+886223456789", email="wang@datong.com.tw",
                              title="總經理")
        uow.session.get(Interaction, first.id).occurred_at = NOW - timedelta(days=14)
    log(engine, chen, "大同五金行 王總來電問交期")
    log(engine, chen, "拜訪大同五金行，李副理看了樣品")
    card, _ = run(engine, lambda uow: customer_views.customer_card(uow, manager, cid))
    assert card.owner == "陳小姐" and card.may_manage
    wang = next(c for c in card.contacts if c.name == "王總")
    assert wang.phones == ("+886223456789",) and wang.email == "wang@datong.com.tw" and wang.title == "總經理"
    assert len(card.visits) == 2 and card.visits[0] > card.visits[1]
    assert card.visits[1] == datetime(2026, 11, 4, 2, 0, tzinfo=UTC)
    bob_card_allowed, _ = run(engine, lambda uow: customer_admin.holdings(uow, chen, cid))
    assert bob_card_allowed.status is AdminStatus.UNCHANGED
    with unit_of_work(engine) as uow:
        followups.for_interaction(uow.session, first.id)


def test_merge_keeps_both_customers_emails_and_notes_and_the_card_shows_them(engine):
    _amy, _manager, chen, _bob = team(engine)
    keep = log(engine, chen, "拜訪大同五金行，王總要報價 200 台").note.customer
    drop = log(engine, chen, "Visited DaTong Hardware, Mr. Lee wants samples").note.customer
    with unit_of_work(engine) as uow:
        kept, dropped = uow.session.get(Customer, keep.id), uow.session.get(Customer, drop.id)
        kept.emails, kept.notes = ["sales@datong.tw"], "月結 60 天"
        dropped.emails, dropped.notes = ["sales@datong.tw", "lee@datong.tw"], "只收匯款"
    merged, _ = run(engine, lambda uow: customer_admin.merge(uow, chen, drop.id, keep.id))
    assert merged.status is AdminStatus.DONE
    card, _ = run(engine, lambda uow: customer_views.customer_card(uow, chen, keep.id))
    assert card.emails == ("sales@datong.tw", "lee@datong.tw")
    assert card.notes == "月結 60 天\n只收匯款"
