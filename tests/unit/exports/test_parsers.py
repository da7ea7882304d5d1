"""Each export format and locale, parsed from hand-written samples into exact messages."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.exports import ChooseChat, ExportError, looks_like_export, parse_export

SAMPLES = Path(__file__).parents[2] / "fixtures" / "exports"
TAIPEI, HONG_KONG = ZoneInfo("Asia/Taipei"), ZoneInfo("Asia/Hong_Kong")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def rows(conversation) -> list[tuple]:
    return [(m.sender, m.timestamp, m.text, m.kind) for m in conversation.messages]


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def slack_zip(prefix: str = "export/") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((SAMPLES / "slack_export").rglob("*.json")):
            archive.write(path, prefix + str(path.relative_to(SAMPLES / "slack_export")))
    return buffer.getvalue()


def test_whatsapp_android_zh_tw_midnight_multiline_media_deleted_edited_system():
    chat = parse_export(sample("whatsapp_android_zh_tw.txt"), tz=TAIPEI)
    assert chat.format == "whatsapp" and chat.participants == ["陳小姐", "王大明"]
    assert rows(chat) == [
        (None, at(2024, 7, 4, 16, 15), "訊息和通話都經過端對端加密。對話以外的任何人,甚至包括 WhatsApp,都無法讀取或收聽。",
         "system"),
        ("陳小姐", at(2024, 7, 4, 16, 15), "王先生您好,A100 的報價收到了", "text"),  # 上午12:15 = 00:15
        ("王大明", at(2024, 7, 5, 7, 5), "好的,我們8月15日前交貨\n第二行:含運費\n2024/7/5 是出貨日", "text"),
        ("陳小姐", at(2024, 7, 5, 4, 30), "<媒體已略去>", "media"),  # 下午12:30 = 12:30
        ("陳小姐", at(2024, 7, 6, 1, 0), "此訊息已刪除", "deleted"),
        ("王大明", at(2024, 7, 6, 1, 1), "明天下午兩點再確認", "text"),
        (None, at(2024, 7, 6, 1, 2), "陳小姐 已將 李先生 新增至群組", "system"),
    ]
    assert [m.edited for m in chat.messages] == [False] * 5 + [True, False]


def test_whatsapp_android_en_us_narrow_spaces_crlf_month_first():
    chat = parse_export(sample("whatsapp_android_en_us.txt"), tz=TAIPEI)
    assert rows(chat) == [
        ("Janet Wu", at(2024, 7, 5, 7, 5), "Can you send the revised quote Friday?", "text"),
        ("Tom Lee", at(2024, 7, 5, 7, 6), "Sure, 200 units at $120 each", "text"),
        ("Janet Wu", at(2024, 7, 13, 1, 0), "<Media omitted>", "media"),
        ("Tom Lee", at(2024, 7, 12, 16, 10), "This message was deleted", "deleted"),  # 12:10 AM
    ]


def test_whatsapp_ios_zh_hk_bom_marks_brackets_day_first_attachments():
    chat = parse_export(sample("whatsapp_ios_zh_hk.txt"), tz=HONG_KONG)
    assert rows(chat) == [
        (None, at(2024, 7, 12, 4, 0, 5), "訊息和通話都經過端對端加密。", "system"),
        ("陳小姐", at(2024, 7, 12, 4, 0, 5), "你好,想問 B200 嘅價錢", "text"),
        ("何生", at(2024, 7, 13, 1, 15, 30), "圖片已略去", "photo"),
        ("何生", at(2024, 7, 13, 1, 16), "下星期三前報價俾你", "text"),
        ("陳小姐", at(2024, 7, 13, 1, 17), "00000012-PHOTO-2024-07-13-09-17-00.jpg", "photo"),
    ]


def test_whatsapp_ios_en_gb_24_hour_and_continuation():
    chat = parse_export(sample("whatsapp_ios_en_gb.txt"), tz=HONG_KONG)
    assert rows(chat)[1:] == [("Amy Lin", at(2024, 7, 5, 7, 5, 40), "image omitted", "photo"),
                              ("Bob Chen", at(2024, 7, 21, 0, 0), "Order 500 boxes please\nwith delivery to Kowloon",
                               "text")]


def test_whatsapp_zh_cn_placeholders():
    chat = parse_export(sample("whatsapp_android_zh_cn.txt"), tz=ZoneInfo("Asia/Shanghai"))
    assert [(m.sender, m.kind) for m in chat.messages] == [("李总", "text"), ("张经理", "media"), ("张经理", "deleted")]


def test_whatsapp_zip_with_the_chat_inside_and_title_from_the_name():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("WhatsApp Chat with 陳小姐.txt", sample("whatsapp_android_zh_tw.txt"))
        archive.writestr("IMG-20240705-WA0001.jpg", b"\xff\xd8binary")
    chat = parse_export(buffer.getvalue(), tz=TAIPEI, file_name="WhatsApp Chat with 陳小姐.zip")
    assert chat.format == "whatsapp" and chat.title == "陳小姐" and len(chat.messages) == 7


def test_whatsapp_day_month_order_is_asked_when_the_file_cannot_tell():
    data = sample("whatsapp_ambiguous.txt")
    with pytest.raises(ExportError) as raised:
        parse_export(data, tz=TAIPEI)
    assert raised.value.code == "ambiguous_dates"
    assert parse_export(data, tz=UTC, date_order="dmy").messages[0].timestamp == at(2024, 4, 3, 10, 0)
    assert parse_export(data, tz=UTC, date_order="mdy").messages[0].timestamp == at(2024, 3, 4, 10, 0)


def test_telegram_desktop_single_chat_and_account_export():
    with pytest.raises(ChooseChat) as choice:  # an account export's chats are offered, none taken silently
        parse_export(sample("telegram_account.json"), tz=UTC)
    assert [(c.index, c.name, c.messages) for c in choice.value.chats] == [(0, "Saved", 1), (1, "陳小姐 (大同五金)", 5)]
    for name, pick in (("telegram_result.json", None), ("telegram_account.json", "陳小姐 (大同五金)"),
                       ("telegram_account.json", 1)):
        chat = parse_export(sample(name), tz=UTC, chat=pick)
        assert chat.format == "telegram" and chat.title == "陳小姐 (大同五金)"
        assert rows(chat) == [
            (None, at(2024, 7, 5, 7, 0), "陳小姐 phone call", "system"),
            ("陳小姐", at(2024, 7, 5, 7, 5, 9), "請看 A100 的規格:https://example.com/a100", "text"),
            ("王大明", at(2024, 7, 5, 7, 6), "好的,下週三前回覆", "text"),
            ("陳小姐", at(2024, 7, 5, 7, 8), "voice_messages/audio_1.ogg", "voice"),
            ("王大明", at(2024, 7, 5, 7, 9), "新品", "photo"),
        ]
        third, fifth = chat.messages[2], chat.messages[4]
        assert third.edited and third.reply_to == "2" and fifth.forwarded_from == "Acme News"


def test_telegram_date_unixtime_wins_over_the_exporting_pcs_clock():
    data = b'{"name": "x", "messages": [{"id": 1, "type": "message", "date": "2024-07-05T23:00:00", ' \
           b'"date_unixtime": "1720162800", "from": "A", "text": "hi"}]}'
    assert parse_export(data, tz=ZoneInfo("America/New_York")).messages[0].timestamp == at(2024, 7, 5, 7, 0)


def test_slack_export_zip_users_threads_bots_joins_files_mentions():
    chat = parse_export(slack_zip(), tz=TAIPEI)
    assert chat.format == "slack" and chat.title == "shared-datong"
    assert rows(chat) == [
        (None, datetime.fromtimestamp(1720162800.0001, UTC), "@陳小姐 has joined the channel", "system"),
        ("陳小姐", datetime.fromtimestamp(1720163109.0002, UTC), "@Amy Lin 請報 A100 兩百件", "text"),
        ("Amy Lin", datetime.fromtimestamp(1720163160.0003, UTC), "OK, quote by Friday", "text"),
        ("Order bot", datetime.fromtimestamp(1720163200.0004, UTC), "Order #12 shipped", "text"),
        ("陳小姐", datetime.fromtimestamp(1720163300.0005, UTC), "spec.pdf", "file"),
        ("Amy Lin", datetime.fromtimestamp(1720249200.0001, UTC), "Sent the revised quote & samples", "text"),
    ]
    assert chat.messages[2].reply_to == "1720163109.000200" and chat.messages[1].reply_to is None


def test_wechat_memotrace_txt_csv_and_pywxdump():
    txt = parse_export(sample("wechat_memotrace.txt"), tz=ZoneInfo("Asia/Shanghai"))
    assert txt.format == "wechat-txt" and rows(txt) == [
        ("陈小姐", at(2024, 7, 5, 7, 5, 9), "王总您好,报价单已发\n请查收", "text"),
        ("我", at(2024, 7, 5, 7, 6), "[图片]", "photo"),
        (None, at(2024, 7, 5, 7, 7), "你撤回了一条消息", "system"),
        ("陈小姐", at(2024, 7, 5, 7, 8), "下周三前回复可以吗", "text"),
    ]
    memotrace = parse_export(sample("wechat_memotrace.csv"), tz=UTC)
    assert memotrace.format == "wechat-csv" and rows(memotrace) == [
        ("陈小姐", at(2024, 7, 5, 7, 5, 9), "王总您好", "text"),
        ("我", at(2024, 7, 5, 7, 6), "收到,明天回复", "text"),
        ("陈小姐", at(2024, 7, 5, 7, 7), "[语音]", "voice"),
        (None, at(2024, 7, 5, 7, 8), "你撤回了一条消息", "system"),
    ]
    dump = parse_export(sample("pywxdump.csv"), tz=ZoneInfo("Asia/Shanghai"))
    assert dump.format == "pywxdump-csv" and [(m.sender, m.kind) for m in dump.messages] == [
        ("陈小姐", "text"), ("我", "text"), ("陈小姐", "photo"), (None, "system")]
    assert dump.messages[1].timestamp == at(2024, 7, 5, 7, 6)


def broken_zip() -> bytes:
    return slack_zip()[:300]


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty"),
    (b"  \n\t\n", "empty"),
    (b"x" * (61 * 1024 * 1024), "too_large"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
    ("Γεια".encode()[:-1] + b"\xff\xfe\xfa trailing", "binary"),
    (b'{"name": "x", "messages": [', "invalid_json"),
    (b'{"hello": "world"}', "unknown_format"),
    (b"Dear customer,\nthank you for your order.\n", "unknown_format"),
    (b'{"name": "x", "messages": []}', "no_messages"),
])
def test_bad_files_raise_a_coded_error(data, code):
    with pytest.raises(ExportError) as raised:
        parse_export(data, tz=UTC)
    assert raised.value.code == code


def test_a_truncated_zip_and_a_corrupt_member_are_reported_as_such():
    for data in (broken_zip(), _corrupt_member()):
        with pytest.raises(ExportError) as raised:
            parse_export(data, tz=UTC)
        assert raised.value.code == "truncated_zip"


def _corrupt_member() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("_chat.txt", sample("whatsapp_ios_en_gb.txt"))
    data = bytearray(buffer.getvalue())
    data[data.index(b"Morning")] ^= 0xFF  # flips a byte inside the stored file: CRC mismatch
    return bytes(data)


def test_sniffing_tells_exports_from_customer_lists_and_other_files():
    exports = [sample(n) for n in ("whatsapp_android_zh_tw.txt", "whatsapp_ios_zh_hk.txt", "telegram_result.json",
                                   "wechat_memotrace.txt", "wechat_memotrace.csv", "pywxdump.csv")] + [slack_zip()]
    assert all(looks_like_export(data) for data in exports)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    others = [b"name,phone,email\nAcme,+886 2 1234 5678,a@b.com\n", "客戶名稱,電話\n永豐電子,02-1234-5678\n".encode(),
              buffer.getvalue(), b"Dear customer,\nthank you.\n", b"%PDF-1.4 \x00\x01binary", b""]
    assert not any(looks_like_export(data) for data in others)
