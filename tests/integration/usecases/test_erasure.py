"""/erase on both databases: nothing of an erased customer or contact person is found afterwards by search, the
card, an export, the name index (of this process or another) or in ANY row of ANY table (every column of every
table dumped as text, JSON as stored and decoded, bytes decoded, FTS5 shadow tables included); the shell keeps
the counts; one audit event says who erased whom and why, without the erased words."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core.models import (
    AudioClip,
    AuditEvent,
    ChatState,
    Contact,
    ConversationMessage,
    Customer,
    CustomerFile,
    Deal,
    FollowUp,
    InboxItem,
    Interaction,
)
from core.services import customer_removal, customers, followups, interactions
from core.services.errors import NotAllowed
from core.services.interactions import Source
from core.services.name_index import NameIndex, name_index
from core.text import match_key, search_form
from core.uow import unit_of_work
from core.usecases import customers as customer_views
from core.usecases import privacy
from tests.integration.usecases.test_customer_truth import NOW, run, team

NAME, BRANCH, PERSON = "鴻運精密機械", "鴻運精密台中廠", "黃志明"
PHONE, EMAIL, PERSON_EMAIL = "0912 345 678", "sales@hongyun-precision.tw", "zhiming.huang@hongyun-precision.tw"
PHRASE, TRANSCRIPT = "女兒下個月在台南結婚", "黃經理說預算大約八百萬"
FILE_BYTES = b"%PDF-1.4 hongyun-secret-quote"


def dump(engine) -> str:
    """Every value of every row of every table, as stored and as decoded, lower-cased."""
    out: list[str] = []
    with engine.connect() as connection:
        for table in sa.inspect(connection).get_table_names():
            for row in connection.execute(sa.text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if value is None:
                        continue
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("utf-8", "ignore")
                    if isinstance(value, dict | list):
                        out += [json.dumps(value), json.dumps(value, ensure_ascii=False)]
                        continue
                    text = str(value)
                    out.append(text)
                    if text[:1] in "[{":
                        with contextlib.suppress(ValueError):
                            out.append(json.dumps(json.loads(text), ensure_ascii=False))
    return "\n".join(out).lower()


def needles(*words: str) -> list[str]:
    found: list[str] = []
    for word in words:
        found += [word, json.dumps(word)[1:-1], search_form(word), match_key(word)]
    return [n.lower() for n in dict.fromkeys(found) if len(n) >= 2]


def leftovers(engine, *words: str) -> list[str]:
    text = dump(engine)
    return [n for n in needles(*words) if n in text]


def _populate(engine):
    amy, manager, chen, bob = team(engine)
    with unit_of_work(engine) as uow:
        s = uow.session
        hy = customers.create_customer(s, chen, NAME, aliases=["鴻運"], phones=[PHONE])
        hy.emails, hy.email, hy.address, hy.notes = [EMAIL], EMAIL, "台中市西屯區工業區一路 8 號", "老闆喜歡喝烏龍茶"
        s.add(hy)
        branch = customers.create_customer(s, chen, BRANCH)
        contact = customers.add_contact(s, chen, hy.id, PERSON, phone="0922-111-333", email=PERSON_EMAIL,
                                        title="採購經理")
        note, _ = interactions.log_interaction(
            s, chen, text=f"拜訪{NAME}，{PERSON}經理說{PHRASE}，要報價 300 台", customer_id=hy.id,
            contact_id=contact.id, source=Source("telegram", "dm3", "501"))
        voice, _ = interactions.log_interaction(s, chen, text="", kind="voice", transcript=TRANSCRIPT,
                                                customer_id=hy.id, source=Source("telegram", "dm3", "502"))
        s.add(AudioClip(team_id=chen.team_id, interaction_id=voice.id, sha256="cd" * 32, mime_type="audio/ogg",
                        data=b"OggS hongyun voice"))
        s.add(ConversationMessage(team_id=chen.team_id, interaction_id=note.id, customer_key=str(hy.id),
                                  sender=PERSON, sent_at=NOW, text=f"我的手機 {PHONE}", dedup_key="k1"))
        s.add(CustomerFile(team_id=chen.team_id, customer_id=hy.id, member_id=chen.member_id,
                           file_name=f"{NAME}報價單.pdf", size=len(FILE_BYTES), sha256="ef" * 32, data=FILE_BYTES))
        s.add(Deal(team_id=chen.team_id, customer_id=hy.id, owner_id=chen.member_id, title=f"{NAME} 300 台",
                   amount=Decimal("8000000"), currency="TWD", lost_reason=None))
        followups.schedule(s, chen, customer_id=hy.id, due_at=NOW + timedelta(days=1),
                           action=f"打給{PERSON}確認{NAME}報價", source_interaction_id=note.id)
        acme = customers.create_customer(s, bob, "Acme Trading")
        interactions.log_interaction(s, bob, text=f"Acme says {NAME} referred them; call {PHONE} later",
                                     customer_id=acme.id)
        unfiled, _ = interactions.log_interaction(s, bob, text=f"{PERSON} 說下週再談", customer_id=None)
        s.add(ChatState(team_id=chen.team_id, member_id=chen.member_id, chat="telegram:dm3", kind="customer_rename",
                        payload={"customer": hy.id}, expires_at=NOW + timedelta(minutes=15)))
        s.add(ChatState(team_id=bob.team_id, member_id=bob.member_id, chat="telegram:dm4", kind="pick_customer",
                        payload={"typed": NAME}, expires_at=NOW + timedelta(minutes=15)))
        raw = {"update_id": 9001, "message": {"message_id": 501, "chat": {"id": "dm3"}, "text": note.text}}
        by_id = {"update_id": 9002, "message": {"message_id": 502, "chat": {"id": "dm3"}, "voice": {"file_id": "v"}}}
        other = {"update_id": 9003, "message": {"message_id": 503, "chat": {"id": "dm3"}, "text": "Acme tomorrow"}}
        for key, payload in (("u:9001", raw), ("u:9002", by_id), ("u:9003", other)):
            s.add(InboxItem(platform="telegram", key=key, chat_key="telegram:dm3", payload=payload, status="done"))
        ids = {"customer": hy.id, "branch": branch.id, "contact": contact.id, "note": note.id, "acme": acme.id,
               "unfiled": unfiled.id}
    with unit_of_work(engine) as uow:  # the branch was a second record of the same company: merged into it
        customer_removal.merge(uow.session, chen, ids["customer"], ids["branch"])
    return (amy, manager, chen, bob), ids


def _warm(engine, index: NameIndex, team_id: int) -> None:
    with unit_of_work(engine) as uow:
        index.customer_index(uow.session, team_id)
        assert index.fuzzy(uow.session, team_id, match_key(NAME))


def test_an_erased_customer_leaves_nothing_findable_in_any_row(engine):
    (_amy, manager, chen, _bob), ids = _populate(engine)
    assert leftovers(engine, NAME, PERSON, EMAIL, PHRASE)  # the dump does see them before
    other_process = NameIndex()
    _warm(engine, other_process, chen.team_id)
    _warm(engine, name_index, chen.team_id)
    with unit_of_work(engine) as uow:
        counts = {"notes": uow.session.exec(select(sa.func.count()).select_from(Interaction)).one(),
                  "deals": uow.session.exec(select(sa.func.count()).select_from(Deal)).one()}

    with pytest.raises(NotAllowed):
        run(engine, lambda uow: privacy.erase(uow, chen, NOW, "customer", ids["customer"], "客戶要求"))
    preview, _ = run(engine, lambda uow: privacy.erase_preview(uow, manager, "customer", ids["customer"]))
    assert (preview.notes, preview.contacts, preview.follow_ups, preview.deals) == (2, 1, 1, 1)
    result, _ = run(engine, lambda uow: privacy.erase(uow, manager, NOW, "customer", ids["customer"],
                                                      f"客戶要求：{PERSON}來電要求刪除"))
    assert result.status is privacy.EraseStatus.DONE and result.subject.name == NAME
    again, _ = run(engine, lambda uow: privacy.erase(uow, manager, NOW, "customer", ids["customer"], "again"))
    assert again.status is privacy.EraseStatus.ALREADY

    # nothing of it anywhere: every row of every table, as stored and decoded
    words = (NAME, BRANCH, "鴻運", PERSON, PHONE, "0912345678", "+886912345678", "0922111333", "+886922111333",
             EMAIL, PERSON_EMAIL, PHRASE, TRANSCRIPT, "台中市西屯區工業區一路", "老闆喜歡喝烏龍茶", "hongyun")
    assert leftovers(engine, *words) == []
    # … nor by search, the card, a new lookup or the name index (this process's and another's)
    with unit_of_work(engine) as uow:
        for query in (NAME, "鴻運", PERSON, "結婚", "八百萬", "0912345678"):
            assert customer_views.search_notes(uow, manager, query) == ()
        assert customer_views.find_customer(uow, manager, NAME).customer is None
        assert customer_views.find_customer(uow, manager, NAME).candidates == ()
        assert ids["customer"] not in {c.id for c in customer_views.recent_customers(uow, manager)}  # not offered
        card = customer_views.customer_card(uow, manager, ids["customer"])
        assert card.customer.name == f"已刪除個資的客戶 #{ids['customer']}"
        assert card.contacts == () and card.phones == () and card.emails == () and card.notes is None
        assert all(i.text == "" for i in card.recent)
        for index in (name_index, other_process):
            assert index.fuzzy(uow.session, chen.team_id, match_key(NAME)) == []
            known = index.customer_index(uow.session, chen.team_id)
            assert known.get(ids["customer"]) is None
        exported = privacy.export_personal(uow, manager, NOW, "customer", ids["customer"])
        assert not [n for n in needles(*words) if n in json.dumps(exported.as_json(), ensure_ascii=False).lower()]
        assert exported.attachments == ()

    with unit_of_work(engine) as uow:
        s = uow.session
        # the shell keeps the counts and the deal's amount; the follow-up is cancelled
        assert s.exec(select(sa.func.count()).select_from(Interaction)).one() == counts["notes"]
        assert s.exec(select(sa.func.count()).select_from(Deal)).one() == counts["deals"]
        deal = s.exec(select(Deal).where(Deal.customer_id == ids["customer"])).one()
        assert deal.amount == Decimal("8000000.00") and deal.title.startswith("已刪除個資的客戶")
        assert s.exec(select(FollowUp.status).where(FollowUp.customer_id == ids["customer"])).all() == ["cancelled"]
        shell = s.get(Customer, ids["customer"])
        assert shell.erased_at is not None and shell.owner_id == chen.member_id
        assert s.get(Customer, ids["branch"]).name == f"已刪除個資的客戶 #{ids['branch']}"
        assert s.exec(select(Contact)).all() == [] and s.exec(select(AudioClip)).all() == []
        assert s.exec(select(CustomerFile)).all() == [] and s.exec(select(ConversationMessage)).all() == []
        # other people's data stays, the erased words redacted
        acme_note = s.exec(select(Interaction).where(Interaction.customer_id == ids["acme"])).one()
        assert acme_note.text == "Acme says […] referred them; call […] later"
        assert s.get(Interaction, ids["unfiled"]).text == "[…] 說下週再談"
        assert s.get(Customer, ids["acme"]).name == "Acme Trading"
        assert [i.key for i in s.exec(select(InboxItem))] == ["u:9003"]
        assert s.exec(select(ChatState)).all() == []
        # one audit event: who, when, why (redacted), how many rows
        [event] = s.exec(select(AuditEvent).where(AuditEvent.action == "erase")).all()
        assert (event.actor_id, event.entity, event.entity_id) == (manager.member_id, "erasure", ids["customer"])
        assert event.after["reason"] == "客戶要求：[…]來電要求刪除" and event.after["subject"] == "customer"
        assert event.after["removed"]["interactions"] == 2


def test_an_erased_contact_person_goes_and_the_customer_stays(engine):
    _amy, manager, chen, _bob = team(engine)
    with unit_of_work(engine) as uow:
        s = uow.session
        acme = customers.create_customer(s, chen, "Acme Trading")
        mary = customers.add_contact(s, chen, acme.id, "Mary Chen", phone="+886 2 2345 6789",
                                     email="mary.chen@acme-trading.test")
        john = customers.add_contact(s, chen, acme.id, "John Wu")
        about, _ = interactions.log_interaction(s, chen, text="Met Mary Chen, she is moving to Kaohsiung in May",
                                                customer_id=acme.id, contact_id=mary.id)
        s.add(ConversationMessage(team_id=chen.team_id, interaction_id=about.id, customer_key=str(acme.id),
                                  sender="Mary Chen", sent_at=NOW, text="see you", dedup_key="m1"))
        other, _ = interactions.log_interaction(
            s, chen, text="John Wu says write to mary.chen@acme-trading.test or ask Mary Chen", customer_id=acme.id,
            contact_id=john.id)
        s.add(ConversationMessage(team_id=chen.team_id, interaction_id=other.id, customer_key=str(acme.id),
                                  sender="Mary Chen", sent_at=NOW + timedelta(minutes=1), text="hi John",
                                  dedup_key="m2"))
        ids = (acme.id, mary.id, john.id, about.id, other.id)
    acme_id, mary_id, john_id, about_id, other_id = ids
    found, _ = run(engine, lambda uow: privacy.find_subject(uow, manager, "Mary Chen"))
    assert found.subject is not None and (found.subject.kind, found.subject.id) == ("contact", mary_id)
    result, _ = run(engine, lambda uow: privacy.erase(uow, manager, NOW, "contact", mary_id, "she asked"))
    assert result.status is privacy.EraseStatus.DONE
    assert leftovers(engine, "Mary Chen", "mary.chen@acme-trading.test", "+886223456789", "0223456789",
                     "moving to Kaohsiung") == []
    with unit_of_work(engine) as uow:
        s = uow.session
        assert s.get(Customer, acme_id).name == "Acme Trading" and s.get(Contact, john_id) is not None
        assert s.get(Interaction, about_id).text == ""
        assert s.get(Interaction, other_id).text == "John Wu says write to […] or ask […]"
        assert s.exec(select(ConversationMessage)).all() == []
        assert customer_views.search_notes(uow, manager, "Kaohsiung") == ()
        assert privacy.find_subject(uow, manager, "Mary Chen").subject is None
    again, _ = run(engine, lambda uow: privacy.erase(uow, manager, NOW, "contact", mary_id, "she asked"))
    assert again.status is privacy.EraseStatus.ALREADY


def test_a_reason_is_required_and_another_teams_ids_are_not_found(engine):
    _amy, manager, chen, _bob = team(engine)
    with unit_of_work(engine) as uow:
        acme = customers.create_customer(uow.session, chen, "Acme Trading")
        acme_id = acme.id
    with pytest.raises(privacy.InvalidInput):
        run(engine, lambda uow: privacy.erase(uow, manager, NOW, "customer", acme_id, "   "))
    from dataclasses import replace

    stranger = replace(manager, team_id=manager.team_id + 100)
    with pytest.raises(privacy.NotFound):
        run(engine, lambda uow: privacy.erase(uow, stranger, NOW, "customer", acme_id, "forged"))
    with unit_of_work(engine) as uow:
        assert uow.session.get(Customer, acme_id).name == "Acme Trading"
