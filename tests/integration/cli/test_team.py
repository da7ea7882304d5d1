"""`chatcrm team` on both databases: the --json contract exactly and the table, removed members apart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from bot.cli import build_app
from core.models import Customer, FollowUp, Interaction, Member, Team
from core.uow import unit_of_work

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


@pytest.fixture
def url(engine, tmp_path, monkeypatch) -> str:
    with unit_of_work(engine) as uow:
        team = Team(name="Acme team", language="en")
        uow.session.add(team)
        uow.session.flush()
        amy = Member(team_id=team.id, name="Amy", role="owner", language="en")
        ben = Member(team_id=team.id, name="陳小姐", role="sales")
        gone = Member(team_id=team.id, name="Bob", role="sales", active=False, removed_at=NOW - timedelta(days=1))
        uow.session.add_all([amy, ben, gone])
        uow.session.flush()
        for owner, name in ((ben, "大同五金"), (gone, "Acme"), (gone, "Bolt")):
            uow.session.add(Customer(team_id=team.id, name=name, name_key=name.casefold(), owner_id=owner.id))
        uow.session.add(FollowUp(team_id=team.id, member_id=ben.id, due_at=NOW + timedelta(days=1), action="call"))
        uow.session.add(Interaction(team_id=team.id, member_id=ben.id, occurred_at=NOW - timedelta(days=3),
                                    text="visited"))
    monkeypatch.chdir(tmp_path)  # no config/chatcrm.toml
    monkeypatch.setattr("bot.bootstrap.SystemClock.now", lambda self: NOW)
    return engine.url.render_as_string(hide_password=False)


def cli(url: str, *args: str):
    return CliRunner().invoke(build_app(), ["team", *args], env={"DATABASE_URL": url, "DEFAULT_LANGUAGE": "en"})


def test_json_follows_the_contract(url):
    result = cli(url, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["team"] == "Acme team"
    assert [(m["name"], m["role"], m["active"], m["customers"], m["open_follow_ups"]) for m in data["members"]] == [
        ("Amy", "owner", True, 0, 0), ("陳小姐", "sales", True, 1, 1), ("Bob", "sales", False, 2, 0)]
    assert all(list(m) == ["id", "name", "role", "active", "customers", "open_follow_ups", "last_active_at",
                           "removed_at"] for m in data["members"])
    assert data["members"][1]["last_active_at"] == "2026-11-15T02:00:00+00:00"
    assert data["members"][2]["removed_at"] == "2026-11-17T02:00:00+00:00"


def test_the_table_lists_members_with_their_holdings(url):
    result = cli(url)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Acme team" and lines[1].split() == ["Name", "Role", "Customers", "Open", "follow-ups",
                                                          "Last", "active"]
    assert lines[3].split() == ["陳小姐", "salesperson", "1", "1", "3", "days", "ago"]
    assert lines[4].startswith("Bob (removed)") and lines[4].split()[3] == "2"
