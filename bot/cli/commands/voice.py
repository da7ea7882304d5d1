"""`chatcrm transcribe FILE` and `chatcrm voice export-openai`: the offline transcriber from the command line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer

ENGINES = ("faster", "openai")


def register(app: typer.Typer) -> None:
    @app.command()
    def transcribe(
        file: Path = typer.Argument(..., help="An audio file: OGG/Opus, M4A/AAC, WebM, MP3, WAV or FLAC."),
        language: str = typer.Option(None, help="zh or en (default: detect, Mandarin or English)."),
        engine: str = typer.Option(None, help="faster (faster-whisper) or openai (openai-whisper, optional "
                                              "extra); default: the WHISPER_ENGINE setting."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Transcribe a voice note offline and print the text."""
        from core.settings import SettingsError, load_settings
        from core.voice import AudioError, TranscriptionService, VoiceSetupError

        if language not in (None, "zh", "en"):
            _fail("--language must be zh or en")
        if engine not in (None, *ENGINES):
            _fail("--engine must be faster or openai")
        try:
            data = file.read_bytes()
        except OSError as error:
            _fail(f"cannot read {file}: {error.strerror or error}")
        try:
            service = TranscriptionService.from_settings(load_settings(), engine=engine)
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

    voice = typer.Typer(help="The speech model.", no_args_is_help=True)
    app.add_typer(voice, name="voice")

    @voice.command("export-openai")
    def export_openai(
        model_dir: Path = typer.Option(None, help="A CTranslate2 Whisper model directory (default: WHISPER_MODEL_DIR, "
                                                  "else the built-in base model)."),
        out: Path = typer.Option(None, help="Where to write the checkpoint (default: the cache the openai engine "
                                            "uses, named by the model's checksum)."),
    ) -> None:
        """Convert the CTranslate2 Whisper model into an openai-whisper checkpoint (needs the openai-whisper extra)."""
        from core.settings import SettingsError, load_settings
        from core.voice import VoiceSetupError
        from core.voice.model import check_model_dir
        from core.voice.openai_export import cached_checkpoint
        from core.voice.openai_export import export_openai as export
        from core.voice.service import model_dir as configured_model_dir

        try:
            settings = load_settings()
            source = check_model_dir(model_dir) if model_dir else configured_model_dir(settings)
            written = export(source, out) if out else cached_checkpoint(source, Path(settings.whisper_cache_dir))
        except (SettingsError, VoiceSetupError) as error:
            _fail(str(error), "voice export-openai")
        typer.echo(str(written))

    @voice.command("worker")
    def worker() -> None:
        """Take voice-note jobs from PostgreSQL until stopped (VOICE_QUEUE=postgres; see README, Voice notes)."""
        import logging

        from bot.voice_worker import run_voice_worker
        from core.settings import SettingsError, load_settings
        from core.voice import VoiceSetupError

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        try:
            asyncio.run(run_voice_worker(load_settings()))
        except (SettingsError, VoiceSetupError) as error:
            _fail(str(error), "voice worker")
        except SystemExit as stop:
            if stop.code not in (None, 0):
                _fail(str(stop.code), "voice worker")
            raise


AUDIO_MESSAGES = {"busy": "too many recordings are waiting; try again shortly", "empty": "the file is empty", "truncated": "the recording is cut off or damaged",
                  "not_audio": "this is not an audio file (expected OGG/Opus, M4A, WebM, MP3, WAV or FLAC)",
                  "silence": "no speech heard", "too_long": "the recording is longer than the limit",
                  "timeout": "transcription took too long"}


def _fail(message: str, command: str = "transcribe") -> None:
    typer.echo(f"chatcrm {command}: {message}", err=True)
    raise typer.Exit(2)
