"""`chatcrm run` and `chatcrm migrate`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

import typer

from core.settings import SettingsError, load_settings


def _settings():
    try:
        return load_settings()
    except SettingsError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    @app.command()
    def run(role: str = typer.Option("all", "--role", help="all (default: everything in one process), receiver "
                                     "(polls Telegram into the inbox), worker (processes the inbox, sends nudges) "
                                     "or voice (transcribes voice-note jobs)")) -> None:
        """Start the bot: Telegram and/or Slack when their tokens are set, else a chat in this terminal."""
        from bot.run import ROLES

        if role not in ROLES:
            typer.echo(f"chatcrm run: --role must be one of {', '.join(ROLES)}", err=True)
            raise typer.Exit(2)
        settings = _settings()
        logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped: already running" is expected
        if settings.platforms == ["console"]:
            logging.getLogger().setLevel(logging.WARNING)  # keep the terminal chat readable
        from bot.run import serve
        from core.voice import VoiceSetupError

        try:
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(serve(settings, role))
        except VoiceSetupError as error:
            typer.echo(f"chatcrm cannot start: {error}", err=True)
            raise typer.Exit(2) from None

    @app.command()
    def migrate() -> None:
        """Upgrade the database schema to the newest version."""
        from core.schema import upgrade_database

        settings = _settings()
        typer.echo(f"database is up to date: {upgrade_database(settings.database_url)}")
