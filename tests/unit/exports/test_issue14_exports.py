"""Regression samples of issue 14: system lines, account exports (channels included), unzipped folders,
WeChat quote blocks kept apart, and the member's own MemoTrace CSV rows under the exported name."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.exports import (
    ChooseChat,
    ExportError,
    NoSuchChat,
    looks_like_export,
    parse_all_chats,
    parse_export,
    read_folder,
)
from core.exports.wechat_quotes import split_quote

SAMPLES = Path(__file__).parents[2] / "fixtures" / "exports"
SHANGHAI, NEW_YORK = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def test_whatsapp_system_lines_have_no_sender_in_english_and_simplified_chinese():
    ios = parse_export(sample("whatsapp_ios_en_us_system.txt"), tz=NEW_YORK, file_name="WhatsApp Chat - Janet Wu.txt")
    assert ios.title == "Janet Wu" and ios.participants == ["Janet Wu", "David Chen"]
    assert [(m.sender, m.kind) for m in ios.messages] == [
        (None, "system"), ("Janet Wu", "text"), ("David Chen", "text"), (None, "system"), ("Janet Wu", "photo"),
        (None, "system"), ("Janet Wu", "text")]
    assert ios.messages[0].text.startswith("Messages and calls are end-to-end encrypted")
    assert ios.messages[1].timestamp == at(2024, 7, 12, 14, 1, 15)  # 10:01 AM EDT
    android = parse_export(sample("whatsapp_android_zh_cn_system.txt"), tz=SHANGHAI)
    assert [m.sender for m in android.messages[:3]] == [None, None, None]
    assert android.participants == ["刘经理", "张伟"]
    assert android.messages[5].kind == "media"


def test_a_telegram_account_export_offers_every_chat_channels_included():
    data = sample("telegram_account_multi.json")
    with pytest.raises(ChooseChat) as choice:
        parse_export(data, tz=SHANGHAI)
    assert [(c.index, c.name, c.kind, c.messages) for c in choice.value.chats] == [
        (0, "Saved Messages", "saved_messages", 1), (1, "刘经理 (华通贸易)", "personal_chat", 4),
        (2, "华通价格更新", "public_channel", 3), (3, "Acme Sourcing", "private_group", 3)]  # the empty group: none
    channel = parse_export(data, tz=SHANGHAI, chat="华通价格更新")
    assert channel.title == "华通价格更新" and channel.participants == ["华通价格更新"]
    assert [m.text for m in channel.messages] == ["华通价格更新 create channel", "7月价格: B200 单价 ¥1,280,A100 单价 ¥560",
                                                  "调价通知:B200 自 7月15日起 ¥1,250"]
    assert channel.messages[1].timestamp == at(2024, 7, 1, 2, 0)
    assert parse_export(data, tz=SHANGHAI, chat="acme sourcing").title == "Acme Sourcing"  # any case
    assert parse_export(data, tz=SHANGHAI, chat=1).messages[1].text == "张总您好,B200 五十台报价已发您邮箱"
    with pytest.raises(NoSuchChat) as missing:
        parse_export(data, tz=SHANGHAI, chat="王先生")
    assert "华通价格更新" in str(missing.value)
    assert channel.exporter is None and parse_export(data, tz=SHANGHAI, chat=1).exporter == "张伟"  # the owner
    every = parse_all_chats(data, tz=SHANGHAI)
    assert [(c.title, len(c.messages)) for c in every] == [(None, 1), ("刘经理 (华通贸易)", 4), ("华通价格更新", 3),
                                                          ("Acme Sourcing", 3)]


def test_a_one_chat_export_needs_no_choice():
    assert len(parse_all_chats(sample("telegram_result.json"), tz=UTC)) == 1
    assert len(parse_all_chats(sample("whatsapp_android_zh_tw.txt"), tz=UTC)) == 1
    lone = {"about": "", "chats": {"list": [{"name": "Grace Lee", "type": "personal_chat", "id": 3, "messages": [
        {"id": 1, "type": "message", "date": "2024-07-02T16:01:00", "date_unixtime": "1719907260",
         "from": "Grace Lee", "text": "Samples arrived, thanks"}]}, {"name": "空群", "messages": []}]}}
    assert parse_export(json.dumps(lone).encode(), tz=UTC).title == "Grace Lee"


def test_unzipped_folders_read_as_the_export_they_hold(tmp_path):
    data, name = read_folder(SAMPLES / "slack_export_zh_hans")
    assert zipfile.is_zipfile(io.BytesIO(data)) and looks_like_export(data, name)
    slack = parse_export(data, tz=UTC, file_name=name)
    assert slack.format == "slack" and slack.participants == ["王强", "李娜"]
    assert [m.kind for m in slack.messages].count("system") == 4
    nested = tmp_path / "export"
    (nested / "Acme Slack export Jul 5 2024").mkdir(parents=True)
    for path in (SAMPLES / "slack_export").rglob("*.json"):
        target = nested / "Acme Slack export Jul 5 2024" / path.relative_to(SAMPLES / "slack_export")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    assert parse_export(read_folder(nested)[0], tz=UTC).format == "slack"  # one folder level down
    whatsapp = tmp_path / "WhatsApp Chat - Janet Wu"
    whatsapp.mkdir()
    (whatsapp / "_chat.txt").write_bytes(sample("whatsapp_ios_en_us_system.txt"))
    (whatsapp / "00000012-PHOTO-2024-07-12-10-06-30.jpg").write_bytes(b"\xff\xd8")
    data, name = read_folder(whatsapp)
    assert parse_export(data, tz=NEW_YORK, file_name=name).title == "Janet Wu"
    telegram = tmp_path / "DataExport_2024-07-10"
    telegram.mkdir()
    (telegram / "result.json").write_bytes(sample("telegram_account_multi.json"))
    assert read_folder(telegram) == (sample("telegram_account_multi.json"), "result.json")
    (tmp_path / "photos").mkdir()
    with pytest.raises(ExportError) as error:
        read_folder(tmp_path / "photos")
    assert error.value.code == "unknown_format"


def test_memotrace_txt_quote_blocks_are_kept_apart_in_both_scripts():
    hans = parse_export(sample("wechat_memotrace_quote.txt"), tz=SHANGHAI)
    assert [(m.sender, m.text, m.quoted) for m in hans.messages if m.kind == "text"] == [
        ("刘经理", "张总您好,B200 五十台的报价单已发\n请查收", None),
        ("张伟", "收到,下周三前回复您", "刘经理 : 张总您好,B200 五十台的报价单已发"),  # quote after the reply
        ("刘经理", "好的,等您消息", "张伟 : 收到,下周三前回复您")]  # quote before the reply
    hant = parse_export(sample("wechat_memotrace_quote_zh_hant.txt"), tz=SHANGHAI)
    assert [(m.text, m.quoted) for m in hant.messages] == [
        ("王總您好,A100 一百件的報價單已寄出", None),
        ("收到,我們下週五前確認", "陳小姐：王總您好,A100 一百件的報價單已寄出"),
        ("他說「沒問題」,我再跟您確認", None),  # 「」 as quotation marks stay in the text
        ("好的,謝謝", "王大明：收到,我們下週五前確認")]


def test_split_quote_leaves_ordinary_text_alone():
    assert split_quote("「好的」") == ("「好的」", None)
    assert split_quote("引用的資料在附件") == ("引用的資料在附件", None)
    assert split_quote("Quote: 300 units") == ("Quote: 300 units", None)
    assert split_quote("好\n引用：李娜：明天发货") == ("好", "李娜：明天发货")


def test_memotrace_csv_own_rows_keep_the_exported_name_and_quote_columns_stay_apart():
    named = parse_export(sample("wechat_memotrace_named.csv"), tz=SHANGHAI)
    assert [(m.sender, m.kind) for m in named.messages] == [
        ("刘经理", "text"), ("张伟", "text"), (None, "system"), ("张伟", "text"), ("刘经理", "photo")]
    assert named.participants == ["刘经理", "张伟"] and named.exporter == "张伟"
    old = parse_export(sample("wechat_memotrace.csv"), tz=SHANGHAI)  # the file names nobody for its own rows
    assert old.messages[1].sender == "我"
    quoted = parse_export(sample("wechat_memotrace_quote_zh_hant.csv"), tz=SHANGHAI)
    assert [(m.sender, m.kind, m.text, m.quoted) for m in quoted.messages] == [
        ("陳小姐", "text", "王總您好,A100 報價單已寄出", None),
        ("王大明", "text", "收到,下週五前確認", "陳小姐: 王總您好,A100 報價單已寄出"),
        ("陳小姐", "text", "好的,謝謝", None)]
