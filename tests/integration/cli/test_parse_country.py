"""`chatcrm parse --country/--language`: the member's country and language choose the currency of bare 元/萬/80k."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli import build_app

NOW = "2026-11-18T10:00:00+08:00"


@pytest.fixture(autouse=True)
def no_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("DEFAULT_TIMEZONE", "DEFAULT_COUNTRY"):
        monkeypatch.delenv(name, raising=False)


def amounts(*args: str, env: dict[str, str] | None = None) -> list[dict]:
    result = CliRunner().invoke(build_app(), ["parse", "--now", NOW, *args], env=env)
    assert result.exit_code == 0, result.output
    [draft] = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return draft["amounts"]


@pytest.mark.parametrize(("args", "note", "currency"), [
    (["--tz", "Asia/Taipei"], "大同五金行那邊預算 200 萬元", "TWD"),  # the configured country: TW
    (["--tz", "Asia/Hong_Kong", "--country", "HK"], "利豐貿易預算 200 萬元", "HKD"),
    (["--tz", "Asia/Taipei", "--country", "tw"], "美的集团预算200万元", "CNY"),  # Simplified: yuan
    (["--tz", "Asia/Singapore", "--country", "SG"], "客户预算200万元", "SGD"),
    (["--tz", "Asia/Taipei", "--country", "CN"], "Acme budget 80k", "CNY"),
    (["--tz", "Asia/Taipei", "--country", "CN"], "Acme budget US$80k", "USD"),  # an explicit marker wins
])
def test_the_country_chooses_the_currency_of_a_bare_amount(args, note, currency):
    [amount] = amounts(*args, note)
    assert amount["currency"] == currency


def test_the_country_defaults_to_the_setting():
    [amount] = amounts("--tz", "Asia/Taipei", "Acme budget 80k", env={"DEFAULT_COUNTRY": "HK"})
    assert amount == {"value": 80000, "currency": "HKD"}


def test_the_language_is_passed_to_the_parser():
    [amount] = amounts("--tz", "Asia/Taipei", "--country", "MY", "--language", "zh-Hans", "Acme 报价 3万")
    assert amount["currency"] == "MYR"


@pytest.mark.parametrize(("args", "message"), [
    (["--tz", "Asia/Taipei", "--country", "Taiwan", "x"], "--country 'Taiwan' is not an ISO 3166 two-letter code"),
    (["--tz", "Asia/Taipei", "--language", "fr", "x"], "--language 'fr' is not one of"),
])
def test_a_bad_country_or_language_gives_a_short_error_and_exit_2(args, message):
    result = CliRunner().invoke(build_app(), ["parse", *args])
    assert result.exit_code == 2 and result.stdout == "" and message in result.stderr
