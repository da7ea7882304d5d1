"""The audit guarantee (issue 16): every transaction the app commits with a domain write carries an audit event.

`tests.audit_guard` watches every statement at the cursor; here it is shown to catch an unaudited write (and to
let bookkeeping, rolled-back savepoints and statements that changed no row pass), then a broad conversation
drives every kind of write the chat makes — notes, buttons, forwards, a chat import, a customer list, merge /
rename / delete, undo, deals, payments, access requests, settings, history — and the guard must have seen them
all audited."""

from __future__ import annotations

import asyncio

from sqlmodel import func, select

from core.chat import ForwardOrigin
from core.db import session_scope
from core.models import AuditEvent, Customer, FollowUp, Interaction
from core.services import audit, chat_import, customer_pool
from core.services.actor import Actor
from core.uow import UnitOfWork
from core.usecases import chat_state
from tests.audit_guard import AuditGuard, is_exempt, parse
from tests.audit_guard import audit_guard as audit_guard  # the fixture
from tests.chat_helpers_lists import share
from tests.customer_list_samples import TAIPEI_HEADER, TAIPEI_ROWS, xlsx

CHAT = ("2026/11/16 下午3:05 - 陳小姐: 王先生您好,A100 一百件的報價收到了\n"
        "2026/11/16 下午3:10 - 王大明: 好的,我們下週五前交貨\n"
        "2026/11/17 上午9:05 - 陳小姐: 謝謝!\n")


def test_statements_are_read_for_their_verb_table_and_columns():
    assert parse('INSERT INTO auditevent (team_id) VALUES (?)') == ("insert", "auditevent", ())
    assert parse('INSERT OR IGNORE INTO "contact" (a) VALUES (?)') == ("insert", "contact", ())
    assert parse("UPDATE followup SET claimed_by=?, claimed_until=?, attempts=(followup.attempts + ?) "
                 "WHERE followup.id = ?") == ("update", "followup", ("claimed_by", "claimed_until", "attempts"))
    assert parse("UPDATE customer SET name=%(name)s, updated_at=%(updated_at)s WHERE customer.id = %(id_1)s") \
        == ("update", "customer", ("name", "updated_at"))
    assert parse("DELETE FROM conversationmessage WHERE x IN (SELECT 1)") == ("delete", "conversationmessage", ())
    assert parse("WITH due AS (SELECT id FROM followup FOR UPDATE SKIP LOCKED) UPDATE followup SET "
                 "status=? FROM due WHERE followup.id = due.id") == ("update", "followup", ("status",))
    assert parse("SELECT * FROM followup FOR UPDATE SKIP LOCKED") is None
    assert is_exempt("update", "followup", ("claimed_by", "claimed_until", "updated_at"))
    assert not is_exempt("update", "followup", ("claimed_by", "due_at"))
    assert is_exempt("insert", "processedupdate", ()) and not is_exempt("insert", "interaction", ())


async def test_the_guard_catches_a_write_without_an_audit_event_and_passes_bookkeeping(app, engine, owner,
                                                                                   audit_guard):
    await owner.say("Visited Acme, Mr. Lee wants a quote")
    await share(owner, "WhatsApp Chat with 陳小姐.txt", CHAT.encode())
    with session_scope(engine) as session:
        record = session.exec(select(Interaction).where(Interaction.kind == "message")).one()
        member_id, team_id = record.member_id, record.team_id
    actor = Actor(member_id, team_id, "owner", "Asia/Taipei", "en", "Amy Lin")
    guard = AuditGuard()
    guard.install()
    try:
        with session_scope(engine) as session:  # a service writing on its own: no audit event
            chat_import.set_member_side(session, actor, record.id or 0, "陳小姐")
        assert len(guard.violations) == 1
        assert "update conversationmessage (from_member)" in str(guard.violations[0])
        assert "core/services/chat_import.py" in str(guard.violations[0])

        with session_scope(engine) as session:  # the same write with its audit event
            chat_import.set_member_side(session, actor, record.id or 0, "王大明")
            audit.record(session, team_id=team_id, actor_id=member_id, action="import.me", entity=record)
        with session_scope(engine) as session, session.begin_nested() as nested:  # rolled back with its savepoint
            chat_import.set_member_side(session, actor, record.id or 0, "陳小姐")
            session.flush()
            nested.rollback()
        with session_scope(engine) as session:  # bookkeeping: what the bot waits for in a chat
            chat_state.await_answer(UnitOfWork(session), actor, "test:dm-owner", record.occurred_at, "k", {})
        with session_scope(engine) as session:  # a guarded UPDATE that changed no row (not in the pool) wrote nothing
            acme = session.exec(select(Customer).where(Customer.name == "Acme")).one()
            assert not customer_pool.give(session, acme, member_id, record.occurred_at, actor_id=member_id,
                                          claimed=True)
        assert len(guard.violations) == 1
        assert guard.transactions >= 5
    finally:
        guard.remove()
        audit_guard.violations.clear()  # the deliberate write above is this test's, not the app's


