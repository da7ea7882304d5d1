"""/report through the real slack-bolt app: the chart goes up by Slack's external upload flow
(files.getUploadURLExternal → the PNG POSTed to the upload URL → files.completeUploadExternal in the DM), the
XLSX button follows as a message, and its press uploads the workbook the same way."""

from __future__ import annotations

from tests.fakes.slack_api import block_action, dm, event, interactive


async def test_report_chart_and_xlsx_use_the_external_upload_flow(fake, running):
    _, url = running
    await event(url, dm("start"))
    await fake.wait_for("chat.postMessage")
    await event(url, dm("Visited Acme, wants a quote, follow up Friday"))
    await fake.wait_for("chat.postMessage", 2)
    await event(url, dm("report week"))
    [ask] = await fake.wait_for("files.getUploadURLExternal")
    assert ask.body["filename"].endswith(".png") and int(ask.body["length"]) > 20_000
    [complete] = await fake.wait_for("files.completeUploadExternal")
    [upload] = fake.sent("upload")
    [(file_id, stored)] = fake.uploads.items()
    assert upload.body == {"file": file_id, "bytes": int(ask.body["length"])}
    assert stored["data"][:8] == b"\x89PNG\r\n\x1a\n" and stored["completed"] and stored["shared_to"] == "DU1"
    assert complete.body["channel_id"] == "DU1"
    posted = (await fake.wait_for("chat.postMessage", 4))[-2:]
    button_message = next(call for call in posted if any(b["type"] == "actions" for b in call.body["blocks"]))
    [action] = [b for b in button_message.body["blocks"] if b["type"] == "actions"]
    assert [(e["text"]["text"], e["value"]) for e in action["elements"]] == [("📎 XLSX", "rep:x:week:0")]
    assert any("Report" in call.body["text"] and "visits 1" in call.body["text"] for call in posted)
    await interactive(url, block_action("rep:x:week:0"))
    asks = await fake.wait_for("files.getUploadURLExternal", 2)
    assert asks[-1].body["filename"].startswith("report-week-") and asks[-1].body["filename"].endswith(".xlsx")
    await fake.wait_for("files.completeUploadExternal", 2)
    workbook = fake.uploads[max(fake.uploads)]
    assert workbook["data"][:2] == b"PK" and workbook["comment"].startswith("📎 Full report, this week")
