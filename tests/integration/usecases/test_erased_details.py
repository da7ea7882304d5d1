"""/erase takes the person's phone numbers and e-mail addresses off every customer and contact person of the team
that still lists them, in whatever form they were written (`02-2345-6789` for `+886223456789`, another case of
the e-mail), on both databases; other numbers and addresses stay, and another team's rows are not touched. The
eraser's own update being handled (the confirm press, quoting the preview) keeps its row with the words redacted."""

from __future__ import annotations

from sqlmodel import select

from core.models import Contact, Customer, InboxItem
from core.services import customers, teams
from core.services.actor import Actor
from core.uow import unit_of_work
from core.usecases import privacy
from tests.integration.usecases.test_customer_truth import NOW, run, team

PHONE, EMAIL = "+886223456789", "wang@datong.com.tw"


def _populate(engine):
    _amy, manager, chen, bob = team(engine)
    with unit_of_work(engine) as uow:
        other_team = Actor.of(teams.found_team(uow.session, teams.Newcomer("telegram", "9", "dm9", "Someone Else"),
                                                    open_signup=True))
    with unit_of_work(engine) as uow:
        s = uow.session
        datong = customers.create_customer(s, chen, "大同五金", phones=[PHONE, "0922 111 222"])
        datong.emails, datong.email = [EMAIL, "office@datong.com.tw"], EMAIL
        s.add(datong)
        wang = customers.add_contact(s, chen, datong.id, "王志明", phone=PHONE, email=EMAIL)
        logistics = customers.create_customer(s, bob, "大同物流", phones=["02-2345-6789"])
        logistics.emails, logistics.email = ["WANG@Datong.com.tw"], "WANG@Datong.com.tw"
        s.add(logistics)
        copy = customers.add_contact(s, bob, logistics.id, "王先生", phone="(02) 2345 6789", email="Wang@datong.com.tw")
        keeps = customers.add_contact(s, bob, logistics.id, "陳經理", phone="0933-000-111", email="chen@logi.tw")
        theirs = customers.create_customer(s, other_team, "大同五金", phones=[PHONE])
        theirs.emails, theirs.email = [EMAIL], EMAIL
        s.add(theirs)
        ids = {"datong": datong.id, "wang": wang.id, "logistics": logistics.id, "copy": copy.id, "keeps": keeps.id,
               "theirs": theirs.id}
    return manager, ids


def test_erasing_a_contact_takes_their_phone_and_email_off_every_row_of_the_team(engine):
    manager, ids = _populate(engine)
    result, _ = run(engine, lambda uow: privacy.erase(uow, manager, NOW, "contact", ids["wang"], "本人要求"))
    assert result.status is privacy.EraseStatus.DONE
    with unit_of_work(engine) as uow:
        s = uow.session
        datong, logistics, theirs = (s.get(Customer, ids[k]) for k in ("datong", "logistics", "theirs"))
        assert (datong.phones, datong.emails, datong.email) == (["+886922111222"], ["office@datong.com.tw"],
                                                                "office@datong.com.tw")
        assert (logistics.phones, logistics.emails, logistics.email) == ([], [], None)
        copy, keeps = s.get(Contact, ids["copy"]), s.get(Contact, ids["keeps"])
        assert (copy.name, copy.phones, copy.email) == ("王先生", [], None)
        assert (keeps.phones, keeps.email) == (["+886933000111"], "chen@logi.tw")
        assert s.get(Contact, ids["wang"]) is None
        assert (theirs.phones, theirs.emails, theirs.email) == ([PHONE], [EMAIL], EMAIL)  # another team's
        assert result.counts and dict(result.counts)["redacted"] >= 3


def test_erasing_a_customer_takes_its_phone_and_email_off_the_teams_other_rows(engine):
    manager, ids = _populate(engine)
    run(engine, lambda uow: privacy.erase(uow, manager, NOW, "customer", ids["datong"], "客戶要求"))
    with unit_of_work(engine) as uow:
        s = uow.session
        logistics = s.get(Customer, ids["logistics"])
        assert (logistics.name, logistics.phones, logistics.emails) == ("大同物流", [], [])
        assert [(c.name, c.phones, c.email) for c in s.exec(select(Contact).order_by(Contact.id))] == [
            ("王先生", [], None), ("陳經理", ["+886933000111"], "chen@logi.tw")]
        assert s.get(Customer, ids["theirs"]).phones == [PHONE]


def test_the_erasers_update_in_flight_keeps_its_row_with_the_words_redacted(engine):
    manager, ids = _populate(engine)
    press = {"callback_query": {"id": "7", "data": f"pv:y:p:{ids['wang']}",
                                "message": {"message_id": 5, "text": f"⚠️ Erase 王志明 ({EMAIL}) permanently?"}}}
    other = {"message": {"message_id": 6, "text": "王志明 called"}}
    with unit_of_work(engine) as uow:
        uow.session.add(InboxItem(platform="telegram", key="u:1", chat_key="telegram:dm2", payload=press,
                                  status="processing", claimed_by="w1"))
        uow.session.add(InboxItem(platform="telegram", key="u:2", chat_key="telegram:dm3", payload=other,
                                  status="processing", claimed_by="w2"))  # a colleague's, being handled
    run(engine, lambda uow: privacy.erase(uow, manager, NOW, "contact", ids["wang"], "本人要求"))
    with unit_of_work(engine) as uow:
        rows = {r.key: r for r in uow.session.exec(select(InboxItem))}
        assert rows["u:1"].status == "processing" and rows["u:1"].claimed_by == "w1"
        assert rows["u:1"].payload["callback_query"]["message"]["text"] == "⚠️ Erase […] ([…]) permanently?"
        assert rows["u:1"].payload["callback_query"]["data"] == f"pv:y:p:{ids['wang']}"
        assert rows["u:2"].payload == other
