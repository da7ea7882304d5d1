"""Follow-up use cases: done, snooze, reschedule to a typed time, /todo, /done N, /status, the card, App Home.

Stable numbers: the list a member was shown (`todo_shown`) is remembered per member and chat (its ids in
order, in a chat-state row of its own, kept SHOWN_HOURS); `/done N` closes the N-th of that list, not of
the list as it is now, so sending it twice closes one follow-up once ("already done" the second time).

A button carries the due minute of the card it was drawn on (`card_stamp`): a press on a card whose
follow-up was moved since changes nothing (`stale`) and the result says where it is now.
Every result holds views (core.usecases.views, core.usecases.followup_cards), never rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import col, select

from core.delivery import FailureKind
from core.events import FollowUpsChanged
from core.models import ChatState, FollowUp, FollowUpStatus
from core.scheduling.snoozes import EXPLICIT_SNOOZES, snooze_until, typed_time
from core.services import customers as customer_service
from core.services import followups, teams
from core.services.actor import Actor
from core.services.errors import NotFound
from core.uow import UnitOfWork
from core.usecases.followup_cards import (
    NudgeCard,
    Problem,
    card_stamp,
    customer_of,
    follow_up_view,
    nudge_card,
    problems_of,
)
from core.usecases.views import CustomerRef, FollowUpView

TODO_SHOWN = 10
SHOWN_HOURS = 12  # how long a shown list's numbers hold
SHOWN_KIND = "todo_shown"
OVERDUE_CARDS = 3

# "moved": done as asked; "unchanged": it was already there (a repeated press); "closed": done or cancelled;
# "stale": the card is older than the follow-up's last move; "unknown": not a snooze choice;
# "bad" / "past": the typed text names no time / only past times
Moved = Literal["moved", "unchanged", "closed", "stale", "unknown", "bad", "past"]


@dataclass(frozen=True, slots=True)
class Completed:
    follow_up: FollowUpView
    changed: bool  # False: it was already done or cancelled


@dataclass(frozen=True, slots=True)
class MoveResult:
    outcome: Moved
    follow_up: FollowUpView  # as it is now (moved: at its new time)


@dataclass(frozen=True, slots=True)
class Opened:
    """A follow-up as a button found it: `open`, `closed`, or `stale` (the card is older than its last move)."""

    state: Literal["open", "closed", "stale"]
    follow_up: FollowUpView


def _row(uow: UnitOfWork, actor: Actor, follow_up_id: int) -> FollowUp:
    return followups.get_own(uow.session, actor, follow_up_id)  # NotFound when not theirs


def _view(uow: UnitOfWork, follow_up: FollowUp) -> FollowUpView:
    return follow_up_view(follow_up, customer_of(uow.session, follow_up))


def _state(follow_up: FollowUp, drawn_for: str | None) -> Literal["open", "closed", "stale"]:
    if follow_up.status not in followups.OPEN:
        return "closed"
    if drawn_for is not None and drawn_for != card_stamp(follow_up.due_at):
        return "stale"
    return "open"


def open_follow_up(uow: UnitOfWork, actor: Actor, follow_up_id: int, drawn_for: str | None = None) -> Opened:
    """The follow-up a button or an awaited answer is about, and whether it may still be acted on."""
    follow_up = _row(uow, actor, follow_up_id)
    return Opened(_state(follow_up, drawn_for), _view(uow, follow_up))


def complete(uow: UnitOfWork, actor: Actor, now: datetime, follow_up_id: int) -> Completed:
    follow_up, changed = followups.complete(uow.session, actor, follow_up_id)
    return Completed(_view(uow, follow_up), changed)


def _move(uow: UnitOfWork, actor: Actor, follow_up: FollowUp, due: datetime, *, explicit: bool,
          action: str) -> MoveResult:
    moved, changed = followups.snooze(uow.session, actor, follow_up.id or 0, due, explicit_time=explicit,
                                      action=action)
    if changed:
        uow.publish(FollowUpsChanged())
    return MoveResult("moved" if changed else "unchanged", _view(uow, moved))


def snooze(uow: UnitOfWork, actor: Actor, now: datetime, follow_up_id: int, choice: str,
           drawn_for: str | None = None) -> MoveResult:
    """Snooze for an hour ("1h"), to tomorrow's ("tm") or next week's ("nw") working morning."""
    follow_up = _row(uow, actor, follow_up_id)
    if (state := _state(follow_up, drawn_for)) != "open":
        return MoveResult(state, _view(uow, follow_up))
    until = snooze_until(choice, now, teams.member_row(uow.session, actor.member_id))
    if until is None:
        return MoveResult("unknown", _view(uow, follow_up))
    return _move(uow, actor, follow_up, until, explicit=choice in EXPLICIT_SNOOZES, action="snooze")


def reschedule(uow: UnitOfWork, actor: Actor, now: datetime, follow_up_id: int, text: str,
               drawn_for: str | None = None) -> MoveResult:
    """Move to the time typed in `text`; "bad" / "past" when it names no future time (ask again)."""
    follow_up = _row(uow, actor, follow_up_id)
    if (state := _state(follow_up, drawn_for)) != "open":
        return MoveResult(state, _view(uow, follow_up))
    typed = typed_time(text, now, actor.timezone)
    if typed.at is None or typed.at <= now:
        return MoveResult("past" if typed.only_past else "bad", _view(uow, follow_up))
    return _move(uow, actor, follow_up, typed.at, explicit=typed.explicit_time, action="reschedule")


def card(uow: UnitOfWork, actor: Actor, follow_up_id: int) -> NudgeCard:
    """The full card of one of the actor's follow-ups (as a nudge shows it)."""
    follow_up = _row(uow, actor, follow_up_id)
    return nudge_card(uow.session, follow_up, teams.member_row(uow.session, actor.member_id))


