"""/export and /erase in the conversation on both databases: the owner of a customer gets a zip (XLSX + JSON), a
colleague does not; a salesperson cannot erase; the owner gives the reason (typed after being asked, or inline),
confirms, and the customer is gone from search and exports; forged and repeated buttons change nothing."""

from __future__ import annotations

import io
import json
import zipfile

from openpyxl import load_workbook

from bot.handlers.privacy import split_reason
from core.chat import ButtonIn
from tests.conversation import Chat


def unzip(reply) -> dict[str, bytes]:
    assert reply.file is not None and reply.file.mime_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(reply.file.data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def press(chat: Chat, payload: str):
    return chat.send(ButtonIn(chat.envelope(), payload, callback_id=payload))


async def test_export_for_the_owner_and_erase_with_a_typed_reason(app, owner, sales, bob):
    await sales.say("拜訪大同五金行，王總要報價 200 台，下週三回覆")
    [refused] = await bob.say("/export 大同五金行")
    assert refused.file is None

    [export] = await sales.say("/匯出 大同五金行")
    assert export.text.startswith("📦 關於 <b>大同五金行</b> 存放的所有資料")
    files = unzip(export)
    assert set(files) == {"大同五金行.xlsx", "大同五金行.json"}
    data = json.loads(files["大同五金行.json"])
    assert data["subject"]["name"] == "大同五金行" and data["customer"][0]["name"] == "大同五金行"
    assert "王總要報價 200 台" in data["interactions"][0]["text"]
    book = load_workbook(io.BytesIO(files["大同五金行.xlsx"]))
    assert book.sheetnames[:3] == ["客戶", "聯絡人", "往來紀錄"]
    notes = list(book["往來紀錄"].iter_rows(values_only=True))
    assert "text" in notes[0] and any("王總要報價" in str(v) for v in notes[1])

    [not_allowed] = await sales.say("/刪除個資 大同五金行 原因：客戶要求")
    assert not_allowed.text == "只有擁有者和主管可以刪除個資。"

    [ask] = await owner.say("/erase 大同五金行")
    assert ask.text.startswith("Why should the data of <b>大同五金行</b> be erased?")
    [confirm] = await owner.say("the customer asked by phone")
    assert confirm.text.startswith("⚠️ Erase <b>大同五金行</b> permanently?")
    assert confirm.text.endswith("Reason: the customer asked by phone")
    payload = confirm.buttons[0][0].payload
    assert payload.startswith("pv:y:c:")
    customer_id = int(payload.rsplit(":", 1)[1])
    [forged] = await press(sales, payload)  # a salesperson's forged confirm
    assert forged.text == "只有擁有者和主管可以刪除個資。"
    [done] = await owner.press("Erase permanently", confirm)
    assert done.text.startswith("🗑 Erased: the customer's personal data is gone.") and "大同" not in done.text and f"Erased customer #{customer_id}" in done.text
    [again] = await owner.press("Erase permanently", confirm)
    assert again.text == "This was erased already; nothing changed."

    [search] = await owner.say("/find 大同")
    assert "大同五金行" not in search.text and "王總" not in search.text
    [gone] = await owner.say("/export 大同五金行")
    assert gone.file is None and gone.text == "I don't know a customer or contact person called “大同五金行”."
    [shell] = await owner.send(ButtonIn(owner.envelope(), f"pv:x:c:{customer_id}", callback_id="x1"))
    shell_data = json.loads(unzip(shell)[f"Erased customer #{customer_id}.json"])
    assert "大同" not in json.dumps(shell_data, ensure_ascii=False)


async def test_erase_with_an_inline_reason_and_forged_or_cancelled_buttons(app, owner, sales):
    await sales.say("Visited Initech, Peter wants a demo next Monday")
    [confirm] = await owner.say("/erase Initech reason: the customer asked")
    assert confirm.text.startswith("⚠️ Erase <b>Initech</b> permanently?")
    [cancelled] = await owner.press("Cancel", confirm)
    assert cancelled.text == "OK, nothing was erased."
    [expired] = await owner.press("Erase permanently", confirm)  # the confirmation went with the cancel
    assert expired.text.startswith("That confirmation has expired.")
    [missing] = await press(owner, "pv:x:c:999999")
    assert missing.text.startswith("I can't find that")
    [stale] = await press(owner, "pv:y:q:1")
    assert stale.file is None and "erased" not in stale.text
    [usage] = await owner.say("/erase")
    assert usage.text.startswith("Whose data?")
    [found] = await owner.say("/find Initech")
    assert "Peter wants a demo" in found.text  # nothing was erased


def test_the_reason_is_read_in_every_language():
    assert split_reason("大同五金 reason: 客戶要求") == ("大同五金", "客戶要求")
    assert split_reason("大同五金 原因：客户要求删除") == ("大同五金", "客户要求删除")
    assert split_reason("Acme Trading 理由: PDPO request") == ("Acme Trading", "PDPO request")
    assert split_reason("Acme Trading") == ("Acme Trading", "")
