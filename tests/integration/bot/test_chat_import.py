"""A chat export shared with the bot: stored once on the right customer, promises proposed as buttons."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from sqlmodel import func, select
from typer.testing import CliRunner

from bot.cli import build_app
from core.db import session_scope
from core.models import ConversationMessage, Customer, FollowUp, Interaction

SAMPLES = Path(__file__).parents[2] / "fixtures" / "exports"
# 2026-11-16 (Mon) and 17 (Tue) in Taipei: the fake clock is Wed 2026-11-18 10:00
CHAT = ("2026/11/16 下午3:05 - 陳小姐: 王先生您好,A100 一百件的報價收到了\n"
        "2026/11/16 下午3:10 - 王大明: 好的,我們下週五前交貨\n"
        "2026/11/17 上午9:00 - 陳小姐: <媒體已略去>\n"
        "2026/11/17 上午9:05 - 陳小姐: 謝謝!\n")


def count(engine, model) -> int:
    with session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def messenger(app):
    return app.messengers["test"]


async def share(chat, name: str, data: bytes) -> list:
    file_id = f"f{len(messenger(chat.app).files)}"
    messenger(chat.app).files[file_id] = data
    return await chat.file(name, file_id)


async def with_customer(owner) -> None:
    await owner.say("拜訪大同五金陳小姐,談 A100")


async def test_export_lands_on_the_contacts_customer_with_proposals_and_who_is_who(app, engine, owner):
    await with_customer(owner)
    replies = await share(owner, "WhatsApp Chat with 陳小姐.txt", CHAT.encode())
    summary = replies[0]
    assert len(replies) == 1
    assert "Imported 4 messages" in summary.text and "<b>大同五金</b>" in summary.text
    assert "2026-11-16 → 2026-11-17" in summary.text and "Promises found in the chat (1)" in summary.text
    assert "Which participant is you?" in summary.text
    assert count(engine, FollowUp) == 0  # the promise waits for a tap
    replies = await owner.press("王大明", summary)
    assert replies[0].edit and "Which participant" not in replies[0].text
    replies = await owner.press("➕", replies[0])
    assert "✅" in replies[0].text
    with session_scope(engine) as session:
        record = session.exec(select(Interaction).where(Interaction.kind == "message")).one()
        scheduled = session.exec(select(FollowUp).where(FollowUp.source_interaction_id == record.id)).one()
        assert scheduled.due_at.isoformat() == "2026-11-27T01:00:00+00:00"  # 下週五 from Mon 16th, 09:00 Taipei
        mine = session.exec(select(ConversationMessage.sender).where(ConversationMessage.from_member)).all()
        assert set(mine) == {"王大明"}
    # pressing the same proposal again (an old copy of the message) schedules nothing more
    await owner.press("➕", summary)
    with session_scope(engine) as session:
        assert len(session.exec(select(FollowUp).where(FollowUp.source_interaction_id == record.id)).all()) == 1


async def test_reimporting_the_same_or_an_overlapping_export_adds_nothing_twice(app, engine, owner):
    await with_customer(owner)
    await share(owner, "chat.txt", CHAT.encode())
    again = await share(owner, "chat.txt", CHAT.encode())
    assert "Nothing new: all 4 messages" in again[0].text
    longer = CHAT + "2026/11/17 上午9:30 - 王大明: 明天寄樣品\n"
    more = await share(owner, "chat.txt", longer.encode())
    assert "Imported 1 messages" in more[0].text
    assert count(engine, ConversationMessage) == 5


async def test_an_unknown_customer_is_asked_and_filing_rekeys_the_messages(app, engine, owner):
    data = (SAMPLES / "whatsapp_android_en_us.txt").read_bytes()
    replies = await share(owner, "WhatsApp Chat with Janet Wu.txt", data)
    assert "not known yet" in replies[0].text and len(replies) == 2
    ask = replies[1]
    replies = await owner.press("New customer", ask)
    assert "Janet Wu" in replies[0].text
    with session_scope(engine) as session:
        customer = session.exec(select(Customer)).one()
        keys = set(session.exec(select(ConversationMessage.customer_key)).all())
    assert keys == {str(customer.id)}
    again = await share(owner, "WhatsApp Chat with Janet Wu.txt", data)
    assert "Nothing new" in again[0].text


async def test_day_month_order_is_asked_with_buttons(app, engine, owner, settings):
    replies = await share(owner, "chat.txt", (SAMPLES / "whatsapp_ambiguous.txt").read_bytes())
    assert "day/month or month/day" in replies[0].text
    replies = await owner.press("day first", replies[0])
    assert "Imported 2 messages" in replies[0].text and "2024-04-03" in replies[0].text
    assert list(Path(settings.import_spool_dir).iterdir()) == []


async def test_broken_files_get_a_clear_reply_and_leave_nothing_behind(app, engine, owner):
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("_chat.txt", CHAT)
    cases = [("chat.zip", zipped.getvalue()[:60], "zip file is damaged"),
             ("result.json", b'{"name": "x", "messages": [{"id": 1,', "JSON file is broken"),
             ("result.json", b'{"name": "x", "messages": []}', "found no messages"),
             ("chat.txt", b"\x00\x01\x02\x03 binary junk" * 50, "can't read chat.txt"),
             ("chat.txt", b"   ", "empty")]
    for name, data, expected in cases:
        replies = await share(owner, name, data)
        assert expected in replies[0].text, (name, replies[0].text)
    assert count(engine, Interaction) == 0 and count(engine, ConversationMessage) == 0
    assert "Nothing to follow up" in (await owner.say("/todo"))[0].text


def test_cli_dry_run_prints_the_parsed_conversation_as_json(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    result = CliRunner().invoke(build_app(), ["import-chat", str(SAMPLES / "whatsapp_ios_zh_hk.txt"),
                                              "--tz", "Asia/Hong_Kong", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.stdout)
    assert parsed["format"] == "whatsapp" and len(parsed["messages"]) == 5
    assert parsed["messages"][1] == {"sender": "陳小姐", "timestamp": "2024-07-12T04:00:05+00:00",
                                     "text": "你好,想問 B200 嘅價錢", "kind": "text"}
    assert not (tmp_path / "cli.db").exists()


def test_cli_imports_for_the_local_member_once(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    args = ["import-chat", str(SAMPLES / "telegram_result.json"), "--yes", "--json"]
    first = CliRunner().invoke(build_app(), args)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary["format"] == "telegram" and summary["added"] == 5 and summary["duplicates"] == 0
    second = json.loads(CliRunner().invoke(build_app(), args).stdout)
    assert second["added"] == 0 and second["duplicates"] == 5


def test_cli_bad_file_and_ambiguous_dates_exit_2_with_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    bad = tmp_path / "x.txt"
    bad.write_bytes(b"\x00\xff junk")
    result = CliRunner().invoke(build_app(), ["import-chat", str(bad), "--dry-run"])
    assert result.exit_code == 2 and "not a text file" in result.output
    ambiguous = CliRunner().invoke(build_app(), ["import-chat", str(SAMPLES / "whatsapp_ambiguous.txt"),
                                                 "--dry-run", "--json"])
    assert ambiguous.exit_code == 2 and "--date-order" in ambiguous.output
    ok = CliRunner().invoke(build_app(), ["import-chat", str(SAMPLES / "whatsapp_ambiguous.txt"), "--dry-run",
                                          "--json", "--date-order", "mdy", "--tz", "UTC"])
    assert json.loads(ok.stdout)["messages"][0]["timestamp"] == "2024-03-04T10:00:00+00:00"
