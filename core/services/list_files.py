"""Read a customer list: XLSX (streamed, read-only) or CSV in UTF-8 (± BOM), UTF-16, Big5 or GB18030; find the
header row under any title rows; map its columns from header names in zh-Hant, zh-Hans and English.

Pure: bytes in, `ListSheet` out, or a `ListFileError` naming what was expected. Nothing here touches storage.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from core.services.errors import InvalidInput
from core.services.xlsx_rows import WorkbookUnreadable, xlsx_rows
from core.text import match_key

MAX_ROWS = 100_000  # data rows, after the header
HEADER_SEARCH = 20  # the header row is among the first rows (title rows above it)
COLUMNS = ("name", "contact", "title", "phone", "email", "address", "region", "owner", "tags", "notes")
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("客戶名稱", "客户名称", "客戶", "客户", "公司", "公司名稱", "公司名称", "公司全名", "公司全称", "客戶全名",
             "客户全称", "名稱", "名称", "廠商", "厂商", "廠商名稱", "单位名称", "單位名稱", "企業名稱", "企业名称",
             "客戶名", "customer", "company", "name", "customer name", "company name", "account", "account name",
             "organization", "organisation", "client", "client name", "business name"),
    "contact": ("聯絡人", "联系人", "聯繫人", "連絡人", "窗口", "聯絡窗口", "对接人", "姓名", "聯絡人姓名", "联系人姓名",
                "contact", "contact name", "contact person"),
    "title": ("職稱", "职称", "職位", "职位", "職務", "职务", "title", "job title", "position"),
    "phone": ("電話", "电话", "手機", "手机", "手機號碼", "手机号码", "手机号", "電話號碼", "电话号码", "聯絡電話",
              "联系电话", "行動電話", "市話", "座机", "號碼", "号码", "phone", "tel", "telephone", "mobile", "cell",
              "phone number", "mobile phone"),
    "email": ("email", "e-mail", "mail", "電郵", "邮箱", "郵箱", "電子郵件", "电子邮件", "電子信箱", "信箱",
              "email address"),
    "address": ("地址", "通訊地址", "通讯地址", "住址", "address"),
    "region": ("地區", "地区", "區域", "区域", "縣市", "城市", "省份", "region", "city", "area"),
    "owner": ("負責業務", "负责业务", "負責人", "负责人", "業務", "业务", "業務員", "业务员", "負責業務員", "所屬業務",
              "归属销售", "销售", "销售负责人", "客户经理", "owner", "sales rep", "salesperson", "account owner",
              "account manager", "assigned to"),
    "tags": ("標籤", "标签", "分類", "分类", "類別", "类别", "客戶等級", "客户等级", "等級", "等级", "tags", "tag",
             "category", "segment"),
    "notes": ("備註", "备注", "說明", "说明", "notes", "note", "remarks", "remark", "comments", "memo"),
}
_EXACT = {match_key(alias): column for column, aliases in HEADERS.items() for alias in aliases}
_SUFFIXES = sorted(_EXACT, key=len, reverse=True)
_DECORATION = re.compile(r"[(（\[【].*?[)）\]】]|[*＊:：]")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
# what charset-normalizer may name → the codec read with (the supersets Excel and Windows write)
_ACCEPTED = {"utf_8": "utf-8", "ascii": "utf-8", "big5": "cp950", "cp950": "cp950", "big5hkscs": "big5hkscs",
             "gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030", "hz": "gb18030"}


class ListFileError(InvalidInput):
    """The file cannot be read as a customer list; `reason` names what is wrong (and the reply what is expected)."""

    code = "not_a_customer_list"

    def __init__(self, reason: str, **details: object) -> None:
        super().__init__(reason, **details)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ListRow:
    number: int  # the row's number as the user sees it (1-based, as in Excel; the CSV line's record number)
    cells: dict[str, str]  # column → the cell's text, stripped; only mapped columns


@dataclass(frozen=True, slots=True)
class ListSheet:
    kind: str  # "xlsx" | "csv"
    encoding: str | None
    header_row: int
    columns: dict[str, str]  # column → the header as written
    rows: Iterator[ListRow]  # rows with at least one mapped cell filled in, read as they are taken (once);
    # raises ListFileError("too_many_rows") past MAX_ROWS and ("damaged") where the file breaks off
    filled_above: int = 1  # rows with any cell filled in, up to the header (included)


def looks_like_spreadsheet(data: bytes, file_name: str | None = None) -> bool:
    """A file the user meant as a list: an XLSX (even damaged or encrypted), an old .xls, or named .csv/.xlsx."""
    name = (file_name or "").lower()
    return (data.startswith(b"PK") and _is_xlsx_zip(data)) or data.startswith(_OLE) or \
        name.endswith((".xlsx", ".xlsm", ".xls", ".csv", ".tsv"))


def _is_xlsx_zip(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(name.startswith("xl/") for name in archive.namelist())
    except zipfile.BadZipFile:
        return False


def header_map(row: Iterable[str], *, loose: bool = True) -> dict[str, int]:
    """Column → index for a header row: exact names first, then (`loose`) a known name ending the header
    (`聯絡人電話` → phone, `公司名稱 Company Name` → name); a column is mapped once, by its first header."""
    keys = [match_key(_DECORATION.sub("", cell)) or match_key(cell) for cell in row]
    mapping: dict[str, int] = {}
    for index, key in enumerate(keys):
        column = _EXACT.get(key)
        if column and column not in mapping:
            mapping[column] = index
    taken = set(mapping.values())
    for index, key in enumerate(keys if loose else ()):
        if index in taken or not key:
            continue
        column = next((_EXACT[s] for s in _SUFFIXES if len(s) >= 2 and key.endswith(s)), None)
        if column and column not in mapping:
            mapping[column] = index
    return mapping


def read_list(data: bytes, file_name: str | None = None) -> ListSheet:
    """The list's header and its rows, streamed (raises `ListFileError`: empty, encrypted, old_xls, damaged, binary,
    unknown_encoding, no_name_column here; too_many_rows and damaged also while the rows are taken)."""
    if not data.strip():
        raise ListFileError("empty")
    if data.startswith(_OLE):
        raise ListFileError("encrypted" if _ENCRYPTED in data else "old_xls")
    if data.startswith(b"PK") or (file_name or "").lower().endswith((".xlsx", ".xlsm")):
        sheet = _from_rows("xlsx", None, _xlsx_rows(data))
        if _xml_rows_at_most(data) - sheet.filled_above > MAX_ROWS:  # (empty rows above may not be written)
            _count_rows(_from_rows("xlsx", None, _xlsx_rows(data)))
        return sheet
    encoding, text = decode_text(data)
    sheet = _from_rows("csv", encoding, _csv_rows(text))
    if text.count("\n") + 1 - sheet.header_row > MAX_ROWS:
        _count_rows(_from_rows("csv", encoding, _csv_rows(text)))
    return sheet


def _count_rows(sheet: ListSheet) -> None:
    """Read every row (raising `too_many_rows` past MAX_ROWS) before anything is stored, when the file may hold
    more rows than that: a long list is refused at once, not after 100,000 rows were written and rolled back."""
    for _ in sheet.rows:
        pass


def _xml_rows_at_most(data: bytes) -> int:
    """An upper bound of the first worksheet's rows: the `<row` elements of every worksheet, counted while the
    parts are decompressed in pieces (no XML parsing, no whole part in memory)."""
    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                    continue
                with archive.open(name) as part:
                    tail = b""  # shorter than `<row `: holds no whole match, only the start of one cut in two
                    while piece := part.read(1 << 20):
                        window = tail + piece
                        total += window.count(b"<row ") + window.count(b"<row>")
                        tail = window[-4:]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return 0  # the rows themselves say what is wrong
    return total


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    try:
        yield from xlsx_rows(data)
    except WorkbookUnreadable as exc:
        raise ListFileError("damaged") from exc


def decode_text(data: bytes) -> tuple[str, str]:
    """(encoding, text) of a CSV: BOMs first, then strict UTF-8, then charset-normalizer's candidates among Big5
    and GB18030 — the one whose first rows hold a customer-list header wins (short Chinese texts are ambiguous)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", _strict(data, "utf-8-sig")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", _strict(data, "utf-16")
    if b"\x00" in data[:4096]:
        raise ListFileError("binary")
    try:
        return "utf-8", data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    candidates = [m.encoding for m in from_bytes(data[:262_144])]
    codecs = list(dict.fromkeys(_ACCEPTED[c] for c in candidates if c in _ACCEPTED))
    decoded: list[tuple[str, str]] = []
    for codec in codecs:
        try:
            decoded.append((codec, data.decode(codec)))
        except UnicodeDecodeError:
            continue
    if not decoded:
        raise ListFileError("unknown_encoding")
    for codec, text in decoded:
        try:
            head = list(_csv_rows(text[:8192]))[:HEADER_SEARCH]
        except ListFileError:
            continue
        if any(len(header_map(row)) > 1 and "name" in header_map(row) for row in head):
            return codec, text
    plausible = [(codec, text) for codec, text in decoded if _common_han(codec, text)]
    if not plausible:
        raise ListFileError("unknown_encoding")
    return plausible[0]


