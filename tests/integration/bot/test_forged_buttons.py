"""Forged callback data across teams, for EVERY button prefix in `bot.router.BUTTONS`.

Two teams play the same day (`two_teams.play`). Every button the bot showed or sent to team B (its real
payloads, naming B's customers, notes, follow-ups, deals, access requests, members) is pressed by team A's owner
and by A's salesperson, followed by a typed answer (a press that started waiting for text must not let the text
reach B's rows), and every button of the answer is pressed again. Afterwards every row of team B in every table
is as it was and no answer to A holds a word of B. A prefix registered without any harvested payload gets
generic forgeries (`prefix:verb:id` with every verb the bot uses and ids of B's rows), and the test names it so
the scenario can learn to show it.
"""

from __future__ import annotations

import itertools

import pytest

from bot.router import BUTTONS, split_payload
from core.chat import ButtonIn, Reply
from core.db import session_scope
from core.models import Customer, Deal, FollowUp, Interaction, Member
from core.settings import load_settings
from tests.conversation import Chat
from tests.integration.bot.two_teams import (
    CAST_A,
    CAST_B,
    awaiting,
    found,
    leaks,
    next_morning,
    payloads,
    play,
    pool_later,
    sent_to,
    settled,
    tables_without_team,
    team_id_of,
    team_rows,
)

_callbacks = itertools.count(1)
# tables whose rows carry no team id (the snapshot of B cannot see them); a new one must be looked at here
NO_TEAM_TABLES = ["inboxitem", "processedupdate", "sendslot"]  # update keys and send pacing, not team data


@pytest.fixture
def settings(tmp_path):
    return load_settings(tmp_path / "none.toml", default_timezone="Asia/Taipei", default_language="en",
                         forward_batch_seconds=0.05, import_spool_dir=str(tmp_path / "spool"), open_signup=True)


async def tap(chat: Chat, payload: str) -> list[Reply]:
    """A press on a button with this payload, whatever message it claims to be on."""
    return await chat.send(ButtonIn(chat.envelope(message_id="98"), payload, callback_id=f"forged{next(_callbacks)}"))


def words(replies: list[Reply]) -> list[str]:
    """Everything a member can read in the answers: texts, toasts, button labels, file names."""
    found: list[str] = []
    for reply in replies:
        found.append(reply.text)
        found.extend(text for text in (reply.notice, reply.private_unreachable) if text)
        found.extend(button.label for row in reply.buttons for button in row)
        found.extend(out.name for out in (reply.image, reply.file) if out is not None and getattr(out, "name", None))
    return found


def b_ids(engine, team_id: int) -> list[int]:
    """An id of each kind of B's rows (a forged payload names these)."""
    ids: set[int] = set()
    with session_scope(engine) as session:
        for model in (Customer, Interaction, FollowUp, Deal, Member):
            table = model.__table__  # type: ignore[attr-defined]
            rows = session.connection().execute(table.select().where(table.c.team_id == team_id).limit(1))
            ids.update(row.id for row in rows)
    return sorted(ids)


def generic_forgeries(prefix: str, verbs: set[str], ids: list[int]) -> list[str]:
    """Payloads of plausible shapes for a prefix no scenario showed."""
    forged = [f"{prefix}:{number}" for number in ids]
    for verb, number in itertools.product(sorted(verbs), ids):
        forged += [f"{prefix}:{verb}:{number}", f"{prefix}:{verb}:{number}:{number}"]
    return forged


async def test_team_a_pressing_team_bs_buttons_sees_and_changes_nothing_of_b(app, engine, clock, settings):
    a = await found(app, CAST_A)
    b = await found(app, CAST_B)
    await play(app, a)
    await play(app, b)
    await next_morning(app, settings, clock)
    await pool_later(app, clock, a, b)
    assert any(payloads(reply) for reply in sent_to(app, b)), "B got no nudge with buttons"

    harvested = sorted({p for reply in b.replies + sent_to(app, b) for p in payloads(reply)})
    by_prefix: dict[str, list[str]] = {}
    for payload in harvested:
        by_prefix.setdefault(split_payload(payload)[0], []).append(payload)
    team_b = team_id_of(engine, b.owner)
    ids = b_ids(engine, team_b)
    verbs = {split_payload(p)[1][0] for p in harvested if split_payload(p)[1]}
    unshown = sorted(set(BUTTONS) - set(by_prefix))
    assert tables_without_team() == NO_TEAM_TABLES

    # the check sees a leak: B's own owner pressing B's buttons reads B's words
    shown = [words(await tap(b.owner, payload)) for payload in by_prefix["c"] + by_prefix["fu"]]
    assert leaks([text for texts in shown for text in texts], CAST_B)

    before = team_rows(engine, team_b)
    read: list[str] = []
    pressed: list[str] = []

    async def press(attacker: Chat, payload: str, *, deeper: bool) -> None:
        answer = await tap(attacker, payload)
        pressed.append(payload)
        read.extend(words(answer))
        if awaiting(engine, attacker):  # the press waits for typed text: that text must not reach B either
            read.extend(words(await attacker.say("明天再聯絡")))
        if deeper:  # a two-step button: its confirmation pressed too
            for then in (p for reply in answer for p in payloads(reply)):
                await press(attacker, then, deeper=False)

    for payload in harvested:
        await press(a.owner, payload, deeper=True)
        await press(a.sales, payload, deeper=False)
    for prefix in unshown:
        for payload in generic_forgeries(prefix, verbs, ids):
            await press(a.owner, payload, deeper=False)
    await settled()
    read += words(sent_to(app, a))

    after = team_rows(engine, team_b)
    changed = {table: (rows, after[table]) for table, rows in before.items() if after[table] != rows}
    assert not changed, f"team B's rows changed: {changed}"
    assert not leaks(read, CAST_B)
    assert not [text for text in read if text.startswith("Sorry, something went wrong")]  # refused, never failed
    assert len(pressed) > 2 * len(harvested) > 150
    assert unshown == [], f"no scenario shows these buttons (forged generically instead): {unshown}"
