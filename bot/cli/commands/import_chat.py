"""`chatcrm import-chat FILE|FOLDER`: read an exported chat; print it (--dry-run) or import it for the local member.

A folder is an unzipped export (Slack's, or one holding WhatsApp's `_chat.txt` or Telegram's `result.json`).
An export of several chats (a Telegram account export) needs `--chat NAME` (one) or `--all` (each its own
conversation); without either the chats are listed and asked for, or (never asking) named in the error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from core.exports import ChatSummary, ParsedConversation
from core.usecases.chat_imports import (
    ChatChoice,
    DateOrder,
    Unreadable,
    read_every_chat,
    read_export,
    read_folder,
)

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
FOLDER_ERRORS = {"unknown_format": "the folder holds no chat export; expected an unzipped Slack export "
                                   "(users.json and channel folders), WhatsApp's _chat.txt or Telegram's result.json"}


def _fail(message: str) -> NoReturn:
    typer.echo(f"chatcrm import-chat: {message}", err=True)
    raise typer.Exit(2)


def _conversation_json(conversation: ParsedConversation) -> dict:
    return {"format": conversation.format,
            "messages": [{"sender": m.sender, "timestamp": m.timestamp.isoformat(), "text": m.text, "kind": m.kind}
                         for m in conversation.messages]}


def _print_dry_run(conversations: list[ParsedConversation], zone: ZoneInfo, as_json: bool, several: bool) -> None:
    if as_json:
        printed = [{"chat": c.title, **_conversation_json(c)} for c in conversations] if several \
            else _conversation_json(conversations[0])
        typer.echo(json.dumps(printed, ensure_ascii=False))
        return
    for conversation in conversations:
        if several:
            typer.echo(f"== {conversation.title or ', '.join(conversation.participants[:2])}")
        for m in conversation.messages:
            quoted = f" (quoting: {m.quoted})" if m.quoted else ""
            typer.echo(f"{m.timestamp.astimezone(zone):%Y-%m-%d %H:%M} [{m.kind}] {m.sender or '—'}: {m.text}{quoted}")


def _day_or_month(typed: str) -> str:
    if typed.strip().lower() in ("d", "m"):
        return typed.strip().lower()
    raise typer.BadParameter("type d or m")


def _parse(data: bytes, name: str, zone: ZoneInfo, date_order: DateOrder | None, interactive: bool,
           chat: str | None = None, every: bool = False) -> list[ParsedConversation]:
    """The conversations to import: one, or (`every`) each chat of the export."""
    parsed: ParsedConversation | Unreadable | ChatChoice | tuple[ParsedConversation, ...]
    if every:
        parsed = read_every_chat(data, zone=zone, file_name=name, date_order=date_order)
    else:
        parsed = read_export(data, zone=zone, file_name=name, date_order=date_order, chat=chat)
    if isinstance(parsed, ParsedConversation):
        return [parsed]
    if isinstance(parsed, tuple):
        return list(parsed)
    if isinstance(parsed, ChatChoice):
        return _choose_chat(data, name, zone, date_order, parsed, interactive)
    if parsed.needs_date_order and interactive:
        answer = typer.prompt("Dates in this export could be day/month or month/day. Is 3/4 the 3rd of April "
                              "(d) or the 4th of March (m)?", value_proc=_day_or_month)
        return _parse(data, name, zone, "dmy" if answer == "d" else "mdy", False, chat, every)
    if parsed.needs_date_order:
        _fail("the day/month order cannot be told from this file; pass --date-order dmy or mdy")
    if parsed.code == "no_such_chat":
        _fail(f"{name}: {parsed.detail}; pass --chat with one of these names, or --all")
    _fail(f"{name}: {ERRORS.get(parsed.code, parsed.detail or parsed.code)}")


def _chat_list(chats: tuple[ChatSummary, ...]) -> str:
    return "\n".join(f"  {n}. {chat.name} ({chat.kind}, {chat.messages} messages)" for n, chat in enumerate(chats, 1))


def _choose_chat(data: bytes, name: str, zone: ZoneInfo, date_order: DateOrder | None, choice: ChatChoice,
                 interactive: bool) -> list[ParsedConversation]:
    chats = choice.chats
    if not interactive:
        _fail(f"{name} holds {len(chats)} chats:\n{_chat_list(chats)}\n"
              "pass --chat NAME to import one of them, or --all to import each as its own conversation")
    from bot.cli.local_import import ask_number

    typer.echo(f"{name} holds {len(chats)} chats:\n{_chat_list(chats)}\n  0. all of them, each its own conversation")
    picked = ask_number("Which chat?", 0, len(chats))
    if picked == 0:
        return _parse(data, name, zone, date_order, False, every=True)
    return _parse(data, name, zone, date_order, False, chat=chats[picked - 1].name)


def _read(path: Path) -> tuple[bytes, str]:
    """The export's bytes and the name to parse them under (a folder: the file it stands for)."""
    if path.is_dir():
        found = read_folder(path)
        if isinstance(found, Unreadable):
            _fail(f"{path}: {FOLDER_ERRORS.get(found.code, ERRORS.get(found.code, found.detail))}")
        return found
    try:
        return path.read_bytes(), path.name
    except OSError as error:
        _fail(f"cannot read {path}: {error.strerror or error}")


