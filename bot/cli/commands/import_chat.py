"""`chatcrm import-chat FILE`: read an exported chat; print it (--dry-run) or import it for the local member."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from core.exports import ParsedConversation
from core.usecases.chat_imports import DateOrder, read_export

ERRORS = {
    "empty": "the file is empty",
    "too_large": "the export is too large; export a shorter period",
    "truncated_zip": "the zip file is damaged or cut off; export the chat again",
    "invalid_json": "the JSON is broken; expected Telegram's result.json or a Slack export",
    "no_messages": "the export holds no messages",
    "unknown_format": "not a chat export; expected WhatsApp .txt/.zip, Telegram result.json, "
                      "Slack export .zip or WeChat TXT/CSV",
    "binary": "not a text file; expected WhatsApp .txt/.zip, Telegram result.json, Slack export .zip or "
              "WeChat TXT/CSV",
}


def _fail(message: str) -> NoReturn:
    typer.echo(f"chatcrm import-chat: {message}", err=True)
    raise typer.Exit(2)


def _conversation_json(conversation: ParsedConversation) -> dict:
    return {"format": conversation.format,
            "messages": [{"sender": m.sender, "timestamp": m.timestamp.isoformat(), "text": m.text, "kind": m.kind}
                         for m in conversation.messages]}


def _day_or_month(typed: str) -> str:
    if typed.strip().lower() in ("d", "m"):
        return typed.strip().lower()
    raise typer.BadParameter("type d or m")


def _parse(data: bytes, name: str, zone: ZoneInfo, date_order: DateOrder | None, interactive: bool
           ) -> ParsedConversation:
    parsed = read_export(data, zone=zone, file_name=name, date_order=date_order)
    if isinstance(parsed, ParsedConversation):
        return parsed
    if parsed.needs_date_order and interactive:
        answer = typer.prompt("Dates in this export could be day/month or month/day. Is 3/4 the 3rd of April "
                              "(d) or the 4th of March (m)?", value_proc=_day_or_month)
        return _parse(data, name, zone, "dmy" if answer == "d" else "mdy", False)
    if parsed.needs_date_order:
        _fail("the day/month order cannot be told from this file; pass --date-order dmy or mdy")
    _fail(f"{name}: {ERRORS.get(parsed.code, parsed.detail or parsed.code)}")


def register(app: typer.Typer) -> None:
    @app.command("import-chat")
    def import_chat(
        file: Path = typer.Argument(..., help="WhatsApp .txt/.zip, Telegram result.json, Slack export .zip, "
                                              "WeChat TXT/CSV."),
        tz: str = typer.Option(None, help="IANA zone of the exporting phone's clock (default: the member's)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Only parse and print; write nothing."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        date_order: str = typer.Option(None, help="dmy or mdy, when the file cannot tell."),
        yes: bool = typer.Option(False, "--yes", help="Never ask: a new customer from the chat's name when none matches; proposals unscheduled."),
    ) -> None:
        """Import an exported chat onto a customer's timeline (or print it with --dry-run --json)."""
        from core.settings import SettingsError, load_settings

        if date_order not in (None, "dmy", "mdy"):
            _fail("--date-order must be dmy or mdy")
        try:
            settings = load_settings()
        except SettingsError as error:
            _fail(str(error))
        zone_name = tz or settings.default_timezone
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            _fail(f"unknown time zone {zone_name!r}; use an IANA name such as Asia/Taipei")
        try:
            data = file.read_bytes()
        except OSError as error:
            _fail(f"cannot read {file}: {error.strerror or error}")
        interactive = not (yes or as_json or dry_run)
        conversation = _parse(data, file.name, zone, date_order, interactive)  # type: ignore[arg-type]
        if dry_run:
            if as_json:
                typer.echo(json.dumps(_conversation_json(conversation), ensure_ascii=False))
            else:
                for m in conversation.messages:
                    typer.echo(f"{m.timestamp.astimezone(zone):%Y-%m-%d %H:%M} [{m.kind}] {m.sender or '—'}: {m.text}")
            return
        from bot.cli.local_import import import_locally

        result = import_locally(settings, conversation, zone_name, interactive=interactive)
        if as_json:
            typer.echo(json.dumps(result, ensure_ascii=False))
        else:
            typer.echo(f"Imported {result['added']} messages ({result['duplicates']} already there) "
                       f"onto {result['customer'] or 'no customer yet'}; {len(result['proposals'])} follow-ups "
                       f"proposed, {result['scheduled']} scheduled.")
