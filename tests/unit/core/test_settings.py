"""Settings: defaults, the TOML file, environment overrides, and refusal of bad secrets."""

from __future__ import annotations

import pytest

from core.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("DATABASE_URL", "TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN",
                 "SLACK_SIGNING_SECRET", "DEFAULT_TIMEZONE", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_a_sqlite_file_and_the_console(tmp_path):
    settings = load_settings(tmp_path / "missing.toml")
    assert settings.database_url == "sqlite:///data/chatcrm.db"
    assert settings.platforms == ["console"]
    assert settings.default_language == "zh-Hant"


def test_toml_file_is_read_and_environment_wins(tmp_path, monkeypatch):
    path = tmp_path / "chatcrm.toml"
    path.write_text('default_timezone = "Asia/Hong_Kong"\ndatabase_url = "sqlite:///x.db"\n', encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/crm")
    settings = load_settings(path)
    assert settings.default_timezone == "Asia/Hong_Kong"
    assert settings.database_url == "postgresql://db/crm"


def test_example_file_is_valid():
    settings = load_settings("config/chatcrm.example.toml")
    assert settings.whisper_engine == "faster"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("TELEGRAM_BOT_TOKEN", "changeme", "placeholder"),
    ("TELEGRAM_BOT_TOKEN", "<your token>", "placeholder"),
    ("TELEGRAM_BOT_TOKEN", "not-a-token", "malformed"),
    ("SLACK_BOT_TOKEN", "xoxp-user-token", "xoxb-"),
    ("DEFAULT_TIMEZONE", "Mars/Olympus", "time zone"),
])
def test_bad_values_are_refused_with_a_clear_message(monkeypatch, tmp_path, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(tmp_path / "none.toml")
    assert message in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_slack_needs_a_transport(monkeypatch, tmp_path):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-abc")
    with pytest.raises(SettingsError, match="SLACK_APP_TOKEN"):
        load_settings(tmp_path / "none.toml")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "0123456789abcdef")
    assert load_settings(tmp_path / "none.toml").platforms == ["slack"]


def test_valid_telegram_token_selects_telegram(monkeypatch, tmp_path):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345")
    assert load_settings(tmp_path / "none.toml").platforms == ["telegram"]
