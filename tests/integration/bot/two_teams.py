"""Two companies on one deployment, side by side: the same script played in both teams (same customer name
大同五金 in each), every reply and every message the bot sent on its own kept, so a test can press the other
team's buttons or look for the other team's words."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import SQLModel, col, select

from core.chat import Reply
from core.db import session_scope
from core.models import ChatIdentity, ChatState, Member
from tests.conversation import Chat

SHARED_NAME = "大同五金"  # a customer of both teams
CHAT_EXPORT = ("2026/11/16 下午3:05 - {sales}: {contact}您好,A100 的報價收到了\n"
               "2026/11/16 下午3:10 - {contact}: 好的,我們下週五前交貨\n")


@dataclass(frozen=True)
class Cast:
    """Who is in a team and the words only that team's data holds."""

    key: str
    owner: str
    sales: str
    sales2: str
    contact: str  # the contact at 大同五金
    own_customer: str  # a customer only this team has
    units: int  # a quantity only this team's notes mention

    @property
    def markers(self) -> tuple[str, ...]:
        """Words that must never reach the other team."""
        return (self.owner, self.sales, self.sales2, self.contact, self.own_customer, f"{self.units}")


CAST_A = Cast("a", "Amy Lin", "陳小姐", "Bob Wu", "王經理", "宏達電", 314)
CAST_B = Cast("b", "Quentin Zhao", "Xenia Qiu", "Yorick Pfaff", "Zorro Lee", "鑫磊科技", 919)


@dataclass
class Team:
    cast: Cast
    owner: Chat
    sales: Chat
    sales2: Chat
    replies: list[Reply] = field(default_factory=list)  # every answer any of them got

    @property
    def chats(self) -> tuple[Chat, Chat, Chat]:
        return self.owner, self.sales, self.sales2

    def chat_ids(self) -> set[str]:
        return {f"dm-{chat.user_id}" for chat in self.chats}

    async def say(self, chat: Chat, text: str) -> list[Reply]:
        replies = await chat.say(text)
        self.replies.extend(replies)
        return replies

    async def press(self, chat: Chat, label: str, reply: Reply | None = None) -> list[Reply]:
        replies = await chat.press(label, reply)
        self.replies.extend(replies)
        return replies


def code_in(replies: list[Reply]) -> str:
    return replies[0].text.split("<code>")[1].split("</code>")[0]


async def settled(timeout: float = 10.0) -> None:
    """Every task the bot started in the background (forward summaries, access requests, Tells) has finished."""
    others = asyncio.all_tasks() - {asyncio.current_task()}
    if others:
        _, pending = await asyncio.wait(others, timeout=timeout)
        assert not pending, f"still running after {timeout} s: {pending}"


async def found(app, cast: Cast, *, workspace: str | None = None, platform: str = "test") -> Team:
    """The owner founds the team (needs OPEN_SIGNUP for a second team without a workspace); two salespeople
    join with invites."""
    owner = Chat(app, f"{cast.key}-owner", cast.owner, "en", platform=platform, workspace_id=workspace)
    founded = await owner.say("/start")
    assert "You created the team" in founded[0].text, founded[0].text
    chats = []
    for user, name in ((f"{cast.key}-sales", cast.sales), (f"{cast.key}-sales2", cast.sales2)):
        chat = Chat(app, user, name, "en", platform=platform, workspace_id=workspace)
        joined = await chat.say(f"/start {code_in(await owner.say('/invite'))}")
        assert "You joined" in joined[0].text, joined[0].text
        chats.append(chat)
    return Team(cast, owner, chats[0], chats[1])


