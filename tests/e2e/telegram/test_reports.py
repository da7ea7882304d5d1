"""/report through the real python-telegram-bot: the chart goes out as a multipart sendPhoto with the XLSX
button, the button sends the workbook as a multipart sendDocument."""

from __future__ import annotations

from tests.fakes.telegram_api import callback, message


async def test_report_sends_a_chart_photo_and_the_xlsx_on_request(fake, running):
    fake.inject(message("/start"))
    await fake.wait_for("sendMessage", 1)
    fake.inject(message("Visited Acme Trading today, they want a quote"))
    await fake.wait_for("sendMessage", 2)
    fake.inject(message("/report week"))
    [photo] = await fake.wait_for("sendPhoto")
    body = photo.body
    assert body["chat_id"] == "42"
    assert body["photo"]["filename"].endswith(".png") and body["photo"]["size"] > 20_000  # multipart upload
    assert body["caption"].startswith("📊 this week")
    [[button]] = body["reply_markup"]["inline_keyboard"]
    assert button == {"text": "📎 XLSX", "callback_data": "rep:x:week:0"}
    text = (await fake.wait_for("sendMessage", 3))[-1].body["text"]
    assert "<b>Report</b>" in text and "visits 1" in text
    fake.inject(callback("rep:x:week:0", message_id=1))
    [document] = await fake.wait_for("sendDocument")
    assert document.body["document"]["filename"].startswith("report-week-")
    assert document.body["document"]["filename"].endswith(".xlsx") and document.body["document"]["size"] > 3000
    assert document.body["caption"].startswith("📎 Full report, this week")


async def test_an_unknown_period_is_answered_politely(fake, running):
    fake.inject(message("/start"))
    await fake.wait_for("sendMessage", 1)
    fake.inject(message("/report fortnight"))
    text = (await fake.wait_for("sendMessage", 2))[-1].body["text"]
    assert text == "Which period? Write /report week, /report month or /report quarter."
    assert not fake.sent("sendPhoto")
