"""`chatcrm janitor [--json]`: run the janitor once now (the bot runs it every hour) and print what it removed.

Text: one line per kind. `--json` prints exactly {"processed_update_keys": {"count", "bytes"}, "inbox_rows": {…},
"sent_replies": {…}, "audio": {…}, "spool_files": {…}} — `bytes` null where the size is not measured (keys, inbox
rows and replies).
"""

from __future__ import annotations

import json
from typing import Any

import typer

from core.usecases.housekeeping import KINDS, JanitorRun

LABELS = {"processed_update_keys": "processed-update keys", "inbox_rows": "done inbox rows",
          "sent_replies": "sent replies", "audio": "stored recordings", "spool_files": "abandoned import spool files"}


def janitor_json(result: JanitorRun) -> dict[str, Any]:
    return {kind: {"count": result.of(kind).count, "bytes": result.of(kind).bytes} for kind in KINDS}


def register(app: typer.Typer) -> None:
    @app.command("janitor")
    def janitor(as_json: bool = typer.Option(False, "--json", help="Print what was removed as JSON.")) -> None:
        """Remove old update keys, done inbox rows and sent replies, old stored audio and abandoned import files, now."""
        from bot.bootstrap import build
        from core.schema import upgrade_schema
        from core.settings import SettingsError, load_settings
        from core.uow import Database
        from core.usecases import housekeeping

        try:
            settings = load_settings()
        except SettingsError as error:
            typer.echo(f"chatcrm janitor: {error}", err=True)
            raise typer.Exit(2) from None
        crm = build(settings)
        try:
            upgrade_schema(crm.engine)
            result = housekeeping.run(Database(crm.engine), crm.clock.now(), housekeeping.Retention.of(settings))
        finally:
            crm.engine.dispose()
        if as_json:
            typer.echo(json.dumps(janitor_json(result)))
            return
        for kind in KINDS:
            removed = result.of(kind)
            size = "" if removed.bytes is None else f" ({_size(removed.bytes)})"
            typer.echo(f"{LABELS[kind]}: {removed.count} removed{size}")


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    return f"{count / 1024:.1f} kB" if count < 1024 ** 2 else f"{count / 1024 ** 2:.1f} MB"
