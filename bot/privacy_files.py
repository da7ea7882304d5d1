"""Privacy exports as files: one subject's zip (`<name>.xlsx`, one sheet per kind, and `<name>.json`, the same
rows, plus the stored files and voice clips under files/ and audio/), and the whole team's workbook written row
by row with openpyxl's write-only mode (`chatcrm export`), so a large team never sits in memory.

Sheet names are in the member's language; column headers are the stored field names, the same as the JSON keys,
so the two files read alike. Times are UTC (ISO 8601 in the JSON and a person's workbook; UTC dates in the
team's workbook); lists and objects are written as JSON text in one cell."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.chat import OutFile
from core.usecases.privacy import PersonalExport

Translate = Callable[..., str]
ZIP_MIME = "application/zip"
MAX_CELL = 32_767  # the most characters an XLSX cell holds
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def file_stem(name: str) -> str:
    """A subject's name as a file name (no path separators or characters Windows refuses)."""
    return _UNSAFE_NAME.sub("_", name).strip(" ._")[:80] or "export"


def cell(value: Any) -> Any:
    """A stored value as an XLSX cell: text cleaned and cut to fit, aware times as UTC, lists/objects as JSON."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        return _ILLEGAL.sub("", value)[:MAX_CELL]
    return value


def _sheet_title(text: str) -> str:
    return "".join(ch for ch in text if ch not in "[]:*?/\\")[:31] or "-"


def _write(book: Any, title: str, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> int:
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
    from openpyxl.styles import Font  # type: ignore[import-untyped]

    sheet = book.create_sheet(_sheet_title(title))
    bold = Font(bold=True)
    heading = []
    for name in header:
        item = WriteOnlyCell(sheet, value=name)
        item.font = bold
        heading.append(item)
    sheet.append(heading)
    count = 0
    for row in rows:
        sheet.append([cell(v) for v in row])
        count += 1
    return count


def personal_zip(export: PersonalExport, tr: Translate) -> OutFile:
    """The subject's zip: `<name>.xlsx`, `<name>.json` and the attached files and clips."""
    from openpyxl import Workbook  # type: ignore[import-untyped]  # on the first export only

    stem = file_stem(export.subject.name)
    book = Workbook(write_only=True)
    for kind, rows in export.sheets:
        header = list(dict.fromkeys(key for row in rows for key in row))
        _write(book, tr(f"privacy.sheet_{kind}"), header or ["id"],
               ([row.get(key) for key in header] for row in rows))
    workbook = io.BytesIO()
    book.save(workbook)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}.xlsx", workbook.getvalue())
        archive.writestr(f"{stem}.json", json.dumps(export.as_json(), ensure_ascii=False, indent=2))
        for path, data in export.attachments:
            archive.writestr(path, data)
    return OutFile(f"{stem}.zip", buffer.getvalue(), ZIP_MIME)


def team_xlsx(sheets: Iterable[tuple[str, tuple[str, ...], Iterable[tuple[Any, ...]]]], out: Path,
              tr: Translate) -> dict[str, int]:
    """Write the team's sheets to `out` row by row; returns the number of rows per sheet."""
    from openpyxl import Workbook  # type: ignore[import-untyped]

    book = Workbook(write_only=True)
    counts = {kind: _write(book, tr(f"privacy.sheet_{kind}"), header, rows) for kind, header, rows in sheets}
    book.save(out)
    return counts
