"""Kill runs (issue 17): the real `chatcrm run` killed with SIGKILL again and again while a mix of inputs arrive.

Shared by tests/e2e/telegram/test_sigkill.py and tests/e2e/slack/test_sigkill.py: the database both the bot process
and the test use, the process started and killed, the mix of inputs (`Mix`: notes, bursts of forwarded messages,
button presses on cards the bot sent) and the checks of what the database holds afterwards (`stored`).

The mix, for a total of N inputs: N/2 notes, spread round-robin over the members' chats; note i is plain, or has a
follow-up ("call back tomorrow": its card's "No follow-up" is pressed), or names no customer (its "which customer?"
card is answered with the member's customer), by `NOTE_KINDS[i % 5]`; the rest are forwarded messages in bursts of
2, 3 or 4 sent back to back, a burst per chat at most every `BURST_GAP` seconds (the bot's burst window is
`FORWARD_WINDOW`), so two bursts of one chat are distinct by the messages' own times. A press is sent once its card
reached the fake API (a card sent twice is pressed once).
"""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from core.db import make_engine, upgrade
from core.models import AuditEvent, ConversationMessage, FollowUp, InboxItem, Interaction, Member
from core.services import teams
from core.services.actor import Actor
from tests.conftest import drop_postgres, fresh_postgres
from tests.waiting import until

ROOT = Path(__file__).resolve().parents[2]
NOTE_KINDS = ("plain", "followup", "plain", "unfiled", "plain")
PRESSED = {"followup": "nf", "unfiled": "sc"}  # the note kinds whose card gets a press, and which button
CUSTOMERS = ("Acme", "Birch", "Cedar", "Delta")  # each member's own customer
FORWARD_WINDOW = 1.0  # FORWARD_BATCH_SECONDS of the bot process
BURST_GAP = 2.5  # seconds between two bursts of one chat (over the window, in send times and Telegram's whole seconds)
BURST_SIZES = (2, 3, 4)
TAG = re.compile(r"fw\d+-\d+")  # a forwarded message's tag in its text ("fw3-1": burst 3, its second message)
UNITS = re.compile(r"(\d[\d,]*) units")  # "📦 1,000 units" on a card, "wants 1000 units" quoted by "which customer?"


def units_of(text: str) -> set[int]:
    """The note numbers a card shows (note i wants i + 1 units)."""
    return {int(n.replace(",", "")) - 1 for n in UNITS.findall(text)}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """(URL, engine) of an empty migrated database the bot process and the test share."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/crm.db"
        engine = make_engine(url)
        upgrade(engine)
        yield url, engine
        engine.dispose()
        return
    engine, name = fresh_postgres(request.getfixturevalue("postgres_template"))
    yield engine.url.render_as_string(hide_password=False), engine
    engine.dispose()
    drop_postgres(name)


def one_team(engine: Engine, newcomers: list[teams.Newcomer]) -> None:
    """The first newcomer founds a team; the others join it by invitation."""
    with Session(engine) as session:
        owner = teams.found_team(session, newcomers[0])
        session.commit()
        for who in newcomers[1:]:
            invite = teams.create_invite(session, Actor.of(owner))
            teams.join(session, invite.code, who)
            session.commit()
        assert len(session.exec(select(Member)).all()) == len(newcomers)


class BotProcess:
    """`chatcrm run` in a subprocess with `env` (None: unset), killed and started again; its output in one log."""

    def __init__(self, env: dict[str, str | None], tmp_path: Path, *args: str) -> None:
        merged = {**os.environ, "DEFAULT_LANGUAGE": "en", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
                  "FORWARD_BATCH_SECONDS": str(FORWARD_WINDOW), **env}
        self.env = {key: value for key, value in merged.items() if value is not None}
        self.tmp_path, self.args = tmp_path, args
        self.log: IO[str] = (tmp_path / "bot.log").open("a")
        self.process = self._start()
        self.kills = 0
        self.kill_times: list[float] = []

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", "from bot.cli import main; main()", "run", *self.args],
                                cwd=self.tmp_path, env=self.env, stdout=self.log, stderr=self.log)

    def kill_and_restart(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.kills += 1
        self.kill_times.append(time.monotonic())
        self.process = self._start()

    async def kill_every(self, replies: Callable[[], int], kills: int, every: int = 8) -> None:
        """SIGKILL the process each time it has sent `every` more replies, `kills` times, restarting it each time."""
        for _ in range(kills):
            await until(partial(_reached, replies, replies() + every), 60)
            self.kill_and_restart()

    def stop(self) -> int:
        """SIGTERM; the exit code (waits up to 10 s)."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(10)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.log.close()


def _reached(count: Callable[[], int], target: int) -> bool:
    return count() >= target


