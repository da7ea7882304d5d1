"""`chatcrm transcribe FILE` on the default engine (faster-whisper, the packaged base model), offline.

The recordings are tests/fixtures/audio, the same files as /work/shared/audio (see its README for the sources).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import build_app
from core.text import to_simplified

AUDIO = Path(__file__).resolve().parents[2] / "fixtures" / "audio"
KEYS = {"text", "language", "language_probability", "duration", "seconds", "low_confidence"}


@pytest.fixture
def transcribe(whisper_cache, tmp_path, monkeypatch):
    """Run `chatcrm transcribe ARGS` in a directory without config, the model assembled in the run's cache."""
    monkeypatch.chdir(tmp_path)
    for name in ("WHISPER_ENGINE", "WHISPER_MODEL_DIR"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str):
        return CliRunner().invoke(build_app(), ["transcribe", *args], env={"WHISPER_CACHE_DIR": str(whisper_cache)})

    return run


@pytest.mark.slow
def test_an_english_voice_note_as_json_has_the_six_keys(transcribe):
    result = transcribe("--json", str(AUDIO / "jfk.ogg"))
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert set(answer) == KEYS
    assert "ask not what your country can do for you" in answer["text"].lower()
    assert answer["language"] == "en" and 0.5 < answer["language_probability"] <= 1.0
    assert answer["duration"] == pytest.approx(11.0, abs=0.5)
    assert answer["seconds"] > 0 and answer["low_confidence"] is False


@pytest.mark.slow
def test_a_mandarin_note_prints_the_text(transcribe):
    result = transcribe("--language", "zh", str(AUDIO / "aishell-BAC009S0724W0121.ogg"))
    assert result.exit_code == 0, result.output
    heard = to_simplified(result.stdout.strip())  # Whisper picks either script at random
    reference = "广州市房地产中介协会分析"
    assert sum(1 for ch in reference if ch in heard) >= 0.7 * len(reference), heard


def test_a_file_that_is_not_audio_gets_a_short_error(transcribe, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("Visited Acme, wants a quote\n", encoding="utf-8")
    result = transcribe("--json", str(notes))
    assert result.exit_code != 0 and result.stdout == ""
    assert result.stderr.strip() == (f"chatcrm transcribe: {notes}: this is not an audio file "
                                     "(expected OGG/Opus, M4A, WebM, MP3, WAV or FLAC)")


def test_a_missing_file_or_a_bad_option_gets_a_short_error(transcribe, tmp_path):
    missing = transcribe(str(tmp_path / "nothere.ogg"))
    assert missing.exit_code != 0 and "cannot read" in missing.stderr and "No such file" in missing.stderr
    wrong = transcribe("--language", "fr", str(AUDIO / "jfk.ogg"))
    assert wrong.exit_code != 0 and "--language must be zh or en" in wrong.stderr
    assert missing.stdout == wrong.stdout == ""
