"""The full report as an XLSX workbook (openpyxl): one sheet per part, headers in the member's language,
amounts as exact numbers with their currency in their own column, dates as dates."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from bot.report_text import Translate, period_label, stage_name
from core.usecases.reports import Report

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_xlsx(report: Report, language: str, tr: Translate, *, tz: str, past: bool = False) -> bytes:
    from zoneinfo import ZoneInfo

    from openpyxl import Workbook  # imported on the first workbook: an idle bot carries none of it

    zone = ZoneInfo(tz)
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = _title(tr("reports.sheet_summary"))
    _rows(summary, [tr("reports.col_period"), tr("reports.col_start"), tr("reports.col_end")],
          [[period_label(report, language, tr, past=past), report.period.first_day, report.period.last_day]])

    def sheet(key: str, header: list[str], rows: Sequence[Sequence[Any]]) -> None:
        _rows(book.create_sheet(_title(tr(key))), header, rows)

    members = []
    for m in report.members:
        won = list(m.won) or [("", None)]
        for currency, amount in won:
            members.append([m.name, m.visits, m.calls, m.meetings, m.notes, m.follow_ups_done_on_time,
                            m.follow_ups_done_late, m.follow_ups_overdue, m.new_customers, m.deals_created,
                            m.deals_won, m.deals_lost, currency or None, amount])
    sheet("reports.sheet_members", [tr(f"reports.col_{c}") for c in (
        "name", "visits", "calls", "meetings", "notes", "on_time", "late", "overdue", "new_customers",
        "deals_created", "deals_won", "deals_lost", "currency", "amount")], members)
    pipeline = []
    for stage in report.stages:
        for currency, amount in list(stage.amount) or [("", None)]:
            pipeline.append([stage.name(language), stage.deals, stage.reached,
                             round(stage.average_days, 1) if stage.average_days is not None else None,
                             currency or None, amount])
    sheet("reports.sheet_pipeline", [tr(f"reports.col_{c}") for c in (
        "stage", "deals", "reached", "avg_days", "currency", "amount")], pipeline)
    sheet("reports.sheet_conversion", [tr("reports.col_from"), tr("reports.col_to"), tr("reports.col_rate")],
          [[stage_name(report, c.from_key, language), stage_name(report, c.to_key, language), round(c.rate, 4)]
           for c in report.conversion])
    sheet("reports.sheet_customers", [tr("reports.col_customer"), tr("reports.col_currency"),
                                      tr("reports.col_amount"), tr("reports.col_share")],
          [[c.name, currency, amount, round(c.share, 4)] for c in report.top_customers for currency, amount in c.won])
    sheet("reports.sheet_silent", [tr("reports.col_customer"), tr("reports.col_quiet")],
          [[c.name, c.quiet_days] for c in report.silent])
    sheet("reports.sheet_payments", [tr("reports.col_customer"), tr("reports.col_currency"), tr("reports.col_amount"),
                                     tr("reports.col_due")],
          [[p.customer, p.currency, p.amount, p.due.astimezone(zone).date()] for p in report.payments_overdue])
    sheet("reports.sheet_won", [tr("reports.col_day"), tr("reports.col_currency"), tr("reports.col_amount")],
          [[b.day, currency, amount] for b in report.won_over_time for currency, amount in b.won])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _title(text: str) -> str:
    return "".join(ch for ch in text if ch not in "[]:*?/\\")[:31] or "-"


def _rows(sheet: Any, header: list[str], rows: Sequence[Sequence[Any]]) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    for index, title in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, len(title) * 2 + 2)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if hasattr(cell.value, "year"):
                cell.number_format = "yyyy-mm-dd"