@dataclass
class Note:
    number: int
    chat: str
    kind: str
    text: str


@dataclass
class Mix:
    """The inputs to send, and what was sent: `next_input` says what comes next (see the module's docstring)."""

    total: int
    chats: list[str]
    notes: list[Note] = field(default_factory=list)
    bursts: list[tuple[str, list[str]]] = field(default_factory=list)  # (chat, the texts of its messages)
    pressed: dict[int, str] = field(default_factory=dict)  # note number → the payload pressed on its card
    sent_notes: int = 0
    sent_bursts: int = 0
    burst_times: list[float] = field(default_factory=list)  # when each burst was sent (monotonic)
    _last_burst: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        count = self.total // 2
        for i in range(count):
            chat = self.chats[i % len(self.chats)]
            kind = NOTE_KINDS[i % len(NOTE_KINDS)]
            customer = CUSTOMERS[self.chats.index(chat) % len(CUSTOMERS)]
            text = (f"Talked to someone, order {i}: wants {i + 1} units" if kind == "unfiled"
                    else f"Visited {customer}, order {i}: wants {i + 1} units"
                    + (", call back tomorrow" if kind == "followup" else ""))
            self.notes.append(Note(i, chat, kind, text))
        forwards = self.total - count - self.presses
        b = 0
        while forwards > 0:
            size = min(BURST_SIZES[b % len(BURST_SIZES)], forwards)
            if forwards - size == 1:  # no burst of one at the end
                size += 1
            chat = self.chats[b % len(self.chats)]
            self.bursts.append((chat, [f"Customer line fw{b}-{j}: price list please" for j in range(size)]))
            forwards -= size
            b += 1

    @property
    def presses(self) -> int:
        return sum(n.kind in PRESSED for n in self.notes)

    @property
    def forwards(self) -> int:
        return sum(len(texts) for _, texts in self.bursts)

    @property
    def pace(self) -> float:
        """Seconds between two sends, so the notes are spread over the time the bursts need (their gaps)."""
        spread = math.ceil(len(self.bursts) / len(self.chats)) * BURST_GAP
        return max(0.01, spread / max(1, len(self.notes) + self.presses + len(self.bursts)))

    def done(self) -> bool:
        return (self.sent_notes == len(self.notes) and self.sent_bursts == len(self.bursts)
                and len(self.pressed) == self.presses)

    def next_input(self, cards: dict[int, list[tuple[str, str]]]) -> tuple[str, Any] | None:
        """("press", (note, payload)), ("burst", (chat, texts)), ("note", note), or None when nothing is due now.

        `cards`: note number → the buttons (label, payload) of the cards the bot sent for it."""
        for note in self.notes[:self.sent_notes]:
            if note.kind in PRESSED and note.number not in self.pressed and note.number in cards:
                payload = press_payload(note, cards[note.number])
                if payload is not None:
                    self.pressed[note.number] = payload
                    return "press", (note, payload)
        if self.sent_bursts < len(self.bursts):
            chat, texts = self.bursts[self.sent_bursts]
            if time.monotonic() - self._last_burst.get(chat, -math.inf) >= BURST_GAP:
                self._last_burst[chat] = time.monotonic()
                self.burst_times.append(time.monotonic())
                self.sent_bursts += 1
                return "burst", (chat, texts)
        if self.sent_notes < len(self.notes):
            self.sent_notes += 1
            return "note", self.notes[self.sent_notes - 1]
        return None

    def customer_of(self, chat: str) -> str:
        return CUSTOMERS[self.chats.index(chat) % len(CUSTOMERS)]


def press_payload(note: Note, buttons: list[tuple[str, str]]) -> str | None:
    """The button to press on `note`'s card: "No follow-up", or the member's customer on "which customer?"."""
    if note.kind == "followup":
        return next((p for _, p in buttons if p.startswith("n:nf:")), None)
    choices = [(label, p) for label, p in buttons if p.startswith("n:sc:")]
    return next((p for label, p in choices if label in CUSTOMERS), choices[0][1] if choices else None)


@dataclass
class Stored:
    """What the database holds of the mix (`stored`)."""

    notes: Counter[int]  # note number → live interactions with its text
    forwards: Counter[str]  # forwarded text → conversation messages holding it
    burst_records: list[set[int]]  # per burst: the records its messages are in
    merged: int  # records holding messages of more than one burst
    press_effects: dict[int, tuple[bool, int]]  # pressed note → (its effect is there, audit events of it)
    open_inbox: int
    inbox_rows: int
    records: dict[int, set[str]] = field(default_factory=dict)  # forwarded record → the tags of its messages

    @property
    def split(self) -> int:
        return sum(len(records) > 1 for records in self.burst_records)


