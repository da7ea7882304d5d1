"""The report as chat text (and the pieces the chart, the XLSX and the weekly summary share).

`tr` is the catalogue lookup of the reader (`ctx.t`, or `bot.i18n.t` bound to a language), so commands in
messages come out in the form of the platform the report goes to.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from bot.i18n import babel_locale
from bot.render import esc, when
from core.usecases.reports import Money, Report

Translate = Callable[..., str]
TAGS = re.compile(r"</?(b|i|code|a)(\s[^>]*)?>")
MAX_MEMBERS_IN_TEXT = 15  # more salespeople: the most active ones in the text, everyone in the XLSX


def amount_text(currency: str, amount: Decimal, language: str) -> str:
    """NT$150,000 / US$12,000.50 (exact: a Decimal, round sums without cents)."""
    locale = babel_locale(language)
    if not currency:
        return format_decimal(amount, locale=locale)
    if amount == amount.to_integral_value():
        pattern = locale.currency_formats["standard"].pattern.split(";")[0].replace(".00", "")
        return format_currency(amount, currency, pattern, locale=locale, currency_digits=False)
    return format_currency(amount, currency, locale=locale)


def money_text(money: Money, language: str) -> str:
    return " + ".join(amount_text(currency, amount, language) for currency, amount in money) or "0"


def period_label(report: Report, language: str, tr: Translate, *, past: bool = False) -> str:
    period = report.period
    locale = babel_locale(language)
    kind = tr(f"reports.kind_{'past_' if past else ''}{period.kind}")
    start = format_date(period.first_day, "medium", locale=locale)
    end = format_date(period.last_day, "medium", locale=locale)
    return tr("reports.period", kind=kind, start=start, end=end)


def stage_name(report: Report, key: str, language: str) -> str:
    return next((stage.name(language) for stage in report.stages if stage.key == key), key)


def report_text(report: Report, language: str, tr: Translate, *, tz: str, past: bool = False) -> str:
    """The whole report in a few blocks; an empty period says so kindly (never an error)."""
    lines = [tr("reports.title", period=esc(period_label(report, language, tr, past=past)))]
    if report.empty:
        lines.append(tr("reports.empty"))
        return "\n".join(lines)
    lines.append(tr("reports.team") if report.team_view else tr("reports.own"))
    people = sorted(report.members, key=lambda m: (-m.activity, -m.deals_won, m.name))
    for member in people[:MAX_MEMBERS_IN_TEXT]:
        lines.append("")
        if report.team_view:
            lines.append(tr("reports.member", name=esc(member.name)))
        lines.append(tr("reports.activity", visits=member.visits, calls=member.calls, meetings=member.meetings,
                        notes=member.notes))
        lines.append(tr("reports.followups", on_time=member.follow_ups_done_on_time,
                        late=member.follow_ups_done_late, overdue=member.follow_ups_overdue))
        lines.append(tr("reports.customers_deals", customers=member.new_customers, created=member.deals_created,
                        won=member.deals_won, lost=member.deals_lost))
        if member.won:
            lines.append(tr("reports.won_amount", amount=money_text(member.won, language)))
    if len(people) > MAX_MEMBERS_IN_TEXT:
        lines.append(tr("reports.more_members", count=len(people) - MAX_MEMBERS_IN_TEXT))
    if any(stage.deals for stage in report.stages):
        lines += ["", tr("reports.pipeline_title")]
        for stage in report.stages:
            amount = f" · {money_text(stage.amount, language)}" if stage.amount else ""
            lines.append(tr("reports.stage_line", stage=esc(stage.name(language)), deals=tr("reports.deals", n=stage.deals),
                            amount=amount))
    if any(c.rate for c in report.conversion):
        lines += ["", tr("reports.conversion_title")]
        for conversion in report.conversion:
            lines.append(tr("reports.conversion_line", source=esc(stage_name(report, conversion.from_key, language)),
                            target=esc(stage_name(report, conversion.to_key, language)),
                            rate=f"{conversion.rate * 100:.0f}"))
    timed = [stage for stage in report.stages if stage.average_days is not None]
    if timed:
        lines += ["", tr("reports.days_title")]
        for stage in timed:
            assert stage.average_days is not None
            lines.append(tr("reports.days_line", stage=esc(stage.name(language)),
                            avg=format_decimal(round(stage.average_days, 1), locale=babel_locale(language))))
    if report.top_customers:
        lines += ["", tr("reports.top_title")]
        for rank, customer in enumerate(report.top_customers, start=1):
            lines.append(tr("reports.top_line", rank=rank, name=esc(customer.name),
                            amount=money_text(customer.won, language), share=f"{customer.share * 100:.0f}"))
        if report.customers_for_80:
            lines.append(tr("reports.pareto", count=report.customers_for_80, total=report.won_customers))
    if report.silent:
        lines += ["", tr("reports.silent_title")]
        for silent in report.silent:
            if silent.quiet_days is None:
                lines.append(tr("reports.silent_never", name=esc(silent.name)))
            else:
                lines.append(tr("reports.silent_line", name=esc(silent.name), n=silent.quiet_days))
    if report.payments_overdue:
        lines += ["", tr("reports.payments_title")]
        for payment in report.payments_overdue:
            lines.append(tr("reports.payment_line", customer=esc(payment.customer),
                            amount=amount_text(payment.currency, payment.amount, language),
                            due=when(payment.due, tz=tz, language=language)))
    return "\n".join(lines)



def plain(markup: str) -> str:
    """The report text for a terminal: the chat markup taken out."""
    return html.unescape(TAGS.sub("", markup))
