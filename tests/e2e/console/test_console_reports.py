"""/report on the console: the chart and, after the XLSX button, the workbook are saved as files whose paths
are printed (a terminal cannot show an image)."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import load_workbook
from PIL import Image

from tests.e2e.console.test_console import chat, press


async def test_report_chart_and_xlsx_are_saved_and_their_paths_printed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    output, _ = await chat(tmp_path, [
        "Visited Acme, Mr. Lee wants a quote for 100 units, follow up Friday",
        "Called Globex about the invoice",
        "/report month",
        press("XLSX"),
        "/quit",
    ])
    paths = [Path(p) for p in re.findall(r"📎 (/\S+)", output)]
    assert [p.suffix for p in paths] == [".png", ".xlsx"]
    assert all(p.is_file() and p.is_relative_to(tmp_path) for p in paths)
    with Image.open(paths[0]) as image:
        assert image.format == "PNG" and image.width >= 800
    book = load_workbook(paths[1])
    members = book.worksheets[1]
    header, row = [c.value for c in members[1]], [c.value for c in members[2]]
    assert header[:5] == ["Salesperson", "Visits", "Calls", "Meetings", "Notes"]
    assert row[1:3] == [1, 1]  # one visit, one call
    assert "<b>Report</b>" not in output and "Report · this month" in output  # the text, without markup


async def test_an_empty_report_is_friendly_and_draws_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    output, _ = await chat(tmp_path, ["/report quarter", "/quit"])
    assert "Nothing recorded in this period yet" in output and "📎" not in output
