"""`chatcrm export --out FILE.xlsx` on both databases: every sheet of the team, in the owner's language, with the
stored rows (nothing of another team); a wrong file name is refused."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from bot.cli import build_app
from core.models import Deal
from core.services import customers, followups, interactions, teams
from core.services.actor import Actor
from core.uow import unit_of_work
from tests.integration.usecases.test_customer_truth import NOW, team


@pytest.fixture
def url(engine, tmp_path, monkeypatch) -> str:
    monkeypatch.chdir(tmp_path)
    amy, _manager, chen, _bob = team(engine)
    with unit_of_work(engine) as uow:
        s = uow.session
        acme = customers.create_customer(s, chen, "Acme Trading", phones=["0912 345 678"])
        customers.add_contact(s, chen, acme.id, "Mary Chen", email="mary@acme.test")
        note, _ = interactions.log_interaction(s, chen, text="Met Mary, wants 20 units", customer_id=acme.id)
        followups.schedule(s, chen, customer_id=acme.id, due_at=NOW + timedelta(days=2), action="send the quote",
                           source_interaction_id=note.id)
        s.add(Deal(team_id=chen.team_id, customer_id=acme.id, owner_id=chen.member_id, title="20 units",
                   amount=Decimal("12500.50"), currency="USD"))
        for i in range(30):
            customers.create_customer(s, amy, f"客戶{i:02d}")
    with unit_of_work(engine) as uow:  # another team on the same database stays out
        other = Actor.of(teams.found_team(uow.session, teams.Newcomer("slack", "U9", "D9", "Zed", workspace_id="T9"),
                                          open_signup=True))
        customers.create_customer(uow.session, other, "Other Team Co")
    return engine.url.render_as_string(hide_password=False)


def cli(url: str, *args: str):
    return CliRunner().invoke(build_app(), ["export", *args], env={"DATABASE_URL": url, "DEFAULT_LANGUAGE": "en"})


def test_the_whole_team_in_one_workbook(url, tmp_path):
    out = tmp_path / "team.xlsx"
    result = cli(url, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "customers 31" in result.output and "members 4" in result.output
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["客戶", "聯絡人", "往來紀錄", "待辦", "商機", "成員"]  # the owner's language
    rows = {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
    assert rows["客戶"][0][:3] == ("id", "name", "aliases")
    names = [r[1] for r in rows["客戶"][1:]]
    assert "Acme Trading" in names and "Other Team Co" not in names and len(names) == 31
    acme = next(r for r in rows["客戶"][1:] if r[1] == "Acme Trading")
    assert acme[3] == '["+886912345678"]'
    assert [r[2] for r in rows["聯絡人"][1:]] == ["Mary Chen"]
    assert [r[6] for r in rows["往來紀錄"][1:]] == ["Met Mary, wants 20 units"]
    assert [r[4] for r in rows["待辦"][1:]] == ["send the quote"]
    deal = rows["商機"][1]
    assert deal[3] == "20 units" and float(deal[5]) == 12500.5 and deal[6] == "USD"
    assert sorted(r[1] for r in rows["成員"][1:]) == ["Amy Lin", "Bob Wu", "林經理", "陳小姐"]
    assert not (tmp_path / "team.xlsx.part").exists()


def test_a_wrong_file_name_is_refused(url, tmp_path):
    result = cli(url, "--out", str(tmp_path / "team.csv"))
    assert result.exit_code == 2 and "must name an .xlsx file" in result.output
    result = cli(url, "--out", str(tmp_path / "missing" / "team.xlsx"))
    assert result.exit_code == 2 and "no such folder" in result.output
