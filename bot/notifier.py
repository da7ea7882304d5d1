"""Renders nudges, digests, silent-customer alerts and weekly summaries; wires the scheduler's senders.

What is due, where it goes and what an outcome means is core's (core.scheduling.senders, core.delivery);
this module only turns the views of core.usecases.followup_cards into `Reply`s.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.commands import CommandForms
from bot.handover_messages import covering_note
from bot.i18n import t
from bot.render import esc, overdue_text, when
from core.chat import SLASH_COMMANDS, Button, CommandStyle, Reply
from core.ports import Clock, Messenger
from core.scheduling import Dispatcher, FollowUpScheduler
from core.scheduling.limits import platform_limits
from core.scheduling.senders import MemberChats, NoticeDelivery, NudgeDelivery
from core.scheduling.shared_limits import shared_pacer_for
from core.settings import Settings
from core.usecases.followup_cards import (
    Digest,
    DigestLine,
    NudgeCard,
    Recipient,
    SilentAlert,
    WeeklySummary,
    card_stamp,
)
from core.usecases.views import FollowUpView

MINUTE = timedelta(minutes=1)


def stamp(follow_up: Any) -> str:
    """The due minute a card was drawn for (see core.usecases.followup_cards.card_stamp)."""
    return card_stamp(follow_up.due_at)


def nudge_buttons(language: str, follow_up: FollowUpView) -> tuple[tuple[Button, ...], ...]:
    """Done / 1 h / tomorrow / next week / reschedule (/ the customer): for a follow-up view or row."""
    fid, st = follow_up.id, stamp(follow_up)
    rows = [(Button(t(language, "nudges.btn_done"), f"fu:done:{fid}"),
             Button(t(language, "nudges.btn_1h"), f"fu:snz:{fid}:1h:{st}"),
             Button(t(language, "nudges.btn_tomorrow"), f"fu:snz:{fid}:tm:{st}"),
             Button(t(language, "nudges.btn_next_week"), f"fu:snz:{fid}:nw:{st}")),
            (Button(t(language, "nudges.btn_reschedule"), f"fu:rs:{fid}:{st}"),)]
    customer_id = follow_up.customer.id if isinstance(follow_up, FollowUpView) and follow_up.customer \
        else getattr(follow_up, "customer_id", None)
    if customer_id:
        rows[1] += (Button(t(language, "nudges.btn_open"), f"c:open:{customer_id}"),)
    return tuple(rows)


def render_nudge(card: NudgeCard, now: datetime) -> Reply:
    """Customer, promised action, how overdue, the last interaction in one line, and the buttons."""
    follow_up, language, tz = card.follow_up, card.recipient.language, card.recipient.timezone
    name = esc(follow_up.customer.name) if follow_up.customer else t(language, "nudges.no_customer")
    lines = [t(language, "nudges.title", customer=name, action=esc(follow_up.action or t(language, "notes.follow_up")))]
    due = when(follow_up.due_at, tz=tz, language=language, now=now)
    overdue = overdue_text(follow_up.due_at, now, language) if now - follow_up.due_at >= MINUTE else ""
    lines.append(t(language, "nudges.due", due=due) + (f" · {overdue}" if overdue else ""))
    if card.last_at is not None:
        at = when(card.last_at, tz=tz, language=language, now=now)
        lines.append(t(language, "nudges.last", at=at, text=esc(card.last_text)))
    if card.late:
        lines.append(t(language, "nudges.held" if card.held else "nudges.late"))
    if card.owed is not None:  # issue 15: money to collect, closed by "received" (bot.handlers.deals)
        from bot.deal_proposals import money_text

        amount = money_text(*card.owed, language)
        lines.append(t(language, "deals.owed_nudge", amount=amount))
        received = ((Button(t(language, "deals.btn_received", amount=amount), f"pay:rcv:{follow_up.id}"),),)
        return Reply("\n".join(lines), buttons=nudge_buttons(language, follow_up) + received)
    return Reply("\n".join(lines), buttons=nudge_buttons(language, follow_up))


def digest(data: Digest, member: Recipient, now: datetime, commands: CommandForms | None = None) -> Reply | None:
    """Today's and overdue follow-ups, and nudges that could not be delivered (commands as written where it goes)."""
    language = member.language
    cmd = commands or CommandForms(SLASH_COMMANDS)
    lines = [t(language, "nudges.digest_title", n=data.total)]
    lines += [_digest_line(line, member, now) for line in data.lines]
    if data.total > len(data.lines):
        lines.append(t(language, "nudges.digest_more", n=data.total - len(data.lines), cmd=cmd))
    if data.undelivered:
        lines.append(t(language, "nudges.digest_undelivered", n=data.undelivered))
    lines.append(t(language, "nudges.digest_hint", cmd=cmd))
    return Reply("\n".join(lines))


