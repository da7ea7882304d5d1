"""`chatcrm run` refuses a speech model directory that faster-whisper would try to download around."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.cli import build_app


@pytest.mark.parametrize("kind", ["missing", "file", "no_tokenizer"])
def test_a_bad_whisper_model_dir_stops_the_start_with_a_clear_message(tmp_path, monkeypatch, kind):
    model = tmp_path / "model"
    if kind == "file":
        model.write_text("not a directory")
    elif kind == "no_tokenizer":
        model.mkdir()
        (model / "model.bin").write_bytes(b"\0" * 16)
        (model / "config.json").write_text("{}")
    monkeypatch.setenv("WHISPER_MODEL_DIR", str(model))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    for name in ("TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(build_app(), ["run"], input="")
    assert result.exit_code == 2
    message = result.stderr
    assert "chatcrm cannot start" in message and str(model) in message
    assert ("tokenizer.json" in message) if kind == "no_tokenizer" else ("is not a directory" in message)