def todo(uow: UnitOfWork, actor: Actor, limit: int = TODO_SHOWN) -> list[FollowUpView]:
    """The actor's open follow-ups, soonest first (the /todo list, numbered from 1)."""
    return [follow_up_view(f, c) for f, c in followups.open_for(uow.session, actor, limit=limit)]


def todo_shown(uow: UnitOfWork, actor: Actor, now: datetime, chat: str,
               limit: int = TODO_SHOWN) -> list[FollowUpView]:
    """`todo`, remembering the list as shown in `chat` so that its numbers keep meaning these follow-ups."""
    items = todo(uow, actor, limit=limit)
    session = uow.session
    key = _shown_key(chat)
    row = _shown_row(uow, actor, chat) or ChatState(team_id=actor.team_id, member_id=actor.member_id, chat=key,
                                                    kind=SHOWN_KIND, expires_at=now)
    row.kind, row.payload = SHOWN_KIND, {"ids": [item.id for item in items]}
    row.expires_at = now + timedelta(hours=SHOWN_HOURS)
    session.add(row)
    session.flush()
    return items


def _shown_key(chat: str) -> str:
    return f"{chat}#todo"  # its own row: an awaited answer in the chat does not replace the shown list


def _shown_row(uow: UnitOfWork, actor: Actor, chat: str) -> ChatState | None:
    return uow.session.exec(select(ChatState).where(ChatState.member_id == actor.member_id,
                                                    ChatState.chat == _shown_key(chat))).first()


def shown_ids(uow: UnitOfWork, actor: Actor, now: datetime, chat: str) -> list[int] | None:
    """The ids of the list last shown in `chat`, in order; None when none is shown (or it expired)."""
    row = _shown_row(uow, actor, chat)
    if row is None or row.kind != SHOWN_KIND or row.expires_at <= now:
        return None
    return [int(i) for i in row.payload.get("ids") or []]


@dataclass(frozen=True, slots=True)
class DoneByNumber:
    """`done`: closed now; `already_done`: closed before (a repeat); `usage`: no such number on the list;
    `no_list`: no list was shown (show it first)."""

    outcome: Literal["done", "already_done", "usage", "no_list"]
    shown: int  # how many the shown list has
    follow_up: FollowUpView | None = None


_HAN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
               "八": 8, "九": 9}