async def play(app, team: Team) -> None:
    """The same day in each team: notes, a colleague's customer, access asked, deals, a payment, a contact, a
    chat export, an edit, the lists, the report; every button kind shows up in `team.replies` or in what the
    bot sent."""
    cast, owner, sales, sales2 = team.cast, team.owner, team.sales, team.sales2
    await team.say(sales, f"拜訪{SHARED_NAME},{cast.contact}要報價 {cast.units} 台,明天跟進")
    await team.say(sales, f"拜訪{cast.own_customer},談新產品線,下週三回覆")
    await team.say(sales2, f"{SHARED_NAME} {cast.contact} called about the delivery date, follow up Friday")
    await team.press(sales2, "Ask for access")  # 🔒 a colleague's customer: the owner is asked (ac:ok / ac:no)
    await team.say(owner, f"/c {SHARED_NAME}")
    await team.press(owner, "⋯")  # merge / rename / delete (ca:…)
    await team.say(owner, f"/deal {SHARED_NAME} {cast.units} units US$12,000")
    await team.say(owner, "/pipeline")
    await team.say(owner, "/stages")
    await team.say(sales, f"{cast.own_customer} 尾款 3 萬 還沒收到,週五再催")  # a payment (pay:rcv on the card)
    await team.say(sales, f"/c {cast.own_customer}")
    await team.say(sales, f"{SHARED_NAME} 談成了 {cast.units} 台,報價 50 萬")  # a deal proposal (dp:…)
    await team.say(sales, "/todo")
    await team.say(sales, "/customers")
    await team.say(owner, "/report week")
    await team.say(owner, "/lang")
    team.replies.extend(await sales.contact(cast.contact, "+886912345678"))  # which customer? (k:…)
    messenger = app.messengers[sales.platform]
    messenger.files[f"export-{cast.key}"] = CHAT_EXPORT.format(sales=cast.sales, contact=cast.contact).encode()
    team.replies.extend(await sales.file(f"WhatsApp Chat with {cast.contact}.txt", f"export-{cast.key}"))
    note = next(reply for reply in team.replies if any(p.startswith("n:ed:") for p in payloads(reply)))
    await team.press(sales, next(p for p in payloads(note) if p.startswith("n:ed:")), note)  # cancel (w:x:…)
    await team.say(sales, "/find 報價")
    for n in range(4):  # enough events for a second page of /history (its Older button, hi:…)
        await team.say(owner, f"打電話給{SHARED_NAME}，確認第{n + 1}批交期")
    history = await team.say(owner, f"/history {SHARED_NAME}")
    older = [p for reply in history for p in payloads(reply) if p.startswith("hi:")]
    if older:
        await team.press(owner, older[0], history[-1])
    offer = await team.say(owner, "/handover")  # choose whose customers, then the receiver (ho:…); not handed over
    for _ in range(2):
        if not offer or not offer[-1].buttons or offer[-1].buttons[0][0].payload.startswith("ho:go"):
            break
        offer = await team.press(owner, offer[-1].buttons[0][0].payload, offer[-1])
    await team.say(owner, f"/export {SHARED_NAME}")
    await team.say(owner, f"/erase {cast.own_customer}")  # asks for a reason, then to confirm (pv:y:…); not confirmed
    if awaiting(app.engine, owner):
        await team.say(owner, "客戶要求刪除個資")
    await team.say(owner, "/pool on 30")
    roster = await team.say(owner, "/team")
    if roster and roster[-1].buttons:  # a change asks to confirm (tm:ok:…); not confirmed here
        await team.press(owner, roster[-1].buttons[0][0].payload, roster[-1])
    await settled()


async def next_morning(app, settings, clock) -> None:
    """Thursday 09:30 in Taipei: the follow-ups due at 09:00 nudge, the 08:30 digests go out."""
    from bot.notifier import create_scheduler

    clock.current = datetime(2026, 11, 19, 1, 30, tzinfo=UTC)
    scheduler = create_scheduler(app.engine, settings, app.messengers, app.clock, pacer=None)
    await scheduler.dispatch()
    await scheduler.send_notices()


async def pool_later(app, clock, *teams: Team) -> None:
    """Forty quiet days later the customers are back in each team's pool (`/pool on 30`); the owners look."""
    from core.uow import unit_of_work
    from core.usecases import customer_pool

    for days in (28, 12):  # the owner is warned first, then the customers return
        clock.current += timedelta(days=days)
        with unit_of_work(app.engine) as uow:
            customer_pool.run(uow, clock.now())
    for team in teams:
        await team.say(team.owner, "/pool")
    await settled()


def payloads(reply: Reply) -> list[str]:
    return [button.payload for row in reply.buttons for button in row]


def sent_to(app, team: Team) -> list[Reply]:
    """What the bot sent on its own into the team's private chats (nudges, digests, access requests, summaries)."""
    chats = team.chat_ids()
    return [reply for messenger in app.messengers.values() for to, reply in messenger.sent if to.chat_id in chats]


def team_id_of(engine, chat: Chat) -> int:
    with session_scope(engine) as session:
        member = session.exec(select(Member).join(ChatIdentity, ChatIdentity.member_id == Member.id)
                              .where(ChatIdentity.platform_user_id == chat.user_id)).one()
        return member.team_id


def awaiting(engine, chat: Chat) -> bool:
    """The bot waits for something typed in this member's chat (a name, a date, a reason)."""
    with session_scope(engine) as session:
        member_ids = select(ChatIdentity.member_id).where(ChatIdentity.platform_user_id == chat.user_id)
        return session.exec(select(ChatState.id).where(col(ChatState.member_id).in_(member_ids))).first() is not None


def team_rows(engine, team_id: int) -> dict[str, list[tuple]]:
    """Every row of the team in every table that carries a team id (plus the team itself), as plain values."""
    snapshot: dict[str, list[tuple]] = {}
    with session_scope(engine) as session:
        for table in SQLModel.metadata.sorted_tables:
            if table.name == "team":
                where = table.c.id == team_id
            elif "team_id" in table.c:
                where = table.c.team_id == team_id
            else:
                continue
            rows = session.connection().execute(table.select().where(where).order_by(*table.primary_key.columns))
            snapshot[table.name] = [tuple(_plain(value) for value in row) for row in rows]
    return snapshot


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value


def tables_without_team() -> list[str]:
    """Tables holding no team id: the snapshot cannot see them (the test names them so a new one is noticed)."""
    return sorted(table.name for table in SQLModel.metadata.sorted_tables
                  if "team_id" not in table.c and table.name != "team")


def leaks(texts: list[str], cast: Cast) -> list[str]:
    """The other team's words found in these texts; its units only as a number of their own (not the digits
    inside a timestamp, an id or a hash of an export)."""
    units = re.compile(rf"(?<![\w.:+-]){cast.units}(?![\w.])")
    return [f"{marker!r} in {text[:200]!r}" for text in texts for marker in cast.markers
            if (units.search(text) if marker == f"{cast.units}" else marker in text)]

