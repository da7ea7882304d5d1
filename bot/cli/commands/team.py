"""`chatcrm team [--json]`: the local owner's team as a table — every active member with role, customers owned,
open follow-ups and last activity, then removed members whose customers wait for a handover.

`--json` prints exactly {"team": name, "members": [{"id", "name", "role", "active", "customers", "open_follow_ups",
"last_active_at", "removed_at"}]} (removed members waiting for a handover last, `active` false; times in ISO 8601
UTC or null)."""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime
from typing import Any, NoReturn

import typer

from core.usecases.team_members import MemberRow, Roster


def _fail(message: str) -> NoReturn:
    typer.echo(f"chatcrm team: {message}", err=True)
    raise typer.Exit(2)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def roster_json(roster: Roster) -> dict[str, Any]:
    def row(m: MemberRow) -> dict[str, Any]:
        return {"id": m.id, "name": m.name, "role": m.role, "active": m.active, "customers": m.customers,
                "open_follow_ups": m.open_follow_ups, "last_active_at": _iso(m.last_active_at),
                "removed_at": _iso(m.removed_at)}
    return {"team": roster.team_name, "members": [row(m) for m in (*roster.members, *roster.waiting)]}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def roster_table(roster: Roster, tr: Any, last: Any) -> str:
    """Aligned columns (CJK characters count double)."""
    header = [tr("team.col_name"), tr("team.col_role"), tr("team.col_customers"), tr("team.col_follow_ups"),
              tr("team.col_last")]
    rows = [[m.name + ("" if m.active else f" ({tr('team.col_removed')})"), tr(f"team.role_{m.role}"),
             str(m.customers), str(m.open_follow_ups), last(m)] for m in (*roster.members, *roster.waiting)]
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(cells, widths,
                                                                                           strict=True)).rstrip()
    return "\n".join([roster.team_name, line(header), *(line(r) for r in rows)])


def register(app: typer.Typer) -> None:
    @app.command("team")
    def team_command(
        as_json: bool = typer.Option(False, "--json", help="Print the members as JSON."),
    ) -> None:
        """The team's members: role, customers, open follow-ups, last activity (removed ones waiting for a handover)."""
        from bot.cli.local_import import as_local_owner
        from bot.handlers.team import ago
        from bot.i18n import t
        from core.settings import SettingsError, load_settings
        from core.usecases import team_members

        try:
            settings = load_settings()
        except SettingsError as error:
            _fail(str(error))
        with as_local_owner(settings) as (crm, uow, actor):
            roster = team_members.roster(uow, actor)
        if as_json:
            typer.echo(json.dumps(roster_json(roster), ensure_ascii=False))
            return
        now, language = crm.clock.now(), actor.language

        def tr(key: str, /, **values: object) -> str:
            return t(language, key, **values)

        def last(m: MemberRow) -> str:
            if m.last_active_at is None:
                return tr("team.never")
            return ago(m.last_active_at, now, language) or tr("team.just_now")
        typer.echo(roster_table(roster, tr, last))