def list_number(text: str) -> int | None:
    """A list number as members type it: `3`, full-width `３`, other decimal digits (`٣`), `三`, `十二`, `第3`,
    `#3`, `3.`; None for anything else (`²`, `1.5`, `-1`, words), so the caller refuses it politely."""
    text = text.strip().removeprefix("第").removeprefix("#").removeprefix("＃").removesuffix(".").removesuffix("。")
    text = text.removesuffix("個").removesuffix("个").removesuffix("項").removesuffix("项").strip()
    if text and len(text) <= 6 and text.isdecimal():  # isdecimal: ３ and ٣ yes, ² and ½ no
        return int(text)
    if not text or len(text) > 3 or any(ch not in _HAN_DIGITS and ch != "十" for ch in text):
        return None
    tens, _, ones = text.partition("十")
    if "十" not in text:
        return _HAN_DIGITS[text] if len(text) == 1 else None
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (_HAN_DIGITS[tens] if tens else 1) * 10 + (_HAN_DIGITS[ones] if ones else 0)


def done_by_number(uow: UnitOfWork, actor: Actor, now: datetime, number: str, chat: str) -> DoneByNumber:
    """`/done N`: close the N-th follow-up of the list shown in `chat`."""
    ids = shown_ids(uow, actor, now, chat)
    if not ids:  # nothing shown yet, or an empty list shown: show the list as it is now
        return DoneByNumber("no_list", 0)
    wanted = list_number(number)
    if wanted is None or not 1 <= wanted <= len(ids):
        return DoneByNumber("usage", len(ids))
    try:
        follow_up, changed = followups.complete(uow.session, actor, ids[wanted - 1])
    except NotFound:
        return DoneByNumber("usage", len(ids))
    if changed:
        uow.publish(FollowUpsChanged())
    return DoneByNumber("done" if changed else "already_done", len(ids), _view(uow, follow_up))


@dataclass(frozen=True, slots=True)
class StatusSummary:
    """/status: counts, the next one due, the delivery problems with their kinds, the overdue cards."""

    pending: int
    overdue: int
    failed: int
    uncertain: int
    next_due: FollowUpView | None
    problems: tuple[Problem, ...]
    overdue_cards: tuple[NudgeCard, ...]

    @property
    def paused(self) -> bool:
        """A chat refused the bot: reminders wait until the member writes again."""
        return any(p.kind is FailureKind.unreachable for p in self.problems if not p.uncertain)


def status(uow: UnitOfWork, actor: Actor, now: datetime, shown_problems: int = 5) -> StatusSummary:
    session = uow.session
    rows = session.exec(select(FollowUp).where(FollowUp.member_id == actor.member_id,
                                               col(FollowUp.status).in_(followups.OPEN))
                        .order_by(col(FollowUp.due_at))).all()
    pending = [f for f in rows if f.status != FollowUpStatus.sent.value]
    overdue = [f for f in rows if f.due_at < now]
    problems = problems_of(session, actor.member_id, now)
    upcoming = next((f for f in pending if f.due_at >= now), None)
    member = teams.member_row(session, actor.member_id)
    return StatusSummary(
        pending=len(pending), overdue=len(overdue),
        failed=sum(1 for p in problems if not p.uncertain), uncertain=sum(1 for p in problems if p.uncertain),
        next_due=_view(uow, upcoming) if upcoming is not None else None,
        problems=tuple(problems[:shown_problems]),
        overdue_cards=tuple(nudge_card(session, f, member) for f in overdue[:OVERDUE_CARDS]))


@dataclass(frozen=True, slots=True)
class HomeScreen:
    """The Slack App Home: open follow-ups and recent customers."""

    actor: Actor
    follow_ups: tuple[FollowUpView, ...]
    customers: tuple[CustomerRef, ...]


def home_screen(uow: UnitOfWork, platform: str, platform_user_id: str, *, follow_ups: int = 10,
                customers: int = 8) -> HomeScreen | None:
    """None for someone who is not a member (or no longer one: a removed member sees nothing)."""
    member = teams.member_for(uow.session, platform, platform_user_id)
    if member is None or not member.active:
        return None
    actor = Actor.of(member)
    return HomeScreen(actor, tuple(todo(uow, actor, limit=follow_ups)),
                      tuple(CustomerRef(c.id or 0, c.name)
                            for c in customer_service.list_customers(uow.session, actor, limit=customers)))