_COMMON = {"cp950": (0xA440, 0xC67E), "big5hkscs": (0xA440, 0xC67E), "gb18030": (0xB0A1, 0xD7FE)}


def _common_han(codec: str, text: str, *, share: float = 0.8) -> bool:
    """Most Chinese characters of the text are everyday ones in that encoding (Big5 level 1, GB2312 level 1):
    the wrong double-byte encoding (Shift_JIS read as GB18030, …) decodes into rare characters."""
    han = [c for c in text[:20_000] if "\u4e00" <= c <= "\u9fff"][:2000]
    if not han or codec not in _COMMON:
        return True
    low, high = _COMMON[codec]
    common = 0
    for char in han:
        try:
            code = int.from_bytes(char.encode("gb2312" if codec == "gb18030" else codec), "big")
        except UnicodeEncodeError:
            continue
        common += low <= code <= high
    return common >= share * len(han)


def _strict(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise ListFileError("unknown_encoding") from exc


def _csv_rows(text: str) -> Iterator[list[str]]:
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel_tab if sample.count("\t") > sample.count(",") else csv.excel
    try:
        for row in csv.reader(io.StringIO(text), dialect):
            yield [cell.strip() for cell in row]
    except csv.Error as exc:
        raise ListFileError("damaged") from exc


def _from_rows(kind: str, encoding: str | None, rows: Iterator[list[str]]) -> ListSheet:
    filled = 0
    for number, row in enumerate(rows, 1):
        filled += any(row)
        mapping = header_map(row) if any(row) else {}
        # a header names the company exactly, or has another known column beside it (not "Dear customer,")
        if "name" in mapping and (len(mapping) > 1 or "name" in header_map(row, loose=False)):
            data = _data_rows(rows, mapping, number)
            first = next(data, None)
            if first is None:
                raise ListFileError("empty")  # a header and no customers under it
            return ListSheet(kind, encoding, number, {c: row[i] for c, i in mapping.items()},
                             itertools.chain((first,), data), filled)
        if number >= HEADER_SEARCH:
            break
    raise ListFileError("no_name_column" if filled else "empty")


def _data_rows(rows: Iterator[list[str]], mapping: dict[str, int], header_row: int) -> Iterator[ListRow]:
    count = 0
    width = max(mapping.values()) + 1
    items = list(mapping.items())
    for number, row in enumerate(rows, header_row + 1):
        if len(row) < width:
            row = [*row, *[""] * (width - len(row))]
        cells = {column: row[index] for column, index in items if row[index]}
        if not cells:
            continue
        count += 1
        if count > MAX_ROWS:
            raise ListFileError("too_many_rows", limit=MAX_ROWS)
        yield ListRow(number, cells)
