"""Telegram files attached to customers, invites with a deep link, team names and command menus per language,
clear refusals of unknown zones and unreadable settings — through python-telegram-bot and the fake Bot API."""

from __future__ import annotations

import hashlib

from sqlmodel import select

from core.db import session_scope
from core.models import CustomerFile, Team
from tests.fakes.telegram_api import message, user

ZHIMING = user(42, "志明", "林", "zh-hant")


def document(file_id: str, name: str, mime: str, data: bytes, caption: str | None = None, **extra) -> dict:
    body = {"document": {"file_id": file_id, "file_unique_id": f"{file_id}-u", "file_name": name,
                         "mime_type": mime, "file_size": len(data)}}
    if caption is not None:
        body["caption"] = caption
    return message(None, **body, **extra)


async def say(fake, text: str, n: int, **extra) -> dict:
    fake.inject(message(text, **extra))
    return (await fake.wait_for("sendMessage", n))[-1].body


async def test_a_captioned_pdf_is_attached_once_and_sent_back_by_files(fake, running):
    app, _ = running
    await say(fake, "/start", 1)
    await say(fake, "/new Acme Trading", 2)
    pdf = b"%PDF-1.4\n% quotation for Acme, 100 units\n"
    fake.add_file("pdf7", pdf)
    update = fake.inject(document("pdf7", "quote-2026-11.pdf", "application/pdf", pdf, caption="Acme Trading quote"))
    reply = (await fake.wait_for("sendMessage", 3))[-1].body["text"]
    assert reply == ("📎 quote-2026-11.pdf is attached to <b>Acme Trading</b> (1 file). "
                     "Get it back with /files Acme Trading.")
    fake.updates.append({**update, "update_id": update["update_id"] + 500})  # the same message redelivered
    listing = await say(fake, "/files acme trading", 4)
    assert listing["text"] == "📎 <b>Acme Trading</b> has 1 file:\n• quote-2026-11.pdf"
    sent = (await fake.wait_for("sendDocument"))[-1].body
    assert sent["chat_id"] == "42" and sent["document"] == {"filename": "quote-2026-11.pdf", "size": len(pdf)}
    assert sent["caption"] == "quote-2026-11.pdf"
    with session_scope(app.engine) as session:
        [row] = session.exec(select(CustomerFile)).all()
        assert (row.data, row.sha256, row.size, row.mime_type) == (pdf, hashlib.sha256(pdf).hexdigest(), len(pdf),
                                                                   "application/pdf")


async def test_a_photo_with_a_chinese_caption_is_attached_and_an_unknown_name_is_refused(fake, running):
    app, _ = running
    await say(fake, "/start", 1, sender=ZHIMING)
    await say(fake, "/new 大同五金", 2, sender=ZHIMING)
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 64
    fake.add_file("ph1", jpeg)
    fake.inject(message(None, sender=ZHIMING, caption="大同五金 展示架照片",
                        photo=[{"file_id": "ph0", "file_unique_id": "ph0u", "width": 90, "height": 90},
                               {"file_id": "ph1", "file_unique_id": "ph1u", "width": 1280, "height": 960,
                                "file_size": len(jpeg)}]))
    reply = (await fake.wait_for("sendMessage", 3))[-1].body["text"]
    assert reply.startswith("📎 photo-") and "已附加到 <b>大同五金</b>(共 1 個檔案)。用 /files 大同五金 取回。" in reply
    fake.add_file("pdf8", b"%PDF-1.4 x")
    fake.inject(document("pdf8", "報價單.pdf", "application/pdf", b"%PDF-1.4 x", caption="永豐電子", sender=ZHIMING))
    refused = (await fake.wait_for("sendMessage", 4))[-1].body["text"]
    assert refused.startswith("找不到名為「永豐電子」的客戶,檔案沒有附加。")
    fake.add_file("pdf9", b"%PDF-1.4 y")
    fake.inject(document("pdf9", "型錄.pdf", "application/pdf", b"%PDF-1.4 y", sender=ZHIMING))
    declined = (await fake.wait_for("sendMessage", 5))[-1].body["text"]
    assert "型錄.pdf" in declined and "附加" not in declined  # no caption: the existing clear reply
    with session_scope(app.engine) as session:
        [row] = session.exec(select(CustomerFile)).all()
        assert row.data == jpeg and row.file_name.startswith("photo-")


