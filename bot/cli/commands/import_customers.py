"""`chatcrm import-customers FILE`: import a customer list (XLSX, or CSV in UTF-8, Big5 or GB18030) for the local
member's team, rows of one company merged, all or nothing; `--dry-run` writes nothing, `--json` prints the result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import typer

from core.usecases.customer_lists import MAX_ROWS, CustomerListImported, NotACustomerList, UnknownOwner

EXPECTED = "an XLSX workbook or a CSV in UTF-8, Big5 or GB18030 with a header row naming a company column " \
           "(公司名稱 / 客户名称 / Company)"
PROBLEMS = {
    "empty": "the list is empty; expected a header row (公司名稱 / 客户名称 / Company …) and one row per customer",
    "no_name_column": "no company column found in the first 20 rows; expected a header such as 公司名稱, 客戶名稱, "
                      "客户名称, Company or Customer",
    "too_many_rows": f"more than {MAX_ROWS:,} customers; split the list into files of at most {MAX_ROWS:,} rows",
    "encrypted": "the workbook is password-protected; remove the password in Excel (File › Info › Protect "
                 "Workbook) or save it as CSV",
    "old_xls": "this is an old Excel .xls file; save it as .xlsx or CSV",
    "damaged": f"the file is damaged or not a spreadsheet; expected {EXPECTED}",
    "binary": f"not a text or spreadsheet file; expected {EXPECTED}",
    "unknown_encoding": "the CSV's text encoding is not UTF-8, Big5 or GB18030; save it as \"CSV UTF-8\"",
}


def _fail(message: str) -> NoReturn:
    typer.echo(f"chatcrm import-customers: {message}", err=True)
    raise typer.Exit(2)


def summary_text(name: str, result: CustomerListImported) -> str:
    head = f"{'Dry run, nothing written: ' if result.dry_run else ''}{name}: "
    verb = "would be " if result.dry_run else ""
    lines = [f"{head}{result.created} customers {verb}created, {result.updated} {verb}updated, "
             f"{result.merged_duplicates} duplicate rows merged, {result.skipped} rows skipped."]
    lines += [f"  row {s.row}: {s.reason}" for s in result.skipped_rows[:20]]
    if result.skipped > 20:
        lines.append(f"  … and {result.skipped - 20} more (see --json)")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    @app.command("import-customers")
    def import_customers(
        file: Path = typer.Argument(..., help="A customer list: .xlsx, or .csv in UTF-8, Big5 or GB18030."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Read and match the list; write nothing."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
        owner: str = typer.Option(None, "--owner", help="Member who owns new customers whose row names no owner "
                                                        "(default: you)."),
    ) -> None:
        """Import a customer list; rows of one company (same name or phone) become one customer."""
        from bot.cli.local_import import as_local_owner
        from core.services.errors import NotAllowed
        from core.settings import SettingsError, load_settings
        from core.usecases import customer_lists

        try:
            settings = load_settings()
        except SettingsError as error:
            _fail(str(error))
        try:
            data = file.read_bytes()
        except OSError as error:
            _fail(f"cannot read {file}: {error.strerror or error}")
        with as_local_owner(settings) as (app, uow, actor):
            try:
                result = customer_lists.import_customer_list(uow, actor, data, file.name, now=app.clock.now(),
                                                             dry_run=dry_run, owner=owner)
            except NotACustomerList as error:
                _fail(f"{file.name}: {PROBLEMS.get(error.reason, error.reason)}")
            except UnknownOwner as error:
                named: list[str] = error.details.get("members", [])  # type: ignore[assignment]
                members = ", ".join(named)
                _fail(f"--owner {owner!r} is not a member of the team (members: {members})")
            except NotAllowed as error:
                _fail(str(error))
            if dry_run:
                uow.rollback()
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False) if as_json else summary_text(file.name, result))
