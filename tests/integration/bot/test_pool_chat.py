"""The customer pool (公海) in chat on both databases: off by default, turned on by an owner, the owner of an idle
customer warned then told of its return (through the real periodic job), /pool with Claim and Assign, a note
about a pool customer held until it is claimed, the card's pool line, two claims at once, forged payloads."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot import periodic
from core.chat import Button, Reply
from core.models import Customer, Interaction, Team
from core.uow import unit_of_work
from tests.conversation import Chat


def sent_to(app, chat: Chat) -> list[Reply]:
    return [reply for to, reply in app.messengers["test"].sent if to.chat_id == f"dm-{chat.user_id}"]


def payloads(reply: Reply) -> list[str]:
    return [button.payload for row in reply.buttons for button in row]


async def run_pool_job(app) -> int:
    [job] = [job for job in periodic.jobs(app) if job.name == "customer pool"]
    done = await job.run(app.clock.now())
    await app.member_messages.drain()
    return done


def customer_id(app, name: str) -> int:
    with unit_of_work(app.engine) as uow:
        return uow.session.exec(select(Customer.id).where(Customer.name == name)).one()


async def pooled(app, owner: Chat, sales: Chat) -> int:
    """大同五金行, 陳小姐's customer, returned to the pool after 60 quiet days (warned 3 days before)."""
    await sales.say("拜訪大同五金行，王總要報價 200 台")
    await owner.say("/pool on 60")
    app.clock.advance(days=57)
    assert await run_pool_job(app) == 1
    app.clock.advance(days=3, minutes=1)
    assert await run_pool_job(app) == 1
    return customer_id(app, "大同五金行")


async def test_off_by_default_and_only_owners_and_managers_change_it(app, owner, sales):
    await sales.say("/公海")
    assert "未開啟" in sales.text and "認領" not in sales.text
    await sales.say("/pool on 30")
    assert "只有擁有者和主管" in sales.text
    await owner.say("/pool on ３０")
    assert "pool is on" in owner.text and "30 days" in owner.text and "3 days before" in owner.text
    await owner.say("/pool limit 2")
    assert "Claims per person in 7 days: 2" in owner.text
    await owner.say("/pool sometimes")
    assert "couldn't use that" in owner.text
    await owner.say("/pool off")
    assert "pool is off" in owner.text
    with unit_of_work(app.engine) as uow:
        team = uow.session.exec(select(Team)).one()
        assert (team.pool_enabled, team.pool_days, team.pool_claim_limit) == (False, 30, 2)


async def test_the_owner_is_warned_then_told_and_the_team_sees_the_customer_in_the_pool(app, owner, sales, bob):
    await sales.say("拜訪大同五金行，王總要報價 200 台")
    await owner.say("/pool on 60")
    app.clock.advance(days=56)
    assert await run_pool_job(app) == 0
    app.clock.advance(days=1)  # due back in 3 days: warned now
    assert await run_pool_job(app) == 1
    [warning] = sent_to(app, sales)
    assert "大同五金行" in warning.text and "公海" in warning.text and "60 天" in warning.text
    assert await run_pool_job(app) == 0 and len(sent_to(app, sales)) == 1  # once
    app.clock.advance(days=3, minutes=1)
    assert await run_pool_job(app) == 1
    told = sent_to(app, sales)[-1]
    assert "已回到團隊公海" in told.text and "大同五金行" in told.text and "/pool" in told.text

    await bob.say("/pool")
    assert "1 customer in the pool" in bob.text and "大同五金行" in bob.text and "was 陳小姐's" in bob.text
    assert "0 days in the pool" in bob.text or "day in the pool" in bob.text
    cid = customer_id(app, "大同五金行")
    assert payloads(bob.last[-1]) == [f"pl:claim:{cid}"]  # a salesperson claims; no Assign
    await owner.say("/pool")
    assert payloads(owner.last[-1]) == [f"pl:claim:{cid}", f"pl:asg:{cid}"]

    await bob.say("/c 大同五金行")
    assert "🏢" in bob.text and "In the team pool since" in bob.text and "read only" in bob.text
    assert payloads(bob.last[-1]) == [f"pl:claim:{cid}"]  # no Important / Deal / manage buttons until claimed


async def test_a_claim_makes_it_yours_and_the_second_claim_is_told_politely(app, owner, sales, bob):
    cid = await pooled(app, owner, sales)
    await bob.say("/pool")
    listing = bob.last[-1]
    await sales.say("/pool")
    stale = sales.last[-1]
    await bob.press("Claim", listing)
    assert "is yours now" in bob.text
    await sales.press("認領", stale)
    assert "晚了一步" in sales.text and "Bob Wu" in sales.text
    await bob.press("Claim", listing)
    assert "yours already" in bob.text
    await bob.say("/c 大同五金行")
    assert "claimed by Bob Wu" in bob.text and "returned on" in bob.text
    assert f"pl:claim:{cid}" not in payloads(bob.last[-1])


