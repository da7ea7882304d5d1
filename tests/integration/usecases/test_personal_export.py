"""A privacy export on both databases: everything stored about a customer (every kind, merged records included,
files and voice attached) or only a contact person's part; who may (the owner, managers; never a colleague, even
one the customer is shared with); the export is audited; the whole team's export is the owner's."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from core.models import (
    AudioClip,
    AuditEvent,
    ConversationMessage,
    Customer,
    CustomerFile,
    Deal,
    DealStageChange,
)
from core.services import customer_removal, customers, followups, interactions
from core.services.errors import NotAllowed
from core.uow import unit_of_work
from core.usecases import privacy
from tests.integration.usecases.test_customer_truth import NOW, run, team


def _seed(engine):
    amy, manager, chen, bob = team(engine)
    with unit_of_work(engine) as uow:
        s = uow.session
        acme = customers.create_customer(s, chen, "Acme Trading", phones=["0912 345 678"])
        old = customers.create_customer(s, chen, "Acme Old Record")
        mary = customers.add_contact(s, chen, acme.id, "Mary Chen", email="mary@acme.test")
        john = customers.add_contact(s, chen, acme.id, "John Wu")
        with_mary, _ = interactions.log_interaction(s, chen, text="Met Mary, wants 20 units", customer_id=acme.id,
                                                    contact_id=mary.id)
        with_john, _ = interactions.log_interaction(s, chen, text="John asked for the catalogue", customer_id=acme.id,
                                                    contact_id=john.id, transcript="john asked for the catalogue")
        interactions.log_interaction(s, chen, text="Old record note", customer_id=old.id)
        s.add(ConversationMessage(team_id=chen.team_id, interaction_id=with_mary.id, customer_key=str(acme.id),
                                  sender="Mary Chen", sent_at=NOW, text="see you Monday", dedup_key="k1"))
        s.add(AudioClip(team_id=chen.team_id, interaction_id=with_john.id, sha256="ab" * 32, mime_type="audio/ogg",
                        data=b"OggS voice"))
        s.add(CustomerFile(team_id=chen.team_id, customer_id=acme.id, interaction_id=with_mary.id,
                           member_id=chen.member_id, file_name="quote.pdf", size=4, sha256="cd" * 32, data=b"%PDF"))
        deal = Deal(team_id=chen.team_id, customer_id=acme.id, owner_id=chen.member_id, title="20 units",
                    amount=Decimal("1000"), currency="USD", source_interaction_id=with_mary.id)
        s.add(deal)
        s.flush()
        s.add(DealStageChange(team_id=chen.team_id, deal_id=deal.id, member_id=chen.member_id, to_stage="initial"))
        followups.schedule(s, chen, customer_id=acme.id, due_at=NOW + timedelta(days=1), action="send the quote",
                           source_interaction_id=with_mary.id)
        acme.shared = True  # bob sees it, and still may not export it
        s.add(acme)
        ids = {"acme": acme.id, "old": old.id, "mary": mary.id, "john": john.id}
    with unit_of_work(engine) as uow:
        customer_removal.merge(uow.session, chen, ids["acme"], ids["old"])
    return (amy, manager, chen, bob), ids


def test_a_customers_export_holds_every_kind_and_its_merged_records(engine):
    (_amy, manager, chen, bob), ids = _seed(engine)
    export, _ = run(engine, lambda uow: privacy.export_personal(uow, chen, NOW, "customer", ids["acme"]))
    sheets = dict(export.sheets)
    assert list(sheets) == list(privacy.personal_data.KINDS)
    assert {c["name"] for c in sheets["customer"]} == {"Acme Trading", "Acme Old Record"}
    assert {c["name"] for c in sheets["contacts"]} == {"Mary Chen", "John Wu"}
    assert sorted(i["text"] for i in sheets["interactions"]) == [
        "John asked for the catalogue", "Met Mary, wants 20 units", "Old record note"]
    assert [m["text"] for m in sheets["conversation"]] == ["see you Monday"]
    assert [f["action"] for f in sheets["follow_ups"]] == ["send the quote"]
    assert [(d["title"], d["amount"]) for d in sheets["deals"]] == [("20 units", "1000.00")]
    assert [c["to_stage"] for c in sheets["stage_changes"]] == ["initial"]
    assert [f["file_name"] for f in sheets["files"]] == ["quote.pdf"] and "data" not in sheets["files"][0]
    assert len(sheets["audio"]) == 1
    assert {e["action"] for e in sheets["audit"]} >= {"create", "merge"}
    assert dict(export.attachments)[f"files/{sheets['files'][0]['id']}-quote.pdf"] == b"%PDF"
    assert any(path.startswith("audio/") and data == b"OggS voice" for path, data in export.attachments)
    assert export.as_json()["subject"] == {"kind": "customer", "id": ids["acme"], "name": "Acme Trading"}
    # the manager may; a colleague the customer is shared with may not
    run(engine, lambda uow: privacy.export_personal(uow, manager, NOW, "customer", ids["acme"]))
    with pytest.raises(NotAllowed):
        run(engine, lambda uow: privacy.export_personal(uow, bob, NOW, "customer", ids["acme"]))
    with unit_of_work(engine) as uow:
        events = uow.session.exec(select(AuditEvent).where(AuditEvent.action == "export")).all()
        assert [(e.actor_id, e.customer_id) for e in events] == [(chen.member_id, ids["acme"]),
                                                                 (manager.member_id, ids["acme"])]
        assert events[0].after["rows"]["interactions"] == 3


def test_a_contact_persons_export_holds_only_their_part(engine):
    (_amy, manager, _chen, _bob), ids = _seed(engine)
    found, _ = run(engine, lambda uow: privacy.find_subject(uow, manager, "mary chen"))
    assert found.subject is not None and found.subject.kind == "contact"
    export, _ = run(engine, lambda uow: privacy.export_personal(uow, manager, NOW, "contact", ids["mary"]))
    sheets = dict(export.sheets)
    assert sheets["customer"] == ({"id": ids["acme"], "name": "Acme Trading"},)
    assert [c["name"] for c in sheets["contacts"]] == ["Mary Chen"]
    assert [i["text"] for i in sheets["interactions"]] == ["Met Mary, wants 20 units"]
    assert [m["sender"] for m in sheets["conversation"]] == ["Mary Chen"]
    assert [f["action"] for f in sheets["follow_ups"]] == ["send the quote"]
    assert len(sheets["deals"]) == 1 and sheets["audio"] == ()
    assert "John" not in str(export.as_json())


def test_the_whole_team_export_is_the_owners(engine):
    (amy, manager, _chen, _bob), _ids = _seed(engine)
    with pytest.raises(NotAllowed):
        run(engine, lambda uow: privacy.team_export(uow, manager))
    with unit_of_work(engine) as uow:
        sheets = {kind: (header, list(rows)) for kind, header, rows in privacy.team_export(uow, amy)}
        assert list(sheets) == ["customers", "contacts", "interactions", "follow_ups", "deals", "members"]
        header, rows = sheets["customers"]
        assert header[:2] == ("id", "name")
        assert {r[1] for r in rows} == {"Acme Trading", "Acme Old Record"}
        assert uow.session.exec(select(Customer).where(Customer.name == "Acme Trading")).one().erased_at is None
