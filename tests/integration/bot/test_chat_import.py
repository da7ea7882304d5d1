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


# -- issue 14: system lines, account exports, folders, WeChat quotes and names -----------------------------
def slack_zip(folder: Path) -> bytes:
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        for path in sorted(folder.rglob("*.json")):
            archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
    return zipped.getvalue()


def stored(engine) -> list[tuple[str | None, bool, str, str]]:
    with session_scope(engine) as session:
        rows = session.exec(select(ConversationMessage).order_by(ConversationMessage.sent_at)).all()
        return [(m.sender, m.from_member, m.kind, m.text) for m in rows]


async def test_which_participant_is_you_works_on_exports_with_system_lines(app, engine, owner):
    exports = [("WhatsApp Chat with 陳小姐.txt", (SAMPLES / "whatsapp_android_zh_tw.txt").read_bytes(), "王大明"),
               ("WhatsApp Chat - Janet Wu.txt", (SAMPLES / "whatsapp_ios_en_us_system.txt").read_bytes(),
                "David Chen"),
               ("slack-export.zip", slack_zip(SAMPLES / "slack_export_zh_hans"), "李娜")]
    for name, data, me in exports:
        replies = await share(owner, name, data)
        assert "Which participant is you?" in replies[0].text, name
        answered = await owner.press(me, replies[0])
        assert answered[0].edit and "Which participant" not in answered[0].text, answered[0].text
        assert "went wrong" not in answered[0].text and "nothing was saved" not in answered[0].text
    rows = stored(engine)
    system = [row for row in rows if row[2] == "system"]
    assert len(system) >= 9 and not any(from_member for _, from_member, _, _ in system)  # nobody's, and stored
    assert {sender for sender, from_member, _, _ in rows if from_member} == {"王大明", "David Chen", "李娜"}
    assert ("Janet Wu", False, "text", "Thanks, talk soon") in rows


async def test_a_failing_answer_says_the_import_is_stored_not_that_nothing_was_saved(app, engine, owner,
                                                                                      monkeypatch):
    from core.usecases import chat_imports

    replies = await share(owner, "WhatsApp Chat - Janet Wu.txt",
                          (SAMPLES / "whatsapp_ios_en_us_system.txt").read_bytes())

    def broken(*args, **kwargs):
        raise RuntimeError("injected: the database dropped the connection")

    monkeypatch.setattr(chat_imports, "set_member_side", broken)
    failed = await owner.press("David Chen", replies[0])
    assert "nothing was saved" not in failed[0].text
    assert "the imported chat is stored (7 messages)" in failed[0].text
    assert count(engine, ConversationMessage) == 7
    monkeypatch.undo()
    answered = await owner.press("David Chen", replies[0])  # tapping again works
    assert answered[0].edit and "Which participant" not in answered[0].text


async def test_a_telegram_account_export_offers_its_chats_channels_included(app, engine, owner, settings):
    data = (SAMPLES / "telegram_account_multi.json").read_bytes()
    ask = (await share(owner, "result.json", data))[0]
    assert "holds 4 chats" in ask.text and count(engine, ConversationMessage) == 0
    labels = [button.label for row in ask.buttons for button in row]
    assert labels == ["👤 刘经理 (华通贸易) · 4", "📢 华通价格更新 · 3", "👥 Acme Sourcing · 3", "🔖 Saved Messages · 1",
                      "📚 All chats (4)"]
    channel = await owner.press("华通价格更新", ask)
    assert "Imported 3 messages" in channel[0].text and "not known yet" in channel[0].text
    filed = await owner.press("New customer", channel[1])
    assert "华通价格更新" in filed[0].text
    assert [row[3] for row in stored(engine)][1] == "7月价格: B200 单价 ¥1,280,A100 单价 ¥560"
    assert list(Path(settings.import_spool_dir).iterdir()) == []
    assert "no longer here" in (await owner.press("All chats", ask))[0].text  # the parked copy is gone
    ask = (await share(owner, "result.json", data))[0]
    every = await owner.press("All chats", ask)
    assert "Imported 4 chats, each as its own conversation" in every[0].text
    assert "• 华通价格更新" in every[0].text and "• Acme Sourcing" in every[0].text
    texts = [reply.text for reply in every[1:]]
    assert any("Nothing new: all 3 messages" in text for text in texts)  # the channel, imported before
    assert sum("Imported 4 messages" in text for text in texts) == 1  # 刘经理's chat
    assert count(engine, ConversationMessage) == 11
    with session_scope(engine) as session:
        titles = {r.details["import"]["title"] for r in session.exec(select(Interaction)
                                                                     .where(Interaction.kind == "message")).all()}
    assert titles == {"华通价格更新", "刘经理 (华通贸易)", "Acme Sourcing", None}  # Saved Messages has no name


