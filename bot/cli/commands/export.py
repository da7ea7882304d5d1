"""`chatcrm export --out FILE.xlsx`: the local owner's whole team (customers, contacts, interactions, follow-ups,
deals, members) as one workbook, for a backup or a move elsewhere. Rows are read with `yield_per` and written
with openpyxl's write-only mode (bot.privacy_files.team_xlsx), so memory stays flat however large the team.
Sheet names are in the owner's language, headers are the stored field names, times are UTC."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer


def _fail(message: str) -> NoReturn:
    typer.echo(f"chatcrm export: {message}", err=True)
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(out: Path = typer.Option(..., "--out", help="The XLSX file to write.")) -> None:
        """Export the whole team (owner): customers, contacts, interactions, follow-ups, deals, members."""
        from bot.cli.local_import import as_local_owner
        from bot.i18n import t
        from bot.privacy_files import team_xlsx
        from core.services.errors import NotAllowed
        from core.settings import SettingsError, load_settings
        from core.usecases import privacy

        if out.suffix.lower() != ".xlsx":
            _fail("--out must name an .xlsx file")
        if not out.parent.exists():
            _fail(f"no such folder: {out.parent}")
        try:
            settings = load_settings()
        except SettingsError as error:
            _fail(str(error))
        partial = out.with_name(out.name + ".part")
        try:
            with as_local_owner(settings) as (_, uow, actor):
                language = actor.language

                def tr(key: str, /, **values: object) -> str:
                    return t(language, key, **values)

                try:
                    counts = team_xlsx(privacy.team_export(uow, actor), partial, tr)
                except NotAllowed as error:
                    _fail(str(error))
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
        typer.echo(f"wrote {out}: " + ", ".join(f"{kind} {n}" for kind, n in counts.items()))
