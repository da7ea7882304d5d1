"""Nothing private in a Telegram group, through the real python-telegram-bot and the fake Bot API.

Lists, cards, settings and note confirmations asked for in a group go to the member's private chat with a
pointer in the group (or a deep link when they never opened one); a group card's buttons work only for
its member; replies refused with a 5xx are tried again under core.delivery's reply policy, and what is
still lost is handed to the app's undelivered handler.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from adapters.telegram import TelegramAdapter
from bot.bootstrap import build
from bot.platforms import command_menu
from core.db import session_scope
from core.models import Interaction
from tests.e2e.telegram.conftest import telegram_settings
from tests.fakes.telegram_api import DROP, Fault, callback, message, user

GROUP = -1001234
POINTER = "Amy Lin, I've answered you in our private chat."


@pytest.fixture
async def bot(fake, tmp_path, clock):
    """(app, lost): the bot on long polling; `lost` records what the adapter handed to `undelivered`."""
    settings = telegram_settings(fake, tmp_path)
    app = build(settings)
    lost: list[tuple[object, list]] = []

    async def undelivered(incoming, replies):
        lost.append((incoming, list(replies)))

    adapter = TelegramAdapter(settings, app.handle, commands=command_menu(), undelivered=undelivered)
    app.attach(adapter)
    await app.start(with_scheduler=False)
    await adapter.start()
    adapter.sleep = _no_wait
    fake.inject(message("/start"))  # Amy (42) founds the team in her private chat
    await fake.wait_for("sendMessage")
    yield app, lost
    await adapter.stop()
    await app.stop()
    app.engine.dispose()


async def _no_wait(seconds: float) -> None:
    """The reply policy's waits, not slept in tests (the requests still go out one after the other)."""


def in_group(text: str, sender: dict | None = None, **extra) -> dict:
    return message(text, chat_id=GROUP, chat_type="supergroup", sender=sender or user(42), **extra)


async def test_a_private_command_in_a_group_is_answered_privately_with_a_pointer(fake, bot):
    fake.inject(message("Visited Acme, Mr. Lee wants a quote, follow up Friday"))
    await fake.wait_for("sendMessage", 2)
    update = fake.inject(in_group("/todo@chatcrm_test_bot"))
    answer, pointer = (await fake.wait_for("sendMessage", 4))[-2:]
    assert answer.body["chat_id"] == "42" and "Acme" in answer.body["text"]
    assert pointer.body == {"chat_id": str(GROUP), "text": POINTER, "parse_mode": "HTML",
                            "link_preview_options": {"is_disabled": True},
                            "reply_parameters": {"message_id": update["message"]["message_id"],
                                                 "allow_sending_without_reply": True}}
    assert not [c for c in fake.sent("sendMessage") if c.body["chat_id"] == str(GROUP) and "Acme" in c.body["text"]]


async def test_a_note_logged_in_a_group_is_confirmed_privately(fake, bot):
    app, _ = bot
    fake.inject(in_group("@chatcrm_test_bot 拜訪大同五金,陳經理要報價,週五跟進",
                         entities=[{"type": "mention", "offset": 0, "length": 17}]))
    card, pointer = (await fake.wait_for("sendMessage", 3))[-2:]
    assert card.body["chat_id"] == "42" and "大同五金" in card.body["text"] and card.body["reply_markup"]
    assert pointer.body["chat_id"] == str(GROUP) and pointer.body["text"] == POINTER
    with session_scope(app.engine) as session:
        assert session.exec(select(Interaction)).one().source_chat == str(GROUP)


async def test_a_stranger_who_never_opened_a_private_chat_gets_the_deep_link_in_the_group(fake, bot):
    fake.never_started.add(77)
    fake.inject(in_group("/c@chatcrm_test_bot Acme", sender=user(77, "Zoe", "Wu")))
    refused, link = (await fake.wait_for("sendMessage", 3))[-2:]
    assert (refused.body["chat_id"], refused.status) == ("77", 403)  # the refusal was meant for her eyes only
    assert link.body["chat_id"] == str(GROUP)
    assert link.body["text"] == ("Zoe Wu, my answer is for you only, and you have not opened a chat with me yet. "
                                 "Open one here: https://t.me/chatcrm_test_bot?start")


async def test_a_chinese_name_is_written_family_name_first_in_the_group(fake, bot):
    fake.never_started.add(78)
    fake.inject(in_group("/c@chatcrm_test_bot 大同五金", sender=user(78, "志明", "林", language="zh-hant")))
    link = (await fake.wait_for("sendMessage", 3))[-1]
    assert link.body["chat_id"] == str(GROUP) and link.body["text"].startswith("林志明,")  # Telegram: 志明 林


async def test_a_group_card_answers_only_its_member(fake, bot):
    app, _ = bot
    fake.inject(message("Visited Acme, Mr. Lee wants a quote, follow up Friday"))
    card = (await fake.wait_for("sendMessage", 2))[-1].body
    undo = card["reply_markup"]["inline_keyboard"][-1][-1]["callback_data"]
    # an old card in the group, addressed to Amy (42); Ben (43) presses Undo on it
    fake.inject(callback(undo, message_id=9100, chat_id=GROUP, chat_type="supergroup", sender=user(43, "Ben", "Ho"),
                         addressee=user(42)))
    answer = (await fake.wait_for("answerCallbackQuery"))[-1].body
    assert answer["text"] == "Only the member this card is for can use its buttons."
    fake.inject(message("/help"))  # a sentinel in Amy's chat
    await fake.wait_for("sendMessage", 3)
    assert not fake.sent("editMessageText") and len(fake.sent("sendMessage")) == 3
    with session_scope(app.engine) as session:
        assert session.exec(select(Interaction)).one().deleted_at is None  # nothing changed


async def test_a_reply_refused_with_a_5xx_is_sent_again_once(fake, bot):
    _, lost = bot
    fake.fail("sendMessage", Fault(500, "Internal Server Error: try again"))
    fake.inject(message("Called Globex about the invoice"))
    refused, delivered = (await fake.wait_for("sendMessage", 3))[-2:]
    assert (refused.status, delivered.status) == (500, 200)
    assert refused.body == delivered.body and "Globex" in delivered.body["text"]
    fake.inject(message("/help"))  # a sentinel
    await fake.wait_for("sendMessage", 4)
    assert len(fake.sent("sendMessage")) == 4 and lost == []


async def test_a_reply_whose_answer_never_came_is_not_resent_and_is_reported_undelivered(fake, bot):
    _, lost = bot
    fake.fail("sendMessage", Fault(DROP, "connection dropped after the request arrived"))
    update = fake.inject(message("Called Initech about the invoice"))
    await fake.wait_for("sendMessage", 2)
    fake.inject(message("/help"))  # a sentinel: handled after the note's replies gave up
    await fake.wait_for("sendMessage", 3)
    notes = [c for c in fake.sent("sendMessage") if "Initech" in c.body["text"]]
    assert len(notes) == 1 and notes[0].status == DROP  # it may have arrived: never sent twice
    [(incoming, replies)] = lost
    assert incoming.env.message_id == str(update["message"]["message_id"])
    assert "Initech" in replies[0].text