def _digest_line(line: DigestLine, member: Recipient, now: datetime) -> str:
    language, follow_up = member.language, line.follow_up
    due = when(follow_up.due_at, tz=member.timezone, language=language, now=now)
    flag = " ⚠️" if line.overdue else ""
    if line.problem is not None:
        key = "nudges.uncertain_mark" if line.problem.uncertain else "nudges.undeliverable_mark"
        flag += " " + t(language, key)
    name = esc(follow_up.customer.name) if follow_up.customer else t(language, "nudges.no_customer")
    return f"• {due} <b>{name}</b> {esc(follow_up.action)}{flag}"


def weekly_summary(summary: WeeklySummary, member: Recipient, now: datetime,
                   commands: CommandForms | None = None) -> Reply:
    """Overdue follow-ups per salesperson of the manager's own team, then the past week's team report (the
    full report as XLSX from its button)."""
    if not summary.total:
        head = t(member.language, "nudges.weekly_none")
    else:
        lines = [t(member.language, "nudges.weekly_title", n=summary.total)]
        lines += [t(member.language, "nudges.weekly_line", name=esc(name), n=count) for name, count in summary.overdue]
        head = "\n".join(lines)
    if summary.report is None or summary.report.empty:
        return Reply(head)
    from bot.report_text import report_text

    cmd = commands or CommandForms(SLASH_COMMANDS)

    def tr(key: str, /, **values: object) -> str:
        return t(member.language, key, cmd=cmd, **values)

    body = report_text(summary.report, member.language, tr, tz=member.timezone, past=True)
    return Reply(f"{head}\n\n{body}", buttons=((Button(tr("reports.btn_xlsx"), "rep:x:week:1"),),))


def silent_alert(alert: SilentAlert, owner: Recipient, now: datetime) -> Reply:
    return Reply(t(owner.language, "nudges.silent", customer=esc(alert.customer.name), days=alert.quiet_days),
                 buttons=((Button(t(owner.language, "nudges.btn_open"), f"c:open:{alert.customer.id}"),),))


class NoticeTexts:
    """The notices' renderer for core.scheduling.senders (looks the functions up when called)."""

    def __init__(self, chats: MemberChats) -> None:
        self.chats = chats

    def commands_for(self, recipient: Recipient) -> CommandForms:
        """Commands as written on the platform the notice goes to (blocking: the senders render off the loop)."""
        target = self.chats.target(recipient.id)
        messenger = self.chats.messengers.get(target.platform) if target else None
        style = getattr(messenger, "command_style", None)
        return CommandForms(style if isinstance(style, CommandStyle) else SLASH_COMMANDS)

    def digest(self, data: Digest, recipient: Recipient, now: datetime) -> Reply | None:
        return digest(data, recipient, now, self.commands_for(recipient))

    def weekly(self, summary: WeeklySummary, recipient: Recipient, now: datetime) -> Reply:
        return weekly_summary(summary, recipient, now, self.commands_for(recipient))

    def silent(self, alert: SilentAlert, recipient: Recipient, now: datetime) -> Reply:
        return silent_alert(alert, recipient, now)


def create_scheduler(engine: Any, settings: Settings, messengers: dict[str, Messenger], clock: Clock,
                     **dispatcher_options: Any) -> FollowUpScheduler:
    """The scheduler with its nudge and notice senders (`engine`: the composition root's SQLAlchemy engine).

    The pacer is the process's one send limiter (bot.platforms gives it to the adapters too): on PostgreSQL shared
    by every process through the database (core.scheduling.shared_limits), on SQLite in-process."""
    chats = MemberChats(engine, messengers)
    sender = NudgeDelivery(engine, chats, clock, render_nudge, covering=covering_note)
    if "pacer" not in dispatcher_options:
        dispatcher_options["pacer"] = shared_pacer_for(engine, platform_limits(settings.telegram_max_messages_per_second))
    dispatcher = Dispatcher(engine, sender, clock, **dispatcher_options)
    notices = NoticeDelivery(engine, chats, clock, NoticeTexts(chats), pacer=getattr(dispatcher, "pacer", None))
    return FollowUpScheduler(dispatcher, notices, clock, interval=settings.dispatch_interval_seconds)