def stored(engine: Engine, mix: Mix) -> Stored:
    with Session(engine) as session:
        notes: Counter[int] = Counter()
        ids: dict[str, int] = {}
        for interaction_id, text in session.exec(select(Interaction.id, Interaction.text).where(
                Interaction.deleted_at.is_(None), Interaction.kind != "forwarded")).all():  # type: ignore[union-attr]
            if (m := re.search(r"order (\d+):", text)) is not None:
                notes[int(m.group(1))] += 1
                ids[text] = interaction_id or 0
        forwards: Counter[str] = Counter()
        record_of: dict[str, set[int]] = defaultdict(set)
        records: dict[int, set[str]] = defaultdict(set)
        for text, interaction_id in session.exec(select(ConversationMessage.text, ConversationMessage.interaction_id)):
            forwards[text] += 1
            record_of[text].add(interaction_id)
            records[interaction_id].update(TAG.findall(text))
        burst_records = [set().union(*(record_of.get(t, set()) for t in texts)) for _, texts in mix.bursts]
        bursts_in: Counter[int] = Counter(r for records in burst_records for r in records)
        effects: dict[int, tuple[bool, int]] = {}
        for note in mix.notes:
            iid = ids.get(note.text)
            if note.number not in mix.pressed or iid is None:
                continue
            if note.kind == "followup":
                follow_up = session.exec(select(FollowUp).where(FollowUp.source_interaction_id == iid)).first()
                done = follow_up is not None and follow_up.status == "cancelled"
                audits = session.exec(select(func.count()).select_from(AuditEvent).where(
                    AuditEvent.action == "cancel", AuditEvent.entity == "followup",
                    AuditEvent.entity_id == (follow_up.id if follow_up else -1))).one()
            else:
                chosen = int(mix.pressed[note.number].split(":")[3])
                interaction = session.get(Interaction, iid)
                done = interaction is not None and interaction.customer_id == chosen
                audits = session.exec(select(func.count()).select_from(AuditEvent).where(
                    AuditEvent.action == "file", AuditEvent.entity == "interaction",
                    AuditEvent.entity_id == iid)).one()
            effects[note.number] = (done, audits)
        open_inbox = session.exec(select(func.count()).select_from(InboxItem).where(InboxItem.status != "done")).one()
        inbox_rows = session.exec(select(func.count()).select_from(InboxItem)).one()
    return Stored(notes, forwards, burst_records, sum(n > 1 for n in bursts_in.values()), effects, open_inbox,
                  inbox_rows, dict(records))


def settled(engine: Engine, mix: Mix, answered: set[int]) -> bool:
    """Everything sent is stored, every pressed card's effect is there, no inbox row open, every note answered."""
    if not mix.done() or not answered >= {n.number for n in mix.notes}:
        return False
    found = stored(engine, mix)
    return (not found.open_inbox and len(found.notes) == len(mix.notes)
            and sum(found.forwards.values()) >= mix.forwards
            and all(done for done, _ in found.press_effects.values()) and len(found.press_effects) == mix.presses)


def open_rows(engine: Engine) -> list[str]:
    """The inbox rows not done (pending, processing, parked), described for a failure message."""
    with Session(engine) as session:
        rows = session.exec(select(InboxItem).where(InboxItem.status != "done").order_by(InboxItem.id)).all()
        return [f"{r.key} {r.status} attempts={r.attempts} error={r.last_error!r} "
                f"{str(r.payload)[:300]}" for r in rows]


def assert_each_once(found: Stored, mix: Mix) -> None:
    """Every note, forwarded message and press stored exactly once; no inbox row left open."""
    assert sorted(found.notes) == [n.number for n in mix.notes]  # every note stored…
    assert set(found.notes.values()) == {1}  # …exactly once
    sent = [t for _, texts in mix.bursts for t in texts]
    assert sorted(found.forwards) == sorted(sent) and set(found.forwards.values()) == {1}  # each forward once
    assert all(records for records in found.burst_records)  # every burst in some record
    assert len(found.press_effects) == mix.presses
    assert {number: effect for number, effect in found.press_effects.items() if effect != (True, 1)} == {}
    assert found.open_inbox == 0


def unsummarised(found: Stored, texts: list[str]) -> set[int]:
    """The forwarded records no summary was sent for ("📨 Saved n forwarded messages…" quoting the record's first
    line, so one of its tags)."""
    shown = {tag for text in texts if "forwarded" in text for tag in TAG.findall(text)}
    return {record for record, tags in found.records.items() if not tags & shown}


def card_duplicates(texts: list[tuple[str, str]]) -> int:
    """Cards (chat, text) showing a note that reached the platform more than once (a kill between the platform's
    200 and the outbox's mark sends that one again)."""
    counts = Counter(t for t in texts if UNITS.search(t[1]))
    return sum(n - 1 for n in counts.values())
