"""`chatcrm import-customers FILE [--dry-run] [--json] [--owner NAME]` on both databases: the JSON contract,
a dry run writing nothing, a re-import updating, bad files refused with exit code 2 and what was expected."""

from __future__ import annotations

import json

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from bot.cli import build_app
from core.db import session_scope
from core.models import AuditEvent, Contact, Customer
from core.services import customers as customer_service
from core.services import teams
from core.services.actor import Actor
from tests.customer_list_samples import (
    ENGLISH_HEADER,
    ENGLISH_ROWS,
    SHANGHAI_HEADER,
    TAIPEI_HEADER,
    TAIPEI_ROWS,
    csv_bytes,
    xlsx,
)


@pytest.fixture
def url(engine, tmp_path, monkeypatch) -> str:
    """The database of a team (Amy Lin, owner; 陳小姐, sales) that the terminal's user acts for."""
    monkeypatch.chdir(tmp_path)  # no config/chatcrm.toml
    with session_scope(engine) as session:
        owner = Actor.of(teams.found_team(session, teams.Newcomer("telegram", "11", "11", "Amy Lin")))
        teams.join(session, teams.create_invite(session, owner).code, teams.Newcomer("telegram", "12", "12", "陳小姐"))
        customer_service.create_customer(session, owner, "永丰电子")
    return engine.url.render_as_string(hide_password=False)


def cli(url: str, *args: str):
    return CliRunner().invoke(build_app(), ["import-customers", *args],
                              env={"DATABASE_URL": url, "DEFAULT_COUNTRY": "TW"})


def counts(engine) -> tuple[int, int, int]:
    with session_scope(engine) as session:
        return tuple(session.exec(select(func.count()).select_from(model)).one()  # type: ignore[return-value]
                     for model in (Customer, Contact, AuditEvent))


def test_json_follows_the_contract_and_a_re_import_updates(engine, url, tmp_path):
    path = tmp_path / "客戶名單.xlsx"
    path.write_bytes(xlsx(TAIPEI_HEADER, TAIPEI_ROWS, title=["2026 年 11 月 客戶名單"]))
    result = cli(url, str(path), "--json", "--owner", "陳小姐")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "created": 2, "updated": 1, "merged_duplicates": 1, "skipped": [{"row": 7, "reason": "no company name"}],
        "customers": [
            {"name": "大同五金股份有限公司", "phones": ["+886223456789", "+886922111222"],
             "emails": ["wang@datong.com.tw"], "contacts": ["王志明", "李副理"], "owner": "陳小姐"},
            {"name": "永丰电子", "phones": ["+886912345678"], "emails": ["mh.lin@yongfeng.tw"],
             "contacts": ["林美惠"], "owner": "Amy Lin"},
            {"name": "美商3M股份有限公司台灣分公司", "phones": ["+886227005888"], "emails": ["KHuang@3m.com"],
             "contacts": ["Kevin Huang"], "owner": "陳小姐"}]}
    written = counts(engine)
    again = cli(url, str(path), "--json")
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert (summary["created"], summary["updated"], summary["merged_duplicates"]) == (0, 3, 1)
    assert counts(engine)[:2] == written[:2]


def test_a_dry_run_writes_nothing_and_counts_what_the_import_does(engine, url, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes(csv_bytes(ENGLISH_HEADER, ENGLISH_ROWS, "utf-8-sig"))
    before = counts(engine)
    dry = cli(url, str(path), "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert counts(engine) == before
    text = cli(url, str(path), "--dry-run")
    assert "Dry run, nothing written: accounts.csv: 3 customers would be created, 0 would be updated, " \
           "1 duplicate rows merged, 0 rows skipped." in text.stdout
    done = cli(url, str(path), "--json")
    assert json.loads(done.stdout) == json.loads(dry.stdout)
    assert counts(engine)[0] == before[0] + 3


def test_a_gb18030_csv_is_read_and_the_summary_is_printed(engine, url, tmp_path):
    path = tmp_path / "客户.csv"
    path.write_bytes(csv_bytes(SHANGHAI_HEADER, [["深圳腾讯计算机系统有限公司", "马先生", "0912-345-678", "", "", "", ""],
                                                 ["腾讯", "", "0912 345 678", "", "", "", "同一家"]], "gb18030"))
    result = cli(url, str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "客户.csv: 1 customers created, 0 updated, 1 duplicate rows merged, 0 rows skipped."


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("products.csv", "產品,數量\n螺絲,100\n".encode("big5"), "no company column found in the first 20 rows"),
    ("empty.csv", b"\xef\xbb\xbf\r\n", "the list is empty"),
    ("protected.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptedPackage".encode("utf-16-le"),
     "the workbook is password-protected"),
    ("cut.xlsx", xlsx(TAIPEI_HEADER, TAIPEI_ROWS)[:2000], "the file is damaged or not a spreadsheet"),
    ("sjis.csv", "会社名,電話\n株式会社サンプル,03-1234-5678\n".encode("shift_jis"), "the CSV's text encoding is not UTF-8, Big5 or GB18030"),
])
def test_bad_files_exit_2_naming_what_was_expected(engine, url, tmp_path, name, data, expected):
    path = tmp_path / name
    path.write_bytes(data)
    before = counts(engine)
    result = cli(url, str(path), "--json")
    assert result.exit_code == 2
    assert f"chatcrm import-customers: {name}: {expected}" in result.stderr
    assert result.stdout == "" and counts(engine) == before


def test_an_unknown_owner_is_refused_naming_the_members(engine, url, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(csv_bytes(["Company"], [["Globex"]], "utf-8"))
    result = cli(url, str(path), "--owner", "Bob")
    assert result.exit_code == 2
    assert "--owner 'Bob' is not a member of the team (members: Amy Lin, 陳小姐)" in result.stderr
    assert counts(engine)[0] == 1
