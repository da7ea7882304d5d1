"""The rows of an XLSX workbook's first worksheet as text, streamed.

openpyxl opens the package (content types, workbook, sheet relations, styles: which cell styles are dates); the
shared strings and the worksheet's cells are then read with one `iterparse` pass each, clearing every row, because
openpyxl's read-only cell parser reads ~7,000 rows/s on our machine (bench/RESULTS.md) and the import must
reach 5,000 rows/s in total. Formulas give their cached values (data_only); rich text and inline strings their
text; phonetic runs (rPh) are left out.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import IO, Any
from xml.etree.ElementTree import iterparse

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _TEXT, _SI = f"{NS}row", f"{NS}c", f"{NS}v", f"{NS}t", f"{NS}si"
_RUN, _INLINE, _SHEET_DATA = f"{NS}r", f"{NS}is", f"{NS}sheetData"
_COLUMN = re.compile(r"[A-Z]+")


class WorkbookUnreadable(Exception):
    """The package or a part of it is not what an XLSX holds (damaged, cut off, not a workbook)."""


def _text_of(item: Any) -> str:
    """The text of an <si> or <is>: its <t>, or its runs' <t>s (not the phonetic <rPh> runs)."""
    direct = item.find(_TEXT)
    if direct is not None:
        return direct.text or ""
    return "".join(run.findtext(_TEXT) or "" for run in item.iter(_RUN))


def _shared_strings(source: IO[bytes]) -> list[str]:
    strings: list[str] = []
    for _, element in iterparse(source):
        if element.tag == _SI:
            strings.append(_text_of(element))
            element.clear()
    return strings


def _column_index(reference: str | None, fallback: int) -> int:
    if not reference:
        return fallback
    letters = _COLUMN.match(reference)
    if letters is None:
        return fallback
    index = 0
    for letter in letters.group():
        index = index * 26 + ord(letter) - 64
    return index - 1


def _number_text(raw: str) -> str:
    if raw.isdigit():
        return raw
    try:
        number = float(raw)
    except ValueError:
        return raw
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else raw  # a phone typed as a number


def open_first_sheet(data: bytes) -> tuple[Any, str, list[str], set[int], dt.datetime]:
    """(zip archive, the first worksheet's part name, shared strings, date style ids, epoch) via openpyxl."""
    from openpyxl.reader.excel import ExcelReader  # type: ignore[import-untyped]
    from openpyxl.styles.stylesheet import apply_stylesheet  # type: ignore[import-untyped]
    from openpyxl.xml.constants import SHARED_STRINGS  # type: ignore[import-untyped]

    try:
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        part = next((rel.target for _, rel in reader.parser.find_sheets()
                     if rel.target in reader.valid_files and "chartsheet" not in rel.Type), None)
        listed = reader.package.find(SHARED_STRINGS)
        strings_part = listed.PartName[1:] if listed is not None else None
        strings: list[str] = []
        if strings_part:
            with reader.archive.open(strings_part) as source:
                strings = _shared_strings(source)
    except Exception as exc:  # openpyxl and zipfile raise many types for damaged packages
        raise WorkbookUnreadable(str(exc)) from exc
    if part is None:
        raise WorkbookUnreadable("no worksheet")
    return reader.archive, part, strings, set(getattr(reader.wb, "_date_formats", ()) or ()), reader.wb.epoch


def xlsx_rows(data: bytes) -> Iterator[list[str]]:
    """Each row of the first worksheet as a list of cell texts (empty strings for empty cells, none trailing)."""
    from openpyxl.utils.datetime import from_excel  # type: ignore[import-untyped]

    archive, part, strings, date_styles, epoch = open_first_sheet(data)
    try:
        with archive.open(part) as source:
            number = 0  # rows Excel leaves out (empty ones) are yielded empty, so numbers stay Excel's
            for _, element in iterparse(source):
                if element.tag == _ROW:
                    given = element.get("r")
                    at = int(given) if given and given.isdigit() else number + 1
                    while number + 1 < at:
                        number += 1
                        yield []
                    number = at
                    yield _row(element, strings, date_styles, epoch, from_excel)
                    element.clear()
                elif element.tag == _SHEET_DATA:
                    break
    except (OSError, EOFError, SyntaxError, ValueError, IndexError) as exc:  # cut off, bad XML, bad index
        raise WorkbookUnreadable(str(exc)) from exc
    finally:
        archive.close()


def _row(element: Any, strings: list[str], date_styles: set[int], epoch: dt.datetime, from_excel: Any) -> list[str]:
    cells: list[str] = []
    for cell in element.iter(_CELL):
        index = _column_index(cell.get("r"), len(cells))
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = cell.find(_INLINE)
            value = _text_of(inline) if inline is not None else ""
        else:
            raw = cell.findtext(_VALUE)
            if raw is None:
                continue
            if kind == "s":
                value = strings[int(raw)]
            elif kind == "b":
                value = "TRUE" if raw == "1" else "FALSE"
            elif kind == "n":
                style = cell.get("s")
                value = _date_text(raw, epoch, from_excel) if style and int(style) in date_styles else \
                    _number_text(raw)
            else:  # str (a formula's text), e (an error), d (ISO date)
                value = raw
        value = value.strip()
        if not value:
            continue
        if index >= len(cells):
            cells.extend([""] * (index - len(cells) + 1))
        cells[index] = value
    return cells


def _date_text(raw: str, epoch: dt.datetime, from_excel: Any) -> str:
    try:
        value = from_excel(float(raw), epoch)
    except (OverflowError, ValueError):
        return raw
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    return str(value)
