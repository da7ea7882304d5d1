"""/team in chat, in three languages: the roster with what each member holds, promote / demote / remove in two
steps with re-checked payloads, a removed member refused from their next message on, the team told."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from core.chat import ButtonIn, Reply
from core.models import AuditEvent, Interaction, Member, Team
from core.uow import unit_of_work
from tests.conversation import Chat, joined


@pytest.fixture
async def manager(app, owner) -> Chat:
    return await joined(owner, "manager1", "林经理", "zh-CN", "manager")


def payloads(reply: Reply) -> list[str]:
    return [button.payload for row in reply.buttons for button in row]


def member(app, name: str) -> Member:
    with unit_of_work(app.engine) as uow:
        found = uow.session.exec(select(Member).where(Member.name == name)).one()
        uow.session.expunge(found)
        return found


def count(app, model) -> int:
    with unit_of_work(app.engine) as uow:
        return int(uow.session.exec(select(func.count()).select_from(model)).one())


def sent_to(app, chat: Chat) -> list[Reply]:
    return [reply for to, reply in app.messengers["test"].sent if to.chat_id == f"dm-{chat.user_id}"]


async def press_payload(chat: Chat, payload: str) -> list[Reply]:
    return await chat.send(ButtonIn(chat.envelope(message_id="77"), payload, callback_id=f"cb-{payload}-{id(chat)}"))


async def test_the_owner_sees_every_member_with_what_they_hold_and_last_activity(app, clock, owner, sales,
                                                                                  manager):
    await sales.say("拜訪大同五金行，王總要報價，明天下午三點回電")
    clock.advance(days=3)
    await owner.say("/team")
    text = owner.text
    assert "Amy Lin" in text and "(you)" in text and "owner" in text
    assert "陳小姐" in text and "salesperson" in text and "林经理" in text and "manager" in text
    sales_line = text.split("陳小姐")[1].split("\n<b>")[0]
    assert "customers: 1" in sales_line and "open follow-ups: 1" in sales_line and "3 days ago" in sales_line
    assert "no notes yet" in text.split("林经理")[1]  # the manager logged nothing yet
    buttons = payloads(owner.last[-1])
    sales_id, manager_id, owner_id = member(app, "陳小姐").id, member(app, "林经理").id, member(app, "Amy Lin").id
    assert {f"tm:ask:{sales_id}:up", f"tm:ask:{sales_id}:rm", f"tm:ask:{manager_id}:up",
            f"tm:ask:{manager_id}:down", f"tm:ask:{manager_id}:rm"} <= set(buttons)
    assert not any(f":{owner_id}:" in p for p in buttons)  # nothing on yourself
    assert all(len(p.encode()) <= 64 for p in buttons)


async def test_a_salesperson_sees_the_team_in_traditional_chinese_without_buttons(app, owner, sales):
    await sales.say("/團隊")
    assert "陳小姐" in sales.text and "（你）" in sales.text and "業務" in sales.text and "擁有者" in sales.text
    assert "還沒有記錄" in sales.text
    assert sales.last[-1].buttons == ()
    await sales.say("/成員")
    assert "Amy Lin" in sales.text


async def test_a_manager_in_simplified_chinese_promotes_a_salesperson_in_two_steps(app, owner, sales, manager):
    await manager.say("/团队")
    buttons = payloads(manager.last[-1])
    sales_id = member(app, "陳小姐").id
    assert buttons == [f"tm:ask:{sales_id}:up", f"tm:ask:{sales_id}:rm"]  # salespeople only, never the owner
    await manager.press(f"tm:ask:{sales_id}:up")
    assert "陳小姐" in manager.text and "主管" in manager.text and member(app, "陳小姐").role == "sales"
    confirm = manager.last[-1]
    await manager.press("是，让 陳小姐 成为主管", confirm)
    assert "陳小姐 现在是主管" in manager.text and member(app, "陳小姐").role == "manager"
    await manager.press("是，让 陳小姐 成为主管", confirm, message_id="100")  # a second press
    assert "已经是主管" in manager.text
    await app.member_messages.drain()
    assert any("主管" in reply.text and "林经理" in reply.text for reply in sent_to(app, sales))  # zh-Hant: told
    with unit_of_work(app.engine) as uow:
        events = uow.session.exec(select(AuditEvent).where(AuditEvent.action == "role")).all()
    assert [(e.before, e.after) for e in events] == [({"role": "sales"}, {"role": "manager"})]


async def test_removing_a_member_refuses_their_next_message_and_tells_the_team(app, owner, sales, manager):
    await sales.say("拜訪大同五金行，王總要報價，明天下午三點回電")
    await owner.say("/team")
    await owner.press("🗑 陳小姐")
    assert "Remove <b>陳小姐</b>" in owner.text and "(1)" in owner.text
    confirm = owner.last[-1]
    assert member(app, "陳小姐").active  # choosing changed nothing
    await owner.press("Yes, remove 陳小姐", confirm)
    assert "removed from the team" in owner.text and "/handover" in owner.text
    removed = member(app, "陳小姐")
    assert not removed.active and removed.removed_at is not None and removed.removed_by == member(app, "Amy Lin").id
    await owner.press("Yes, remove 陳小姐", confirm, message_id="101")
    assert "no longer on the team" in owner.text

    await app.member_messages.drain()
    told = sent_to(app, manager)
    assert told and "Amy Lin" in told[-1].text and "陳小姐" in told[-1].text and "/handover" in told[-1].text
    assert "1" in told[-1].text and "交接" in told[-1].text  # zh-Hans manager, in their language

    notes = count(app, Interaction)
    for text in ("大同五金行 王總又來電，下週一回覆", "/todo", "/c 大同五金行", "/team"):
        await sales.say(text)
        assert sales.text == "你已不再是「Amy Lin's team」的成員。如果需要回來，請向團隊擁有者索取邀請碼。", text
    await press_payload(sales, "n:un:1")
    assert "不再是" in sales.text and "大同五金行" not in sales.text
    assert count(app, Interaction) == notes  # nothing stored

    await owner.say("/team")
    assert "陳小姐" not in owner.text.split("Removed")[0]
    assert "customers waiting for a handover: 1" in owner.text.split("Removed")[1]
    with unit_of_work(app.engine) as uow:
        event = uow.session.exec(select(AuditEvent).where(AuditEvent.action == "remove")).one()
    assert event.entity == "member" and event.entity_id == removed.id and event.after["active"] is False


async def test_a_removed_member_without_customers_is_not_listed_and_is_told_in_english(app, owner, bob):
    await owner.say("/team")
    await owner.press("🗑 Bob Wu")
    await owner.press("Yes, remove Bob Wu")
    assert owner.text == "✅ Bob Wu was removed from the team."
    await owner.say("/members")
    assert "Bob Wu" not in owner.text and "Removed" not in owner.text
    await bob.say("hello")
    assert bob.text == "You are no longer a member of Amy Lin's team. Ask its owner for an invite if you should be back."


async def test_the_last_owner_stays_and_an_owner_may_make_another_owner(app, owner, manager):
    owner_id, manager_id = member(app, "Amy Lin").id, member(app, "林经理").id
    for payload in (f"tm:ask:{owner_id}:down", f"tm:ask:{owner_id}:rm"):
        await press_payload(owner, payload)
        assert "only owner" in owner.text
    await press_payload(owner, f"tm:ok:{owner_id}:o:m")
    assert "only owner" in owner.text and member(app, "Amy Lin").role == "owner"

    await owner.say("/team")
    await owner.press(f"tm:ask:{manager_id}:up")
    assert "Make <b>林经理</b> an owner?" in owner.text
    await owner.press("Yes, make 林经理 owner")
    assert member(app, "林经理").role == "owner"
    await press_payload(manager, f"tm:ask:{owner_id}:down")  # now the new owner may demote the first one
    await manager.press("是，让 Amy Lin 成为主管")
    assert member(app, "Amy Lin").role == "manager"


async def test_forged_and_stale_payloads_change_nothing(app, owner, sales, manager):
    sales_id, owner_id, manager_id = member(app, "陳小姐").id, member(app, "Amy Lin").id, member(app, "林经理").id
    with unit_of_work(app.engine) as uow:  # another team, with a member
        other = Team(name="Other Co")
        uow.session.add(other)
        uow.session.flush()
        stranger = Member(team_id=other.id, name="Zed", role="sales")
        uow.session.add(stranger)
        uow.session.flush()
        stranger_id = stranger.id
    audits = count(app, AuditEvent)
    for payload in (f"tm:ok:{stranger_id}:s:x", f"tm:ask:{stranger_id}:rm", f"tm:ok:{stranger_id}:s:m"):
        await press_payload(owner, payload)
        assert "isn't on your team" in owner.text and "Zed" not in owner.text
    for payload in ("tm:ok:abc:s:x", f"tm:ok:{sales_id}:s:q", f"tm:ok:{sales_id}", "tm:zz", f"tm:ask:{sales_id}:sideways",
                    f"tm:ok:-{sales_id}:s:x", f"tm:ok:{sales_id}:s:x:1"):
        await press_payload(owner, payload)
        assert owner.text, payload
        assert member(app, "陳小姐").active, payload
    # a salesperson forging the owner's buttons; a manager forging an owner-only change
    await press_payload(sales, f"tm:ok:{owner_id}:o:x")
    assert "無法" in sales.text
    await press_payload(manager, f"tm:ok:{owner_id}:o:m")
    await press_payload(manager, f"tm:ok:{manager_id}:m:o")
    assert "无法" in manager.text
    assert member(app, "Amy Lin").role == "owner" and member(app, "林经理").role == "manager"
    # a confirmation drawn before someone else changed the member
    await press_payload(owner, f"tm:ok:{sales_id}:m:o")
    assert "changed meanwhile" in owner.text and member(app, "陳小姐").role == "sales"
    assert count(app, AuditEvent) == audits
    with unit_of_work(app.engine) as uow:
        assert uow.session.get(Member, stranger_id).active


async def test_a_removed_member_comes_back_with_a_new_invite(app, owner, bob):
    await owner.say("/team")
    await owner.press("🗑 Bob Wu")
    await owner.press("Yes, remove Bob Wu")
    await bob.say("/start")  # no code: still refused
    assert "no longer a member" in bob.text
    code = (await owner.say("/invite"))[0].text.split("<code>")[1].split("</code>")[0]
    await bob.say(f"/start {code}")
    assert "no longer a member" not in bob.text
    assert member(app, "Bob Wu").active
    await bob.say("/team")
    assert "Bob Wu" in bob.text and "(you)" in bob.text
