"""`chatcrm parse`: the note parser as JSON lines, for checking and scripting."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

LANGUAGES = ("zh-Hant", "zh-Hans", "en")


def _fail(message: str) -> None:
    typer.echo(f"chatcrm parse: {message}", err=True)
    raise typer.Exit(2)


def _known(path: Path | None):
    from core.understanding import CustomerIndex, KnownCustomer

    if path is None:
        return CustomerIndex([])
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"cannot read {path}: {error}")
    except json.JSONDecodeError as error:
        _fail(f"{path} is not valid JSON ({error.msg} at line {error.lineno}); expected a list of "
              '{"name": ..., "aliases": [...]}')
    if not isinstance(data, list) or not all(isinstance(item, dict) and isinstance(item.get("name"), str)
                                             for item in data):
        _fail(f'{path} must be a JSON list of objects like {{"name": "Acme", "aliases": ["ACME Ltd"]}}')
    return CustomerIndex(KnownCustomer(i, item["name"], tuple(map(str, item.get("aliases") or ())),
                                       tuple(map(str, item.get("contacts") or ())))
                         for i, item in enumerate(data, start=1))


def register(app: typer.Typer) -> None:
    @app.command()
    def parse(
        text: list[str] = typer.Argument(None, help="The note (words are joined); without it, one note per stdin line."),
        now: str = typer.Option(None, help="The current time, ISO 8601 with offset (default: now)."),
        tz: str = typer.Option(None, help="The member's IANA time zone (default: the default_timezone setting)."),
        customers: Path = typer.Option(None, help='A JSON list of known customers: [{"name": ..., "aliases": [...]}].'),
        country: str = typer.Option(None, help="The member's country, ISO 3166 code such as TW, HK, CN, US "
                                               "(default: the default_country setting); it chooses the currency "
                                               "of amounts written without a marker (元, 萬, 80k)."),
        language: str = typer.Option(None, help="The member's language: zh-Hant, zh-Hans or en (default: the "
                                                "note's own script)."),
    ) -> None:
        """Understand notes and print one JSON object per note."""
        from core.understanding import parse_note

        if tz is None or country is None:
            from core.settings import SettingsError, load_settings

            try:
                settings = load_settings()
            except SettingsError as error:
                if tz is None:
                    _fail(str(error))
                settings = None  # --tz given: the country falls back to the note's script
            if tz is None and settings is not None:
                tz = settings.default_timezone
            if country is None and settings is not None:
                country = settings.default_country
        if country is not None:
            if not re.fullmatch(r"[A-Za-z]{2}", country.strip()):
                _fail(f"--country {country!r} is not an ISO 3166 two-letter code such as TW, HK, CN or US")
            country = country.strip().upper()
        if language is not None and language not in LANGUAGES:
            _fail(f"--language {language!r} is not one of {', '.join(LANGUAGES)}")
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            _fail(f"unknown time zone {tz!r}; use an IANA name such as Asia/Taipei")
        if now is None:
            moment = datetime.now(UTC)
        else:
            try:
                moment = datetime.fromisoformat(now)
            except ValueError:
                _fail(f"--now {now!r} is not ISO 8601, e.g. 2026-11-18T10:00:00+08:00")
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=ZoneInfo(tz))
        index = _known(customers)
        notes = [" ".join(text)] if text else (line.rstrip("\n") for line in sys.stdin)
        for note in notes:
            draft = parse_note(note, now=moment, tz=tz, customers=index, country=country, language=language)
            typer.echo(json.dumps(draft.to_json(), ensure_ascii=False))