async def test_a_broad_conversation_writes_nothing_unaudited(app, engine, clock, owner, sales, audit_guard):
    async def settled() -> None:
        others = asyncio.all_tasks() - {asyncio.current_task()}
        if others:
            await asyncio.wait(others, timeout=10)

    # notes, the note card's buttons, undo
    await owner.say("Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday")
    card = owner.last[0]
    await owner.press("Change date", card)
    await owner.press("Tomorrow")
    await owner.say("Called Initech, Ms. Wang wants samples, follow up Monday")
    second = owner.last[0]
    await owner.press("Change customer", second)
    await owner.press("Acme")
    await owner.press("Undo", second)
    await owner.say("/todo")
    await owner.say("/done 1")
    # forwards (a burst of two) and a chat import answered with its buttons
    origin = ForwardOrigin("user", "Mr. Lee", "5005", clock.now())
    await owner.forward("Can you send the price list?", origin)
    await owner.forward("And delivery by Dec 3", origin)
    await settled()
    await owner.say("拜訪大同五金陳小姐,談 A100")
    summary = (await share(owner, "WhatsApp Chat with 陳小姐.txt", CHAT.encode()))[0]
    answered = (await owner.press("王大明", summary))[0]
    await owner.press("➕", answered)
    # a customer list, twice (created, then updated)
    await share(owner, "客戶名單.xlsx", xlsx(TAIPEI_HEADER, TAIPEI_ROWS))
    await share(owner, "客戶名單.xlsx", xlsx(TAIPEI_HEADER, TAIPEI_ROWS))
    # deals and payments
    await owner.say("/deal Acme 200 units US$12,000")
    await owner.press("Proposal & quote")
    await sales.say("新光設計 尾款 3 萬 還沒收到,週五再催")
    pay_card = (await sales.say("/c 新光設計"))[0]
    await sales.press("已收到", pay_card)
    # a colleague's customer: access asked and granted
    await sales.say("拜訪 Acme 李先生,要樣品")
    await owner.say("/important Acme 14")
    # merge, rename, delete from the card
    await owner.say("/new Umbrella")
    await owner.say("/c Umbrella")
    await owner.press("⋯")
    await owner.press("✏️")
    await owner.say("Umbrella Corporation")
    await owner.say("/new Hooli")
    await owner.say("/c Hooli")
    await owner.press("⋯")
    await owner.press("🔗")
    await owner.press("Umbrella Corporation")
    await owner.press("🔗")
    await owner.say("/new Globex")
    await owner.say("/c Globex")
    await owner.press("⋯")
    await owner.press("🗑")
    await owner.press("🗑")
    # settings
    await owner.say("/tz Asia/Tokyo")
    await owner.say("/hours mon-thu")
    await owner.say("/digest 07:45")
    await sales.say("/lang zh-Hans")
    # history
    await owner.say("/history Acme")
    await owner.say("/history 大同五金")

    with session_scope(engine) as session:
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()
        about = session.exec(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.customer_id.is_not(None))).one()  # type: ignore[union-attr]
        customers = session.exec(select(func.count()).select_from(Customer)).one()
        follow_ups = session.exec(select(func.count()).select_from(FollowUp)).one()
    assert events > 45 and about > 25 and customers >= 5 and follow_ups >= 3, (events, about, customers, follow_ups)
    assert audit_guard.transactions > 40  # the guard saw the conversation (its check runs at teardown)
