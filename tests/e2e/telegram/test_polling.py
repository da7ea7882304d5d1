"""Every Telegram flow through the real python-telegram-bot over HTTP, asserting the exact requests."""

from __future__ import annotations

from sqlmodel import func, select

from core.db import session_scope
from core.models import ChatIdentity, Contact, ConversationMessage, Customer, Interaction, Member
from tests.fakes.telegram_api import Fault, callback, message, user


def count(app, model) -> int:
    with session_scope(app.engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


async def start_owner(fake) -> None:
    fake.inject(message("/start"))
    await fake.wait_for("sendMessage")


async def test_menu_is_set_in_each_language_and_polling_never_drops_pending(fake, running):
    calls = await fake.wait_for("setMyCommands", 3)
    assert all(c.body["scope"] == {"type": "default"} for c in calls)
    menus = {c.body.get("language_code"): {item["command"]: item["description"] for item in c.body["commands"]}
             for c in calls}
    assert set(menus) == {None, "en", "zh"} and menus[None] == menus["en"]
    assert set(menus[None]) >= {"start", "help", "log", "c", "find", "todo", "done", "new", "lang"}
    assert menus[None]["c"] == "Customer card" and menus["zh"]["c"] == "客戶資料卡"
    await fake.wait_for("getUpdates")
    drops = [c.body.get("drop_pending_updates") for c in fake.sent("deleteWebhook")]
    assert drops and all(d in (None, "False", "false", False) for d in drops)


async def test_onboarding_with_invite_code_deep_link_and_a_refused_stranger(fake, running):
    app, _ = running
    await start_owner(fake)
    first = fake.sent("sendMessage")[-1].body
    assert first["chat_id"] == "42" and first["parse_mode"] == "HTML" and "You created the team" in first["text"]
    fake.inject(message("/invite"))
    reply = (await fake.wait_for("sendMessage", 2))[-1].body["text"]
    code = reply.split("<code>")[1].split("</code>")[0]
    fake.inject(message(f"/start {code}", chat_id=43, sender=user(43, "小姐", "陳", "zh-hant")))
    joined = (await fake.wait_for("sendMessage", 3))[-1].body
    assert joined["chat_id"] == "43" and "已加入" in joined["text"]
    fake.inject(message("/start", chat_id=44, sender=user(44, "Zed", None)))
    refused = (await fake.wait_for("sendMessage", 4))[-1].body
    assert refused["chat_id"] == "44" and "invite code" in refused["text"]
    fake.inject(message("Visited Acme, wants quote", chat_id=44, sender=user(44, "Zed", None)))
    await fake.wait_for("sendMessage", 5)
    assert count(app, Member) == 2 and count(app, ChatIdentity) == 2 and count(app, Interaction) == 0


async def test_note_confirmation_buttons_edit_in_place_and_answer_every_callback(fake, running):
    app, _ = running
    await start_owner(fake)
    fake.inject(message("Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday"))
    card = (await fake.wait_for("sendMessage", 2))[-1]
    keyboard = card.body["reply_markup"]["inline_keyboard"]
    payloads = [b["callback_data"] for row in keyboard for b in row]
    assert [b["text"] for row in keyboard for b in row] == ["👤 Change customer", "📅 Change date", "✏️ Edit",
                                                          "🚫 No follow-up", "↩️ Undo",
                                                          # the quote proposes a deal (issue 15)
                                                          "📈 Proposal & quote ✅", "Change stage", "Not a deal"]
    assert all(len(p.encode()) <= 64 for p in payloads)
    assert "<b>Acme</b>" in card.body["text"] and "Mr. Lee" in card.body["text"]
    fake.inject(callback(payloads[1], message_id=5001))
    edit = (await fake.wait_for("editMessageText"))[-1].body
    assert edit["message_id"] == "5001" and "Tomorrow 09:00" in str(edit["reply_markup"])
    await fake.wait_for("answerCallbackQuery")
    undo = payloads[[b["text"] for row in keyboard for b in row].index("↩️ Undo")]
    fake.inject(callback(undo, message_id=5001))
    fake.inject(callback(undo, message_id=5001))
    await fake.wait_for("answerCallbackQuery", 3)
    edits = await fake.wait_for("editMessageText", 3)
    assert "Undone" in edits[1].body["text"] and "already undone" in edits[2].body["text"]
    with session_scope(app.engine) as session:
        assert session.exec(select(Interaction)).one().deleted_at is not None


async def test_forwarded_burst_becomes_one_conversation_with_senders_and_times(fake, running):
    app, _ = running
    await start_owner(fake)
    origin = {"type": "user", "date": 1763430000, "sender_user": {"id": 9001, "is_bot": False, "first_name": "Lee"}}
    for text in ("Can you send the price list?", "Also 200 units by Dec 3", "Thanks!"):
        fake.inject(message(text, forward_origin=origin))
    summary = (await fake.wait_for("sendMessage", 2, timeout=10))[-1].body["text"]
    assert "3 forwarded" in summary
    with session_scope(app.engine) as session:
        records = session.exec(select(Interaction)).all()
        assert len(records) == 1 and records[0].kind == "forwarded"
        senders = session.exec(select(ConversationMessage.sender)).all()
        assert senders == ["Lee", "Lee", "Lee"]


async def test_hidden_user_chat_and_channel_origins(fake, running):
    app, _ = running
    await start_owner(fake)
    origins = [{"type": "hidden_user", "date": 1763430000, "sender_user_name": "陳小姐"},
               {"type": "chat", "date": 1763430000, "sender_chat": {"id": -100, "type": "group", "title": "大同五金"}},
               {"type": "channel", "date": 1763430000, "message_id": 3,
                "chat": {"id": -200, "type": "channel", "title": "Acme news"}}]
    for sent, origin in enumerate(origins, start=2):
        fake.inject(message("hello", forward_origin=origin))
        await fake.wait_for("sendMessage", sent, timeout=10)  # this burst's summary: the next is a new burst
    with session_scope(app.engine) as session:
        assert session.exec(select(ConversationMessage.sender)).all() == ["陳小姐", "大同五金", "Acme news"]


async def test_shared_contact_csv_document_and_unknown_file(fake, running):
    app, _ = running
    await start_owner(fake)
    fake.inject(message("/new 大同五金"))
    await fake.wait_for("sendMessage", 2)
    fake.inject(message(None, contact={"phone_number": "0912 345 678", "first_name": "陳小姐", "user_id": 9002}))
    ask = (await fake.wait_for("sendMessage", 3))[-1].body
    customer_button = ask["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    fake.inject(callback(customer_button, message_id=int(ask.get("message_id", 1) or 1)))
    await fake.wait_for("editMessageText")
    fake.add_file("csv1", "客戶名稱,電話\n永豐電子,02-1234-5678\n".encode())
    fake.inject(message(None, document={"file_id": "csv1", "file_unique_id": "u1", "file_name": "customers.csv",
                                        "mime_type": "text/csv", "file_size": 40}))
    imported = (await fake.wait_for("sendMessage", 4))[-1].body["text"]
    assert "1 new" in imported
    fake.add_file("pdf1", b"%PDF-1.4 binary")
    fake.inject(message(None, document={"file_id": "pdf1", "file_unique_id": "u2", "file_name": "brochure.pdf",
                                        "mime_type": "application/pdf", "file_size": 15}))
    declined = (await fake.wait_for("sendMessage", 5))[-1].body["text"]
    assert "can't read brochure.pdf" in declined
    with session_scope(app.engine) as session:
        contact = session.exec(select(Contact)).one()
        assert contact.phones == ["+886912345678"] and contact.handles == {"telegram": "9002"}
        assert {c.name for c in session.exec(select(Customer))} == {"大同五金", "永豐電子"}
    assert any(c.method == "getFile" for c in fake.calls)


async def test_group_answers_mentions_and_commands_only(fake, running):
    app, _ = running
    await start_owner(fake)
    group = {"chat_id": -500, "chat_type": "group", "sender": user(42)}
    fake.inject(message("Visited Acme yesterday, all good", **group))
    fake.inject(message("@chatcrm_test_bot Visited Globex, wants a quote Friday", **group,
                        entities=[{"type": "mention", "offset": 0, "length": 17}]))
    card, pointer = (await fake.wait_for("sendMessage", 3))[-2:]
    assert card.body["chat_id"] == "42" and "Globex" in card.body["text"]  # the card goes privately
    assert pointer.body["chat_id"] == "-500" and "Globex" not in pointer.body["text"]
    fake.inject(message("/help", **group))  # a sentinel: the group's updates are handled in order
    sentinel = (await fake.wait_for("sendMessage", 4))[-1].body
    assert sentinel["chat_id"] == "-500" and "/todo" in sentinel["text"]  # help is not private
    assert count(app, Interaction) == 1
    assert len(fake.sent("sendMessage")) == 4  # the message without a mention got no answer


async def test_redelivered_update_does_not_duplicate(fake, running):
    app, _ = running
    await start_owner(fake)
    update = fake.inject(message("Called Acme about the invoice"))
    await fake.wait_for("sendMessage", 2)
    fake.updates.append(dict(update))  # Telegram delivers the same update again
    fake.updates.append(dict(update, update_id=update["update_id"] + 1000))  # …even under a new update id
    fake.inject({**message("/help"), "update_id": update["update_id"] + 1001})  # a sentinel after them, same chat
    sentinel = (await fake.wait_for("sendMessage", 3))[-1].body
    assert "/todo" in sentinel["text"]  # the help answer, the first reply since the note's
    assert count(app, Interaction) == 1
    assert len(fake.sent("sendMessage")) == 3


async def test_survives_429_500_403_and_slow_responses_without_losing_input(fake, running):
    app, _ = running
    await start_owner(fake)
    fake.fail("sendMessage", Fault(429, "Too Many Requests: retry after 1", retry_after=1))
    fake.inject(message("Visited Acme, wants a quote Friday"))
    await fake.wait_for("sendMessage", 3, timeout=15)  # the 429, then the retry that succeeded
    assert "Acme" in fake.sent("sendMessage")[-1].body["text"]
    fake.fail("sendMessage", Fault(500, "Internal Server Error"))
    fake.inject(message("Visited Globex, wants a quote Friday"))
    fake.fail("sendMessage", Fault(403, "Forbidden: bot was blocked by the user"))
    fake.inject(message("Visited Initech, wants a quote Friday"))
    fake.fail("sendMessage", Fault(200, "", delay=1.5))
    fake.inject(message("Visited Hooli, wants a quote Friday"))
    await fake.wait_for("sendMessage", 6, timeout=20)
    fake.inject(message("/todo"))  # handled after every note before it in this chat
    todo = (await fake.wait_for("sendMessage", 7, timeout=10))[-1].body["text"]
    assert "Hooli" in todo
    with session_scope(app.engine) as session:
        names = {c.name for c in session.exec(select(Customer))}
    assert names == {"Acme", "Globex", "Initech", "Hooli"}  # every note was saved whatever the replies did


async def test_long_replies_are_split_and_keep_the_keyboard_on_the_last_part(fake, running):
    _, adapter = running
    from core.chat import Button, ChatRef, Reply

    text = "\n".join(f"<b>line {i}</b> &amp; " + "x" * 80 for i in range(100))
    await adapter.send(ChatRef("telegram", "42"), Reply(text, buttons=((Button("OK", "n:bk:1"),),)))
    parts = fake.sent("sendMessage")
    assert len(parts) >= 2 and all(len(p.body["text"]) <= 4096 for p in parts)
    assert "reply_markup" not in parts[0].body and "reply_markup" in parts[-1].body
    assert all(p.body["text"].count("<b>") == p.body["text"].count("</b>") for p in parts)