async def test_wechat_quotes_are_kept_apart_and_own_csv_rows_keep_the_exported_name(app, engine, owner):
    await share(owner, "聊天记录.txt", (SAMPLES / "wechat_memotrace_quote.txt").read_bytes())
    with session_scope(engine) as session:
        texts = session.exec(select(ConversationMessage.text)).all()
        record = session.exec(select(Interaction).where(Interaction.kind == "message")).one()
    assert "收到,下周三前回复您" in texts and "好的,等您消息" in texts
    assert not any("引用" in text for text in texts)
    assert sorted(record.details["quoted"].values()) == ["刘经理 : 张总您好,B200 五十台的报价单已发",
                                                         "张伟 : 收到,下周三前回复您"]
    await share(owner, "刘经理.csv", (SAMPLES / "wechat_memotrace_named.csv").read_bytes())
    with session_scope(engine) as session:
        senders = set(session.exec(select(ConversationMessage.sender)
                                   .where(ConversationMessage.text == "Samples ship next Monday")).all())
        assert senders == {"张伟"}
        assert "我" not in set(session.exec(select(ConversationMessage.sender)).all())


def test_cli_reads_an_unzipped_slack_export_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    dry = CliRunner().invoke(build_app(), ["import-chat", str(SAMPLES / "slack_export"), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    parsed = json.loads(dry.stdout)
    assert parsed["format"] == "slack" and parsed["messages"][0]["kind"] == "system"
    result = CliRunner().invoke(build_app(), ["import-chat", str(SAMPLES / "slack_export_zh_hans"), "--yes", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["format"], summary["added"], summary["duplicates"]) == ("slack", 7, 0)
    assert set(summary) == {"format", "added", "duplicates", "first", "last", "customer", "me", "interaction_id",
                            "proposals", "scheduled"}


def test_cli_reads_a_folder_holding_a_whatsapp_chat_or_a_telegram_result(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    whatsapp = tmp_path / "WhatsApp Chat - 刘经理"
    whatsapp.mkdir()
    (whatsapp / "_chat.txt").write_bytes((SAMPLES / "whatsapp_android_zh_cn_system.txt").read_bytes())
    (whatsapp / "IMG-20240705-WA0001.jpg").write_bytes(b"\xff\xd8\xff")
    telegram = tmp_path / "ChatExport_2024-07-10"
    telegram.mkdir()
    (telegram / "result.json").write_bytes((SAMPLES / "telegram_result.json").read_bytes())
    for folder, fmt, total in ((whatsapp, "whatsapp", 7), (telegram, "telegram", 5)):
        result = CliRunner().invoke(build_app(), ["import-chat", str(folder), "--dry-run", "--json"])
        assert result.exit_code == 0, result.output
        parsed = json.loads(result.stdout)
        assert (parsed["format"], len(parsed["messages"])) == (fmt, total)
    empty = tmp_path / "photos"
    empty.mkdir()
    refused = CliRunner().invoke(build_app(), ["import-chat", str(empty), "--dry-run"])
    assert refused.exit_code == 2 and "the folder holds no chat export" in refused.output


def test_cli_account_export_needs_chat_or_all_and_imports_each_chat(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    export = str(SAMPLES / "telegram_account_multi.json")
    refused = CliRunner().invoke(build_app(), ["import-chat", export, "--yes", "--json"])
    assert refused.exit_code == 2 and "--chat NAME" in refused.output and "--all" in refused.output
    assert "华通价格更新 (public_channel, 3 messages)" in refused.output
    assert not (tmp_path / "cli.db").exists() or count_rows(tmp_path) == 0
    unknown = CliRunner().invoke(build_app(), ["import-chat", export, "--chat", "王先生", "--yes"])
    assert unknown.exit_code == 2 and "no chat named '王先生'" in unknown.output
    one = CliRunner().invoke(build_app(), ["import-chat", export, "--chat", "华通价格更新", "--yes", "--json"])
    assert one.exit_code == 0, one.output
    assert json.loads(one.stdout)["added"] == 3
    every = CliRunner().invoke(build_app(), ["import-chat", export, "--all", "--yes", "--json"])
    assert every.exit_code == 0, every.output
    summaries = {s["chat"]: (s["added"], s["duplicates"]) for s in json.loads(every.stdout)}
    assert summaries == {None: (1, 0), "刘经理 (华通贸易)": (4, 0), "华通价格更新": (0, 3), "Acme Sourcing": (3, 0)}
    both = CliRunner().invoke(build_app(), ["import-chat", export, "--all", "--chat", "x"])
    assert both.exit_code == 2 and "not both" in both.output


def test_cli_lists_an_account_exports_chats_and_asks_which(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    result = CliRunner().invoke(build_app(), ["import-chat", str(SAMPLES / "telegram_account_multi.json")],
                                input="3\n0\n")
    assert result.exit_code == 0, result.output
    assert "  3. 华通价格更新 (public_channel, 3 messages)" in result.output and "0. all of them" in result.output
    assert "Imported 3 messages (0 already there) onto 华通价格更新" in result.output


def count_rows(tmp_path) -> int:
    from core.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/cli.db")
    try:
        return count(engine, ConversationMessage)
    finally:
        engine.dispose()
