"""`chatcrm report --period week|month|quarter [--member NAME] [--json] [--chart FILE.png] [--xlsx FILE.xlsx]`:
the report of the local owner's team (or one salesperson) on the local database, as text, JSON, a chart, a workbook.

`--json` prints exactly: {"period": {"start", "end"}, "members": [{"name", "visits", "calls", "meetings", "notes",
"follow_ups_done_on_time", "follow_ups_done_late", "follow_ups_overdue", "new_customers", "deals_won", "deals_lost",
"won": [{"currency", "amount"}]}], "pipeline": [{"stage", "deals", "amount": [...]}], "conversion": [{"from", "to",
"rate"}], "top_customers": [{"name", "won": [...], "share"}], "payments_overdue": [{"customer", "currency",
"amount", "due"}]} — stages by their stable key, amounts as numbers, times in ISO 8601 (UTC).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import typer

from core.usecases.reports import PERIOD_KINDS, Money, Report


def _fail(message: str) -> NoReturn:
    typer.echo(f"chatcrm report: {message}", err=True)
    raise typer.Exit(2)


def _number(amount: Decimal) -> int | float:
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _money(money: Money) -> list[dict[str, Any]]:
    return [{"currency": currency, "amount": _number(amount)} for currency, amount in money]


def report_json(report: Report) -> dict[str, Any]:
    return {
        "period": {"start": report.period.start.isoformat(), "end": report.period.end.isoformat()},
        "members": [{"name": m.name, "visits": m.visits, "calls": m.calls, "meetings": m.meetings, "notes": m.notes,
                     "follow_ups_done_on_time": m.follow_ups_done_on_time,
                     "follow_ups_done_late": m.follow_ups_done_late, "follow_ups_overdue": m.follow_ups_overdue,
                     "new_customers": m.new_customers, "deals_won": m.deals_won, "deals_lost": m.deals_lost,
                     "won": _money(m.won)} for m in report.members],
        "pipeline": [{"stage": s.key, "deals": s.deals, "amount": _money(s.amount)} for s in report.stages],
        "conversion": [{"from": c.from_key, "to": c.to_key, "rate": round(c.rate, 4)} for c in report.conversion],
        "top_customers": [{"name": c.name, "won": _money(c.won), "share": round(c.share, 4)}
                          for c in report.top_customers],
        "payments_overdue": [{"customer": p.customer, "currency": p.currency, "amount": _number(p.amount),
                              "due": p.due.isoformat()} for p in report.payments_overdue],
    }


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        period: str = typer.Option("month", "--period", help="week, month or quarter (the current one, to now)."),
        member: str = typer.Option(None, "--member", help="One salesperson's figures (by name)."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
        chart: Path = typer.Option(None, "--chart", help="Write the chart as a PNG file."),
        xlsx: Path = typer.Option(None, "--xlsx", help="Write the full report as an XLSX workbook."),
    ) -> None:
        """The sales report of the local team: activity, follow-ups, deals, funnel, top customers, payments."""
        from bot.charts import report_chart
        from bot.cli.local_import import as_local_owner
        from bot.i18n import t
        from bot.report_files import report_xlsx
        from bot.report_text import period_label, plain, report_text
        from core.settings import SettingsError, load_settings
        from core.usecases import reports

        kind = PERIOD_KINDS.get(period.strip().lower())
        if kind is None:
            _fail(f"unknown period {period!r}; expected week, month or quarter")
        try:
            settings = load_settings()
        except SettingsError as error:
            _fail(str(error))
        with as_local_owner(settings) as (crm, uow, actor):
            result = reports.report_for(uow, actor, crm.clock.now(), kind, member_name=member or None)
        if member and not result.members:
            _fail(f"no member named {member!r} in the team")
        language = actor.language

        def tr(key: str, /, **values: object) -> str:
            return t(language, key, **values)

        if chart is not None:
            label = period_label(result, language, tr)
            chart.write_bytes(report_chart(result, language, period_label=label).png)
        if xlsx is not None:
            xlsx.write_bytes(report_xlsx(result, language, tr, tz=actor.timezone))
        if as_json:
            typer.echo(json.dumps(report_json(result), ensure_ascii=False))
        else:
            typer.echo(plain(report_text(result, language, tr, tz=actor.timezone)))
