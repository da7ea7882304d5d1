"""Archives and exports are bounded: what a zip expands to (per file and in all) and how many messages an export
holds are checked before and while reading, never by unpacking it whole; imported text is made storable."""

from __future__ import annotations

import io
import json
import zipfile
from zoneinfo import ZoneInfo

import pytest

from core.exports import ExportError, parse_export
from core.exports.model import MAX_MESSAGES, MAX_UNPACKED_FILE_BYTES, READ_CHUNK, UnpackBudget
from core.text import storable
from tests.zip_bombs import repeated_zip, whatsapp_bomb, whatsapp_lines, zeros_bomb

TZ = ZoneInfo("Asia/Taipei")


def code_of(data: bytes, **kw) -> str:
    with pytest.raises(ExportError) as raised:
        parse_export(data, tz=TZ, **kw)
    return raised.value.code


def test_two_gigabytes_of_zeros_in_a_two_megabyte_zip_is_refused_from_what_it_declares():
    bomb = zeros_bomb()
    assert len(bomb) < 3 * 2**20
    assert code_of(bomb, file_name="chat.zip") == "too_large_unpacked"


def test_two_hundred_megabytes_of_whatsapp_lines_is_refused_before_a_message_is_built():
    bomb = whatsapp_bomb()
    assert len(bomb) < 5 * 2**20
    assert code_of(bomb) == "too_large_unpacked"


def test_a_zip_that_understates_what_it_holds_is_read_no_further_than_it_says(monkeypatch):
    # headers claim 1 MB; the deflated stream holds 100 MB: zipfile stops at the declared size, the CRC fails
    liar = repeated_zip("_chat.txt", whatsapp_lines(), 100, declared_size=2**20)
    assert code_of(liar) == "truncated_zip"


def test_the_counted_ceiling_holds_when_a_member_yields_more_than_the_limit(monkeypatch):
    # a member within the declared limits whose stream yields more than the per-file ceiling (counted, not trusted)
    archive = zipfile.ZipFile(io.BytesIO(repeated_zip("_chat.txt", whatsapp_lines(), 3)))
    budget = UnpackBudget(per_file=2 * 2**20 + READ_CHUNK // 2)
    monkeypatch.setattr(archive.getinfo("_chat.txt"), "file_size", 2**20)  # what the archive claims
    with pytest.raises(ExportError) as raised:
        budget.read(archive, "_chat.txt")
    assert raised.value.code in ("too_large_unpacked", "truncated_zip")


def test_the_total_over_several_members_is_bounded():
    budget = UnpackBudget(total=3 * 2**20)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(4):
            archive.writestr(f"general/2024-01-0{i + 1}.json", b"[]" + b" " * 2**20)
    archive = zipfile.ZipFile(buffer)
    with pytest.raises(ExportError) as raised:
        budget.check_declared(archive, archive.namelist())
    assert raised.value.code == "too_large_unpacked"
    for name in archive.namelist()[:2]:
        budget.read(archive, name)
    with pytest.raises(ExportError):
        budget.read(archive, archive.namelist()[2])


def test_a_slack_export_expanding_past_the_limit_is_refused():
    buffer = io.BytesIO()
    filler = json.dumps([{"ts": "1700000000.0001", "user": "U1", "text": "x" * 1000}] * 1000).encode()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("users.json", b"[]")
        for day in range(MAX_UNPACKED_FILE_BYTES * 2 // len(filler) + 2):
            archive.writestr(f"general/2024-{day // 28 + 1:02d}-{day % 28 + 1:02d}.json", filler)
    assert code_of(buffer.getvalue()) == "too_large_unpacked"


def test_an_export_with_more_messages_than_the_ceiling_is_refused():
    line = "13/07/2024, 15:05 - 陳小姐: ok\n"
    assert code_of((line * (MAX_MESSAGES + 1)).encode()) == "too_many_messages"
    assert len(parse_export((line * 1000).encode(), tz=TZ).messages) == 1000


def test_a_telegram_export_with_more_messages_than_the_ceiling_is_refused():
    raw = {"id": 1, "type": "message", "date": "2024-12-07T15:05:00", "from": "陳小姐", "text": "ok"}
    document = {"name": "陳小姐", "type": "personal_chat", "messages": [raw] * (MAX_MESSAGES + 1)}
    assert code_of(json.dumps(document).encode()) == "too_many_messages"


def test_imported_text_drops_nul_and_replaces_lone_surrogates():
    document = {"name": "陳\x00小姐", "type": "personal_chat", "messages": [
        {"id": 1, "type": "message", "date": "2024-12-07T15:05:00", "from": "陳\x00小姐", "text": "報價\x00\ud800收到"}]}
    parsed = parse_export(json.dumps(document).encode(), tz=TZ)
    message = parsed.messages[0]
    assert message.text == "報價\ufffd收到" and message.sender == "陳小姐" and parsed.title == "陳小姐"


@pytest.mark.parametrize(("raw", "kept"), [
    ("a\x00b", "ab"), ("\ud83d x", "\ufffd x"), ("\u200f\u202eשלום", "\u200f\u202eשלום"),
    ("👩\u200d👩\u200d👧", "👩\u200d👩\u200d👧"), ("a\tb\r\nc", "a\tb\r\nc"), ("\x1b[31m", "[31m"), ("٣٤", "٣٤")])
def test_storable(raw, kept):
    assert storable(raw) == kept


def test_a_slack_day_file_with_more_messages_than_the_ceiling_is_refused_before_it_is_loaded(monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("users.json", b"[]")
        archive.writestr("general/2024-01-01.json", json.dumps([{"ts": "1.0", "text": "x"}] * (MAX_MESSAGES + 1)))
    loads = []
    monkeypatch.setattr(json, "loads", lambda text, _real=json.loads: loads.append(len(text)) or _real(text))
    assert code_of(buffer.getvalue()) == "too_many_messages"
    assert loads == [2]  # users.json only: the day file was counted in its bytes, never loaded