def register(app: typer.Typer) -> None:
    @app.command("import-chat")
    def import_chat(
        file: Path = typer.Argument(..., help="WhatsApp .txt/.zip, Telegram result.json, Slack export .zip, "
                                              "WeChat TXT/CSV, or an unzipped export folder."),
        tz: str = typer.Option(None, help="IANA zone of the exporting phone's clock (default: the member's)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Only parse and print; write nothing."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        date_order: str = typer.Option(None, help="dmy or mdy, when the file cannot tell."),
        yes: bool = typer.Option(False, "--yes", help="Never ask: a new customer from the chat's name when none matches; proposals unscheduled."),
        chat: str = typer.Option(None, "--chat", help="The chat to import from an export of several "
                                                      "(a Telegram account export), by name."),
        every: bool = typer.Option(False, "--all", help="Import each chat of an export of several as its own "
                                                        "conversation."),
    ) -> None:
        """Import an exported chat onto a customer's timeline (or print it with --dry-run --json)."""
        from core.settings import SettingsError, load_settings

        if date_order not in (None, "dmy", "mdy"):
            _fail("--date-order must be dmy or mdy")
        if chat is not None and every:
            _fail("pass either --chat NAME or --all, not both")
        try:
            settings = load_settings()
        except SettingsError as error:
            _fail(str(error))
        zone_name = tz or settings.default_timezone
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            _fail(f"unknown time zone {zone_name!r}; use an IANA name such as Asia/Taipei")
        data, name = _read(file)
        interactive = not (yes or as_json or dry_run)
        conversations = _parse(data, name, zone, date_order, interactive, chat, every)  # type: ignore[arg-type]
        several = every or len(conversations) > 1  # --all (or "all of them" typed): one summary per chat
        if dry_run:
            _print_dry_run(conversations, zone, as_json, several)
            return
        from bot.cli.local_import import import_all_locally

        results = import_all_locally(settings, conversations, zone_name, interactive=interactive)
        if as_json:
            typer.echo(json.dumps([{"chat": c.title, **r} for c, r in zip(conversations, results, strict=True)]
                                  if several else results[0], ensure_ascii=False))
            return
        for conversation, result in zip(conversations, results, strict=True):
            chat_name = f"{conversation.title or ', '.join(conversation.participants[:2])}: " if several else ""
            typer.echo(f"{chat_name}Imported {result['added']} messages ({result['duplicates']} already there) "
                       f"onto {result['customer'] or 'no customer yet'}; {len(result['proposals'])} follow-ups "
                       f"proposed, {result['scheduled']} scheduled.")
