"""Issue 13 in chat, on SQLite and PostgreSQL: stable references (`/done N` as shown, typed digits of every kind,
answered pickers, "type a name" prompts), contacts as people (shared cards, forwarded senders, phones in E.164 with
the member's country) and a customer card that shows who, when and which files — with two salespeople and a
manager where it matters."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from bot.note_cards import distinct_labels
from core.chat import Attachment, ContactIn, FileIn, ForwardOrigin
from core.db import session_scope
from core.models import Contact, Customer, CustomerAlias, FollowUp, FollowUpStatus
from core.usecases.views import CustomerRef
from tests.integration.bot import test_customer_team as team

manager, payloads = team.manager, team.payloads  # a manager (fixture; bob comes from conftest)


def customers(app) -> list[str]:
    with session_scope(app.engine) as session:
        return sorted(c.name for c in session.exec(select(Customer).where(Customer.merged_into_id.is_(None))))


def done_actions(app) -> list[str]:
    with session_scope(app.engine) as session:
        return sorted(f.action or "" for f in session.exec(select(FollowUp).where(
            FollowUp.status == FollowUpStatus.done)))


async def test_done_numbers_are_the_shown_list_and_every_kind_of_digit_is_read_or_refused(app, owner, clock):
    for note in ("Visited Acme, call Mr. Lee Friday", "Visited Globex, send samples Monday",
                 "Visited Initech, send the quote Tuesday", "Visited Umbrella, book a demo Thursday"):
        await owner.say(note)
    shown = (await owner.say("/todo"))[0].text  # by due date: Umbrella (Thu), Acme (Fri), Globex, Initech
    assert "1. <b>Umbrella</b>" in shown and "3. <b>Globex</b>" in shown and "4. <b>Initech</b>" in shown
    await owner.say("Visited Hooli, ask for the contract today at 5pm")  # due first, added after the list
    assert "Done" in (await owner.say("/done ３"))[0].text  # full-width 3: the third as shown, Globex
    assert done_actions(app) == ["send samples"]
    again = (await owner.say("/done 3"))[0].text
    assert "Already done" in again and done_actions(app) == ["send samples"]  # a repeat changes nothing
    assert "Done" in (await owner.say("/done 二"))[0].text  # Chinese numerals: the second as shown, Acme
    assert done_actions(app) == ["call Mr. Lee", "send samples"]
    for typed in ("²", "½", "1.5", "-1", "0", "99", "three", "十十"):
        reply = (await owner.say(f"/done {typed}"))[0].text
        assert reply == "Send /done and the number from /todo (1–4).", typed  # polite, never "something went wrong"
    assert done_actions(app) == ["call Mr. Lee", "send samples"]
    await owner.say("/todo")  # a new list: numbers follow it
    assert "1. <b>Hooli</b>" in owner.text and "Globex" not in owner.text and "Acme" not in owner.text


async def test_a_zh_member_is_refused_in_chinese_and_reads_chinese_numbers(app, sales, clock):
    await sales.say("拜訪大同五金行，王總要報價，下週三回覆")
    await sales.say("拜訪永豐電子，張經理要樣品，明天寄")
    await sales.say("/todo")
    refused = (await sales.say("/done ²"))[0].text
    assert refused == "請傳 /done 加上 /todo 裡的編號(1–2)。"
    done = (await sales.say("/done 第二"))[0].text  # the second as shown: 大同五金行 is due after 永豐電子
    assert done == "✅ 已完成:大同五金行 · 回覆報價"


async def test_a_picker_already_answered_says_so_and_moves_nothing(app, owner):
    await owner.say("/new Globex")
    await owner.say("/new Initech")
    await owner.say("Visited Acme, Mr. Lee wants a quote")
    card = owner.last[-1]
    await owner.press("Change customer", card)
    picker = owner.last[-1]
    await owner.press("Globex", picker)
    assert "<b>Globex</b>" in owner.text
    await owner.press("Initech", picker)  # the same picker, pressed again
    assert "Already filed under <b>Globex</b>; nothing changed." in owner.text
    assert customers(app) == ["Globex", "Initech"]  # the Acme the note made is gone; nothing moved to Initech
    await owner.say("/c Initech")
    assert "0 interactions" in owner.text
    await owner.say("/c Globex")
    assert "1 interaction" in owner.text and "Acme" not in owner.text.split("•")[0]  # no alias learned


async def test_a_type_a_name_prompt_refuses_sentences_cancels_expires_and_any_command_leaves_it(app, owner, clock):
    await owner.say("Visited Acme, Mr. Lee wants a quote")
    card = owner.last[-1]
    await owner.press("Change customer", card)
    await owner.press("Type a name")
    asked = owner.last[-1]
    assert any(p.startswith("w:x:") for p in payloads(asked))  # a Cancel button
    await owner.say("Visited Globex today and Mr. Park said they want a demo next week for sure")
    assert "reads like a note" in owner.text and customers(app) == ["Acme"]
    await owner.say("/todo")  # a command leaves the prompt
    await owner.say("Globex")  # ... so this is not taken as the name
    assert customers(app) == ["Acme"]
    await owner.press("Cancel", asked)
    assert "already answered, cancelled or expired" in owner.text

    await owner.press("Change customer", card)
    await owner.press("Type a name")
    asked = owner.last[-1]
    await owner.press("Cancel", asked)
    await owner.say("Initech")
    assert customers(app) == ["Acme"]  # cancelled: nothing was filed under the typed name

    await owner.press("Change customer", card)
    await owner.press("Type a name")
    clock.advance(minutes=16)  # expired: the next message is not the answer
    await owner.say("Initech")
    assert customers(app) == ["Acme"]
    await owner.press("Change customer", card)
    await owner.press("Type a name")
    await owner.say("Initech Ltd")
    assert "<b>Initech Ltd</b>" in owner.text and customers(app) == ["Initech Ltd"]


async def test_a_shared_contact_is_a_person_and_its_company_suggests_the_customer(app, owner, sales):
    await sales.say("/new 大同五金行")
    await sales.say("/new 永豐電子")
    await sales.send(ContactIn(sales.envelope(), "李大明", "0912-345-678", company="永豐電子股份有限公司",
                               title="採購經理", email="lee@yongfeng.tw", phones=("0912-345-678", "02 2345 6789")))
    asked = sales.last[-1]
    assert next(b.label for row in asked.buttons for b in row) == "永豐電子"  # the card's company comes first
    assert "+886912345678" in asked.text
    await sales.press("永豐電子", asked)
    await sales.say("/c 永豐電子")
    assert "李大明 (採購經理) · +886912345678 · +886223456789 · lee@yongfeng.tw" in sales.text
    with session_scope(app.engine) as session:
        lee = session.exec(select(Contact)).one()
        assert (lee.title, lee.email, lee.phones) == ("採購經理", "lee@yongfeng.tw",
                                                       ["+886912345678", "+886223456789"])


async def test_phones_follow_the_members_country(app, owner):
    await owner.say("/country CN")
    await owner.say("/new Midea")
    await owner.contact("Zhao Lei", "138 0013 8000")
    await owner.press("Midea")
    with session_scope(app.engine) as session:
        assert session.exec(select(Contact.phones)).one() == ["+8613800138000"]


async def test_a_forwarded_sender_becomes_the_customers_contact_not_an_alias(app, owner):
    await owner.say("/new Acme")
    await owner.forward("Acme here: please send the catalogue", ForwardOrigin("user", "John Smith", "777"))
    messenger = app.messengers["test"]
    for _ in range(200):  # the forward summary is sent on its own after a short batch window
        if messenger.sent:
            break
        await asyncio.sleep(0.02)
    summary = messenger.sent[-1][1]
    await owner.press("Acme", summary)
    await owner.say("/c Acme")
    assert "👥 John Smith" in owner.text
    with session_scope(app.engine) as session:
        aliases = session.exec(select(CustomerAlias.alias)).all()
        assert "John Smith" not in aliases
        assert session.exec(select(Contact.name)).all() == ["John Smith"]


async def test_the_card_shows_owner_contacts_visits_and_files(app, owner, sales, clock):
    await sales.say("拜訪大同五金行，王總要報價 200 台")
    clock.advance(days=2)
    await sales.say("打電話給大同五金行王總，確認交期")
    clock.advance(days=1)
    await sales.say("去大同五金行開會，王總說下個月下單")
    messenger = app.messengers["test"]
    for n, name in enumerate(("報價單.pdf", "型錄.pdf", "展示架.jpg", "合約.pdf"), start=1):
        messenger.files[f"f{n}"] = b"%PDF-1.4 " + name.encode()
        await sales.send(FileIn(sales.envelope(), Attachment("test", f"f{n}", name, "application/pdf"),
                                caption="大同五金行"))
    await sales.say("/c 大同五金行")
    card = sales.text
    assert "👤 負責人：陳小姐" in card and "👥 王總" in card and "共 3 筆往來紀錄" in card
    assert "📎 4 個檔案:合約.pdf, 展示架.jpg, 型錄.pdf, …" in card
    visits = next(line for line in card.splitlines() if line.startswith("🚶"))
    assert visits == "🚶 拜訪：今天 10:00, 11月18日(週三) 10:00"  # each past visit with its date (not the call)

    await owner.say("/c 大同五金行")
    assert "📎 4 files: 合約.pdf, 展示架.jpg, 型錄.pdf, …" in owner.text and "陳小姐" in owner.text


async def test_a_colleagues_customer_under_another_form_of_its_name_is_asked_never_doubled(app, owner, sales, bob,
                                                                                            manager):
    await sales.say("/new 大同五金行股份有限公司")
    whose = "🔒 大同五金行股份有限公司 is 陳小姐's customer. Ask for access to see it."
    for typed in ("/new 大同五金行", "/new 大同 五金行", "/new 大同五金行有限公司", "/new 大同五金行(股)公司",
                  "/c 大同五金行公司", "/c 大同五金行(股)公司"):
        assert (await bob.say(typed))[0].text == whose, typed  # never a second one; whose it is, with "ask"
        assert payloads(bob.last[-1]) == ["ac:req:1"]
    assert "大同五金行股份有限公司" in (await sales.say("/c 大同五金行公司"))[0].text  # her own: the card
    assert "🏢" in sales.text
    await bob.say("拜訪大同五金行公司 李經理說要樣品")
    question = bob.last[-1]  # asked before anything is created
    assert "“大同五金行公司”" in question.text and customers(app) == ["大同五金行股份有限公司"]
    assert next(b.label for row in question.buttons for b in row) == "大同五金行股份有限公司"
    await bob.press("大同五金行股份有限公司", question)
    assert "陳小姐" in bob.text  # whose customer it is
    await bob.press("大同五金行股份有限公司", question)
    assert "Already filed" in bob.text
    assert customers(app) == ["大同五金行股份有限公司"]
    await manager.say("/customers")
    assert [b.label for row in manager.last[-1].buttons for b in row] == ["大同五金行股份有限公司"]


def test_buttons_for_customers_of_one_name_are_never_alike():
    labels = distinct_labels([CustomerRef(3, "Acme"), CustomerRef(7, "Acme"), CustomerRef(9, "Globex")])
    assert labels == ["Acme · #3", "Acme · #7", "Globex"]
    assert distinct_labels([CustomerRef(1, "A" * 60)]) == ["A" * 40]


async def test_the_rename_prompt_refuses_sentences_and_a_company_the_team_has_and_any_command_leaves_it(app, owner):
    await owner.say("/new Globex")
    await owner.say("/new Initech")

    async def ask_rename():
        await owner.say("/c Globex")
        await owner.press("⋯")
        await owner.press("✏️")
        assert "Type the new name for Globex" in owner.text
        return owner.last[-1]

    await ask_rename()
    await owner.say("Visited Globex today and Mr. Park said they want a demo next week")
    assert "can't be a customer name" in owner.text and customers(app) == ["Globex", "Initech"]
    await owner.say("/renamee")  # a command we do not know leaves the prompt too
    assert "I don't know /renamee" in owner.text
    await owner.say("Hooli")
    assert customers(app) == ["Globex", "Initech"]  # not taken as the new name

    await ask_rename()
    await owner.say("Initech Inc.")  # the same company as Initech: offered as a merge, not a second Initech
    assert "Initech already has that name" in owner.text and "Merge" in owner.last[-1].buttons[0][0].label
    assert customers(app) == ["Globex", "Initech"]
    await ask_rename()
    await owner.say("Globex Trading")
    assert "Renamed to Globex Trading" in owner.text and customers(app) == ["Globex Trading", "Initech"]


async def test_a_date_picker_already_answered_says_so_and_moves_nothing(app, owner):
    await owner.say("Visited Initech, Mr. Lee wants a quote, follow up Friday")
    card = owner.last[-1]
    await owner.press("Change date", card)
    dates = owner.last[-1]
    await owner.press("Tomorrow", dates)
    assert "Tomorrow 09:00" in owner.text
    await owner.press("Next week", dates)  # the same picker again
    assert "That date was already answered; nothing changed." in owner.text and "Tomorrow 09:00" in owner.text
    await owner.press("Change date", card)  # a new picker is a new question
    await owner.press("Next week")
    assert "Mon 23 Nov 09:00" in owner.text
    await owner.press("No follow-up")
    await owner.press("Tomorrow", dates)  # the follow-up is gone: the old picker still changes nothing
    assert "already answered" in owner.text
    with session_scope(app.engine) as session:
        assert FollowUpStatus.pending not in session.exec(select(FollowUp.status)).all()  # none brought back
