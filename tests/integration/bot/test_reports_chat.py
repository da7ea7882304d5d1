"""/report in the conversation on both databases: a salesperson's own figures in zh-Hant, the manager's team per
salesperson in English, the chart image, the XLSX button, a bad period and an empty period."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from PIL import Image


async def test_salesperson_own_figures_and_owner_team_with_chart_and_xlsx(app, owner, sales):
    await sales.say("拜訪宏達電,王經理要報價,明天跟進")
    await sales.say("拜訪台積電,陳經理要樣品,週五寄樣品")
    await owner.say("Visited Acme, wants a quote, follow up tomorrow")

    replies = await sales.say("/報表 週")
    assert len(replies) == 2, [r.text for r in replies]
    chart, text = replies
    assert chart.image is not None and chart.image.mime_type == "image/png"
    with Image.open(io.BytesIO(chart.image.data)) as image:
        assert image.width >= 800
    assert [[b.payload for b in row] for row in chart.buttons] == [["rep:x:week:0"]]
    assert text.text.startswith("📊 <b>報表</b> · 本週,") and "你的數字" in text.text
    assert "🚗 拜訪 2 · 📞 電話 0" in text.text and "Amy Lin" not in text.text

    chart, text = await owner.say("/report week")
    assert text.text.startswith("📊 <b>Report</b> · this week,") and "Your team, per salesperson" in text.text
    assert "<b>陳小姐</b>\n🚗 visits 2" in text.text and "<b>Amy Lin</b>\n🚗 visits 1" in text.text
    [document] = await owner.press("XLSX", chart)
    assert document.file is not None and document.file.name.startswith("report-week-")
    assert document.text.startswith("📎 Full report, this week")
    rows = list(load_workbook(io.BytesIO(document.file.data)).worksheets[1].iter_rows(values_only=True))
    assert rows[0][:2] == ("Salesperson", "Visits")
    assert sorted((row[0], row[1]) for row in rows[1:]) == [("Amy Lin", 1), ("陳小姐", 2)]


async def test_bad_and_empty_periods_are_answered_kindly(app, owner, clock):
    [bad] = await owner.say("/report yesterday")
    assert bad.text == "Which period? Write /report week, /report month or /report quarter."
    [empty] = await owner.say("/report quarter")
    assert empty.image is None and "Nothing recorded in this period yet" in empty.text
    [forged] = await owner.send(__import__("core.chat", fromlist=["ButtonIn"]).ButtonIn(
        owner.envelope(), "rep:x:decade:0", callback_id="cb1"))
    assert forged.file is None and forged.text.startswith("Which period?")
