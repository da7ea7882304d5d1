"""`chatcrm transcribe FILE`: the offline transcriber from the command line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def transcribe(
        file: Path = typer.Argument(..., help="An audio file: OGG/Opus, M4A/AAC, WebM, MP3, WAV or FLAC."),
        language: str = typer.Option(None, help="zh or en (default: detect, Mandarin or English)."),
        engine: str = typer.Option("faster", help="faster (faster-whisper)."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Transcribe a voice note offline and print the text."""
        from core.settings import SettingsError, load_settings
        from core.voice import AudioError, TranscriptionService, VoiceSetupError

        if language not in (None, "zh", "en"):
            _fail("--language must be zh or en")
        if engine != "faster":
            _fail(f"engine {engine!r} is not available in this build; use --engine faster")
        try:
            data = file.read_bytes()
        except OSError as error:
            _fail(f"cannot read {file}: {error.strerror or error}")
        try:
            service = TranscriptionService.from_settings(load_settings())
            result = asyncio.run(service.transcribe(data, language=language))
        except (SettingsError, VoiceSetupError) as error:
            _fail(str(error))
        except AudioError as error:
            _fail(f"{file}: {AUDIO_MESSAGES.get(error.code, error.code)}")
        if as_json:
            typer.echo(json.dumps({"text": result.text, "language": result.language,
                                   "language_probability": round(result.language_probability, 4),
                                   "duration": result.duration, "seconds": result.seconds,
                                   "low_confidence": result.low_confidence}, ensure_ascii=False))
        else:
            typer.echo(result.text)


AUDIO_MESSAGES = {"empty": "the file is empty", "truncated": "the recording is cut off or damaged",
                  "not_audio": "this is not an audio file (expected OGG/Opus, M4A, WebM, MP3, WAV or FLAC)",
                  "silence": "no speech heard", "too_long": "the recording is longer than the limit",
                  "timeout": "transcription took too long"}


def _fail(message: str) -> None:
    typer.echo(f"chatcrm transcribe: {message}", err=True)
    raise typer.Exit(2)