async def test_the_claim_limit_is_said_politely(app, owner, sales, bob):
    cid = await pooled(app, owner, sales)
    await owner.say("/pool limit 0")
    await bob.say("/pool")
    await bob.press("Claim")
    assert "owners and managers assign" in bob.text
    await owner.say("/pool limit 1")
    await sales.say("/new 光華電子")
    with unit_of_work(app.engine) as uow:  # a second pool customer, claimed by Bob earlier today
        other = uow.session.exec(select(Customer).where(Customer.name == "光華電子")).one()
        other.owner_id, other.pooled_at = None, app.clock.now()
        uow.session.add(other)
    listing = (await bob.say("/pool"))[-1]
    await bob.press("光華電子", listing)
    assert "is yours now" in bob.text
    await bob.press(f"pl:claim:{cid}", listing)
    assert "You have claimed 1 customer from the pool in the last 7 days" in bob.text
    assert customer_id(app, "大同五金行") == cid


async def test_a_manager_assigns_and_the_member_hears_of_it(app, owner, sales, bob):
    cid = await pooled(app, owner, sales)
    await owner.say("/pool")
    await owner.press("Assign")
    assert "Assign <b>大同五金行</b> to whom?" in owner.text
    await owner.press("Bob Wu")
    assert "now belongs to Bob Wu" in owner.text
    await app.member_messages.drain()
    assert "Amy Lin gave you <b>大同五金行</b>" in sent_to(app, bob)[-1].text
    await forge(bob, f"pl:asg:{cid}")  # a salesperson's forged Assign
    assert "Only owners and managers" in bob.text


async def test_a_note_about_a_pool_customer_is_held_until_it_is_claimed(app, owner, sales, bob):
    await pooled(app, owner, sales)
    await bob.say("Called 大同五金行, they want a quote for 50 units")
    assert "is in the team's customer pool" in bob.text and "not filed" in bob.text
    card = bob.last[-1]
    with unit_of_work(app.engine) as uow:
        note = uow.session.exec(select(Interaction).where(Interaction.text.startswith("Called 大同五金行"))).one()
        assert note.customer_id is None
    await bob.press("Claim 大同五金行 and file", card)
    assert "is yours now" in bob.text and "大同五金行" in bob.last[0].text
    with unit_of_work(app.engine) as uow:
        filed = uow.session.get(Interaction, note.id)
        customer = uow.session.get(Customer, filed.customer_id)
        assert customer.name == "大同五金行" and customer.owner_id == filed.member_id


async def test_forged_payloads_find_nothing(app, owner, sales, bob):
    cid = await pooled(app, owner, sales)
    with unit_of_work(app.engine) as uow:  # another team's customer in its own pool
        rival = Team(name="Rival", pool_enabled=True)
        uow.session.add(rival)
        uow.session.flush()
        theirs = Customer(team_id=rival.id, name="Rival Co", name_key="rival co", pooled_at=app.clock.now())
        uow.session.add(theirs)
        uow.session.flush()
        rival_customer = theirs.id
    for payload in (f"pl:claim:{rival_customer}", f"pl:claim:{cid}:999999", f"pl:to:{cid}:999"):
        await forge(owner, payload)
        assert "can't find that" in owner.text, payload
    for payload in ("pl:claim:x", "pl:claim", "pl:boom:1", "pl:page:1:2:3"):
        await forge(owner, payload)
        assert "button" in owner.text.lower() or "old" in owner.text.lower(), payload
    with unit_of_work(app.engine) as uow:
        assert uow.session.get(Customer, rival_customer).owner_id is None
        assert uow.session.get(Customer, cid).owner_id is None


async def forge(chat: Chat, payload: str) -> list[Reply]:
    """Press a button the bot never drew (forged callback data)."""
    return await chat.press(payload, Reply("", buttons=((Button(payload, payload),),)))


async def test_paging_the_pool(app, owner, sales):
    await owner.say("/pool on 60")
    with unit_of_work(app.engine) as uow:
        team = uow.session.exec(select(Team)).one()
        for i in range(11):
            uow.session.add(Customer(team_id=team.id, name=f"Pool {i:02}", name_key=f"pool {i:02}",
                                     pooled_at=app.clock.now() - timedelta(days=i)))
    await sales.say("/pool")
    assert "Pool 00" in sales.text and "Pool 07" in sales.text and "Pool 08" not in sales.text
    assert "第 1 頁，共 2 頁" in sales.text
    await sales.press("下一頁")
    assert "Pool 08" in sales.text and "Pool 10" in sales.text and "Pool 00" not in sales.text
    assert sales.last[-1].edit
