"""/report [week|month|quarter] (報表 週 / 报表 月 …): the chart with an XLSX button, then the report text.

A salesperson gets their own figures, managers and owners the team per salesperson (core/usecases/reports).
The XLSX button (`rep:x:<period>:<0|1 past>`) sends the full report as a document.
"""

from __future__ import annotations

from bot.charts import report_chart
from bot.context import Ctx
from bot.report_files import XLSX_MIME, report_xlsx
from bot.report_text import period_label, report_text
from bot.router import button, command
from core.chat import Button, CommandIn, OutFile, Reply
from core.usecases import reports


@command("report")
def report(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    kind = reports.parse_period(ctx.incoming.args)
    if kind is None:
        return [Reply(ctx.t("reports.bad_period"))]
    return report_replies(ctx, kind)


def report_replies(ctx: Ctx, kind: reports.PeriodKind, *, past: bool = False) -> list[Reply]:
    result = reports.report_for(ctx.uow, ctx.actor, ctx.now, kind, past=past)
    text = report_text(result, ctx.language, ctx.t, tz=ctx.tz, past=past)
    if result.empty:
        return [Reply(text)]
    label = period_label(result, ctx.language, ctx.t, past=past)
    chart = report_chart(result, ctx.language, period_label=label)
    xlsx = Button(ctx.t("reports.btn_xlsx"), f"rep:x:{kind}:{int(past)}")
    return [Reply(ctx.t("reports.photo_caption", period=label),
                  image=OutFile(f"report-{kind}-{result.period.first_day.isoformat()}.png", chart.png, "image/png"),
                  buttons=((xlsx,),)),
            Reply(text)]


@button("rep")
def report_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    if len(parts) != 3 or parts[0] != "x" or parts[1] not in reports.PERIODS or parts[2] not in ("0", "1"):
        return [Reply(ctx.t("reports.bad_period"))]
    kind, past = reports.PERIOD_KINDS[parts[1]], parts[2] == "1"
    result = reports.report_for(ctx.uow, ctx.actor, ctx.now, kind, past=past)
    label = period_label(result, ctx.language, ctx.t, past=past)
    data = report_xlsx(result, ctx.language, ctx.t, tz=ctx.tz, past=past)
    name = f"{ctx.t('reports.xlsx_name')}-{kind}-{result.period.first_day.isoformat()}.xlsx"
    return [Reply(ctx.t("reports.xlsx_caption", period=label), file=OutFile(name, data, XLSX_MIME))]
