"""`chatcrm report` on both databases: the --json contract exactly, --member, --chart and --xlsx files, refusals."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook
from PIL import Image
from typer.testing import CliRunner

from bot.cli import build_app
from tests.integration.usecases.test_reports import NOW
from tests.integration.usecases.test_reports import team as team  # the seeded team fixture

MEMBER_KEYS = ["name", "visits", "calls", "meetings", "notes", "follow_ups_done_on_time", "follow_ups_done_late",
               "follow_ups_overdue", "new_customers", "deals_won", "deals_lost", "won"]


@pytest.fixture
def url(engine, team, tmp_path, monkeypatch) -> str:
    monkeypatch.chdir(tmp_path)  # no config/chatcrm.toml
    monkeypatch.setattr("bot.bootstrap.SystemClock.now", lambda self: NOW)
    return engine.url.render_as_string(hide_password=False)


def cli(url: str, *args: str):
    return CliRunner().invoke(build_app(), ["report", *args], env={"DATABASE_URL": url, "DEFAULT_LANGUAGE": "en"})


def test_json_follows_the_contract(url):
    result = cli(url, "--period", "month", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == ["period", "members", "pipeline", "conversion", "top_customers", "payments_overdue"]
    assert data["period"] == {"start": "2026-10-31T16:00:00+00:00", "end": "2026-11-18T02:00:00+00:00"}
    assert all(list(m) == MEMBER_KEYS for m in data["members"])
    ben = next(m for m in data["members"] if m["name"] == "Ben")
    assert ben == {"name": "Ben", "visits": 2, "calls": 1, "meetings": 0, "notes": 2, "follow_ups_done_on_time": 1,
                   "follow_ups_done_late": 1, "follow_ups_overdue": 1, "new_customers": 1, "deals_won": 2,
                   "deals_lost": 0, "won": [{"currency": "TWD", "amount": 200000}]}
    stages = {s["stage"]: s for s in data["pipeline"]}
    assert stages["proposal"] == {"stage": "proposal", "deals": 1, "amount": [{"currency": "USD", "amount": 12000}]}
    assert stages["lost"]["amount"] == [{"currency": "TWD", "amount": 9000.5}]
    assert data["conversion"][0] == {"from": "initial", "to": "needs", "rate": 0.6}
    assert data["top_customers"][0] == {"name": "Acme", "won": [{"currency": "TWD", "amount": 150000}], "share": 0.75}
    assert data["payments_overdue"] == [{"customer": "新光設計", "currency": "TWD", "amount": 30000,
                                         "due": "2026-11-14T02:00:00+00:00"}]


def test_member_chart_and_xlsx(url, tmp_path):
    result = cli(url, "--period", "quarter", "--member", "蔡小姐", "--chart", str(tmp_path / "c.png"),
                 "--xlsx", str(tmp_path / "r.xlsx"))
    assert result.exit_code == 0, result.output
    # in the local owner's language (the team was founded in zh-Hant); markup taken out
    assert "🤝 會議 1" in result.output and "Ben" not in result.output and "<b>" not in result.output
    with Image.open(tmp_path / "c.png") as image:
        assert image.width >= 800
    rows = list(load_workbook(tmp_path / "r.xlsx").worksheets[1].iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["蔡小姐"]


def test_refusals(url):
    bad = cli(url, "--period", "fortnight")
    assert bad.exit_code == 2 and "expected week, month or quarter" in bad.output
    nobody = cli(url, "--member", "Nobody")
    assert nobody.exit_code == 2 and "no member named 'Nobody'" in nobody.output
