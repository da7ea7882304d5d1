"""`chatcrm parse`: one JSON object per note, from arguments or stdin, in both Chinese scripts and English."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli import build_app

NOW = "2026-11-18T10:00:00+08:00"  # a Wednesday
KEYS = {"customer", "customer_candidates", "customer_known", "contact", "kind", "occurred_at", "amounts", "follow_up"}


@pytest.fixture(autouse=True)
def no_config(tmp_path, monkeypatch):
    """No config/chatcrm.toml and no time zone from the environment unless a test sets one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEFAULT_TIMEZONE", raising=False)


def parse(*args: str, input: str | None = None, env: dict[str, str] | None = None):
    return CliRunner().invoke(build_app(), ["parse", *args], input=input, env=env)


def drafts(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


@pytest.mark.parametrize(("note", "contact", "action"), [
    ("拜訪大同五金王總,要A100一百件報價,下週三前回覆", "王總", "回覆報價"),  # zh-Hant
    ("拜访大同五金王总,要A100一百件报价,下周三前回复", "王总", "回复报价"),  # zh-Hans keeps its script
])
def test_chinese_notes_in_either_script(note, contact, action):
    result = parse("--now", NOW, "--tz", "Asia/Taipei", note)
    assert result.exit_code == 0, result.output
    [draft] = drafts(result.stdout)
    assert set(draft) == KEYS
    assert draft["customer"] == "大同五金" and draft["contact"] == contact and draft["kind"] == "visit"
    assert draft["amounts"] == [{"value": 100, "unit": "件"}]
    assert draft["follow_up"] == {"due": "2026-11-25T09:00:00+08:00", "action": action}  # next Wednesday
    assert draft["customer_known"] is False and draft["customer_candidates"] == []


def test_an_english_note_given_as_several_words():
    result = parse("--now", NOW, "--tz", "Asia/Taipei", "Visited", "Acme,", "Mr. Lee wants a quote for 100 units,",
                   "follow up Friday")
    assert result.exit_code == 0, result.output
    [draft] = drafts(result.stdout)
    assert draft["customer"] == "Acme" and draft["contact"] == "Mr. Lee" and draft["kind"] == "visit"
    assert draft["amounts"] == [{"value": 100, "unit": "units"}]
    assert draft["follow_up"] == {"due": "2026-11-20T09:00:00+08:00", "action": "quote"}


def test_without_text_every_stdin_line_is_one_note():
    result = parse("--now", NOW, "--tz", "Asia/Taipei", input="Called Globex about the invoice\n明天下午3點打給永豐電子\n")
    assert result.exit_code == 0, result.output
    called, tomorrow = drafts(result.stdout)
    assert called["customer"] == "Globex" and called["kind"] == "call" and called["follow_up"] is None
    assert tomorrow["customer"] == "永豐電子"
    assert tomorrow["follow_up"]["due"] == "2026-11-19T15:00:00+08:00"


def test_known_customers_from_a_json_file(tmp_path):
    known = tmp_path / "customers.json"
    known.write_text(json.dumps([{"name": "大同五金", "aliases": ["大同"]}], ensure_ascii=False), encoding="utf-8")
    result = parse("--now", NOW, "--tz", "Asia/Taipei", "--customers", str(known), "去大同拜訪王總")
    assert result.exit_code == 0, result.output
    [draft] = drafts(result.stdout)
    assert draft["customer"] == "大同五金" and draft["customer_known"] is True
    assert draft["customer_candidates"] == ["大同五金"]


def test_a_naive_now_is_read_in_the_zone_and_the_zone_defaults_to_the_setting():
    result = parse("--now", "2026-11-18T10:00:00", "call Acme tomorrow 3pm", env={"DEFAULT_TIMEZONE": "Europe/London"})
    assert result.exit_code == 0, result.output
    [draft] = drafts(result.stdout)
    assert draft["follow_up"]["due"] == "2026-11-19T15:00:00+00:00"


@pytest.mark.parametrize(("args", "message"), [
    (["--tz", "Mars/Base", "x"], "unknown time zone 'Mars/Base'"),
    (["--tz", "Asia/Taipei", "--now", "yesterday", "x"], "--now 'yesterday' is not ISO 8601"),
])
def test_bad_options_give_a_short_error_and_exit_2(args, message):
    result = parse(*args)
    assert result.exit_code == 2
    assert result.stdout == "" and message in result.stderr


def test_a_customers_file_that_is_not_json_is_refused(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("nope", encoding="utf-8")
    result = parse("--tz", "Asia/Taipei", "--customers", str(bad), "x")
    assert result.exit_code == 2 and "bad.json is not valid JSON" in result.stderr
    bad.write_text('{"name": "Acme"}', encoding="utf-8")
    result = parse("--tz", "Asia/Taipei", "--customers", str(bad), "x")
    assert result.exit_code == 2 and "must be a JSON list" in result.stderr