async def test_team_names_compose_per_language_and_invites_carry_the_deep_link(fake, running):
    app, _ = running
    founded = await say(fake, "/start", 1, sender=ZHIMING)
    assert "<b>林志明的團隊</b>" in founded["text"] and "林志明" in founded["text"].split("<b>")[0]
    invite = (await say(fake, "/invite", 2, sender=ZHIMING))["text"]
    code = invite.split("<code>")[1].split("</code>")[0]
    assert invite.endswith(f"或把這個連結傳給對方,打開就會帶入邀請碼:https://t.me/chatcrm_test_bot?start={code}")
    with session_scope(app.engine) as session:
        assert session.exec(select(Team.name)).one() == "林志明的團隊"


async def test_an_english_and_a_simplified_founder_name_their_teams_in_their_language(fake, tmp_path):
    from core.usecases.team import team_name

    assert team_name("Zhiming Lin", "en") == "Zhiming Lin's team"
    assert team_name("志明 林", "zh-Hans") == "林志明的团队"
    assert team_name("林志明", "zh-Hant") == "林志明的團隊"


async def test_each_members_menu_is_set_in_their_language_when_they_join_and_change_it(fake, running):
    await fake.wait_for("setMyCommands", 3)  # the default, "en" and "zh" menus
    await say(fake, "/start", 1)
    invite = (await say(fake, "/invite", 2))["text"]
    code = invite.split("<code>")[1].split("</code>")[0]
    await say(fake, f"/start {code}", 3, chat_id=43, sender=user(43, "建国", "王", "zh-hans"))
    await fake.wait_for("setMyCommands", 5)  # the owner's and the newcomer's, each set after their welcome
    owner = [c for c in fake.sent("setMyCommands") if c.body.get("scope", {}).get("chat_id") == 42]
    assert [{i["command"]: i["description"] for i in c.body["commands"]}["c"] for c in owner] == ["Customer card"]
    [menu] = [c for c in fake.sent("setMyCommands") if c.body.get("scope", {}).get("chat_id") == 43]
    assert menu.body["scope"] == {"type": "chat", "chat_id": 43} and "language_code" not in menu.body
    descriptions = {item["command"]: item["description"] for item in menu.body["commands"]}
    assert descriptions["c"] == "客户资料卡"  # Simplified, not the "zh" menu's Traditional 客戶資料卡
    await say(fake, "/lang en", 4, chat_id=43, sender=user(43, "建国", "王", "zh-hans"))
    await fake.wait_for("setMyCommands", 6)
    menus = [c for c in fake.sent("setMyCommands") if c.body.get("scope", {}).get("chat_id") == 43]
    assert len(menus) == 2 and {i["command"]: i["description"] for i in menus[-1].body["commands"]}["c"] == \
        "Customer card"


async def test_unknown_zones_and_unreadable_settings_get_their_own_messages(fake, running):
    await say(fake, "/start", 1)
    tz = (await say(fake, "/tz Mars/Base", 2))["text"]
    assert tz.startswith("I don't know the time zone “Mars/Base”. Use a name like Asia/Taipei")
    hours = (await say(fake, "/hours 25:00-99:00", 3))["text"]
    assert hours.startswith("I couldn't read “25:00-99:00” as working hours.\n")
    digest = (await say(fake, "/digest teatime", 4))["text"]
    assert digest.startswith("I couldn't read “teatime” as a time of day.\n")
    days = (await say(fake, "/daysoff someday", 5))["text"]
    assert days.startswith("I couldn't read “someday” as days of the week.\n")
    zh = (await say(fake, "/tz 火星", 6, sender=user(42, "Amy", "Lin", "zh-hant")))["text"]
    assert zh.startswith("I don't know")  # the member's language is the one they signed up with (en)
