"""Two companies on one deployment (OPEN_SIGNUP on), each with 大同五金 as a customer: the same day played in
both teams (notes, a colleague's customer, access, deals, payments, contacts, a chat export, /find, /todo,
/customers, /pipeline, /report, /history, /handover, /export, /pool) and the next morning's nudges and digests.
Nothing either team reads, in its answers, in what the bot sent it, or inside the exported file, names the
other team's people, contacts, customers or figures; a forwarded burst stays in its team."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlmodel import select

from core.chat import ForwardOrigin
from core.db import session_scope
from core.models import Customer, Interaction
from core.settings import load_settings
from tests.integration.bot.two_teams import (
    CAST_A,
    CAST_B,
    SHARED_NAME,
    found,
    leaks,
    next_morning,
    play,
    sent_to,
    settled,
    team_id_of,
)


@pytest.fixture
def settings(tmp_path):
    return load_settings(tmp_path / "none.toml", default_timezone="Asia/Taipei", default_language="en",
                         forward_batch_seconds=0.05, import_spool_dir=str(tmp_path / "spool"), open_signup=True)


def readable(replies) -> list[str]:
    texts = []
    for reply in replies:
        texts += [reply.text, *(b.label for row in reply.buttons for b in row)]
        if reply.file is not None and reply.file.name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(reply.file.data)) as archive:
                texts += [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
                          if name.endswith(".json")]
    return texts


async def test_two_teams_side_by_side_never_see_each_other(app, engine, clock, settings):
    a = await found(app, CAST_A)
    b = await found(app, CAST_B)
    await play(app, a)
    await play(app, b)
    await next_morning(app, settings, clock)
    for team, other in ((a, b), (b, a)):
        seen = readable(team.replies) + readable(sent_to(app, team))
        assert not leaks(seen, other.cast), f"team {team.cast.key} read team {other.cast.key}'s data"
        assert any(team.cast.contact in text for text in seen)  # and it does read its own
        assert any(SHARED_NAME in text and "Good morning" in text for text in readable(sent_to(app, team)))
        found_notes = (await team.owner.say("/find 報價"))[0].text
        assert found_notes.startswith("3 notes mention") and str(team.cast.units) in found_notes
        card = (await team.owner.say(f"/c {SHARED_NAME}"))[0].text
        assert team.cast.contact in card and other.cast.contact not in card
        pipeline = (await team.owner.say("/pipeline"))[0].text
        assert "Initial contact: 1 deal" in pipeline and other.cast.sales not in pipeline
    with session_scope(engine) as session:
        assert {c.team_id for c in session.exec(select(Customer).where(Customer.name == SHARED_NAME))} == {
            team_id_of(engine, a.owner), team_id_of(engine, b.owner)}


async def test_a_forwarded_burst_from_the_other_teams_contact_stays_in_its_team(app, engine, clock, settings):
    a = await found(app, CAST_A)
    b = await found(app, CAST_B)
    await play(app, b)
    app.forward_summaries.delay = 1.0  # both forwards before the summary, however slow the machine (the clock stands)
    origin = ForwardOrigin("user", CAST_B.contact, "777", clock.now())
    await a.sales.forward("Please send the catalogue", origin)
    await a.sales.forward("And the price list", origin)
    await settled()
    [summary] = [reply for reply in sent_to(app, a) if "forwarded" in reply.text]
    # the sender's name is what A forwarded; B's customers and figures are not offered
    assert SHARED_NAME not in summary.text and CAST_B.own_customer not in summary.text
    assert str(CAST_B.units) not in summary.text and CAST_B.sales not in summary.text
    with session_scope(engine) as session:
        burst = session.exec(select(Interaction).where(Interaction.kind == "forwarded")).one()
        assert burst.team_id == team_id_of(engine, a.sales)
        if burst.customer_id is not None:
            assert session.get(Customer, burst.customer_id).team_id == burst.team_id
