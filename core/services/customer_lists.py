"""Import a customer list (CSV or XLSX, Chinese or English headers) in one transaction."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field

from sqlmodel import Session

from core.services import customers as customer_service
from core.services.actor import Actor
from core.services.errors import InvalidInput
from core.text import match_key

MAX_ROWS = 20_000
HEADERS = {
    "name": ("客戶名稱", "客户名称", "客戶", "客户", "公司", "公司名稱", "公司名称", "名稱", "名称", "customer", "company",
             "name", "customer name", "company name", "account"),
    "phone": ("電話", "电话", "手機", "手机", "phone", "tel", "mobile", "telephone"),
    "email": ("email", "e-mail", "電郵", "邮箱", "電子郵件", "电子邮件"),
    "address": ("地址", "address"),
    "region": ("地區", "地区", "區域", "区域", "region", "city", "城市"),
    "contact": ("聯絡人", "联系人", "窗口", "contact", "contact name"),
    "title": ("職稱", "职称", "職位", "职位", "title", "position"),
    "tags": ("標籤", "标签", "tags", "tag", "分類", "分类", "category"),
}
_LOOKUP = {match_key(alias): column for column, aliases in HEADERS.items() for alias in aliases}


class NotACustomerList(InvalidInput):
    code = "not_a_customer_list"


@dataclass
class ListImport:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    names: list[str] = field(default_factory=list)


def looks_like_xlsx(data: bytes) -> bool:
    if not data.startswith(b"PK"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(name.startswith("xl/") for name in archive.namelist())
    except zipfile.BadZipFile:
        return False


def read_rows(data: bytes) -> list[list[str]]:
    """Rows of a CSV (UTF-8, UTF-8 BOM, Big5 or GBK) or the first sheet of an XLSX."""
    if looks_like_xlsx(data):
        from openpyxl import load_workbook  # type: ignore[import-untyped]

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # openpyxl raises many types for damaged files
            raise NotACustomerList("damaged spreadsheet") from exc
        return [["" if v is None else str(v).strip() for v in row] for row in sheet.iter_rows(values_only=True)]
    if b"\x00" in data[:4096]:
        raise NotACustomerList("binary file")
    for encoding in ("utf-8-sig", "big5", "gbk"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise NotACustomerList("unknown text encoding")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), dialect)]


def header_map(row: list[str]) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for index, cell in enumerate(row):
        column = _LOOKUP.get(match_key(cell))
        if column and column not in mapping:
            mapping[column] = index
    return mapping


def is_customer_list(data: bytes) -> bool:
    try:
        rows = read_rows(data)
    except NotACustomerList:
        return False
    return bool(rows) and "name" in header_map(rows[0])


def import_customer_list(session: Session, actor: Actor, data: bytes) -> ListImport:
    rows = read_rows(data)
    if not rows or "name" not in (columns := header_map(rows[0])):
        raise NotACustomerList("no customer name column")
    if len(rows) - 1 > MAX_ROWS:
        raise NotACustomerList(f"more than {MAX_ROWS} rows")
    result = ListImport()

    def cell(row: list[str], column: str) -> str:
        index = columns.get(column)
        return row[index].strip() if index is not None and index < len(row) else ""

    for row in rows[1:]:
        name = cell(row, "name")
        if not name or not match_key(name):
            result.skipped += 1
            continue
        resolution = customer_service.resolve_customer(session, actor, name)
        existing = resolution.customer if resolution.customer and resolution.customer.name_key == match_key(name) else None
        customer = existing or customer_service.create_customer(session, actor, name)
        phone, email = cell(row, "phone"), cell(row, "email")
        if phone and phone not in customer.phones:
            customer.phones = [*customer.phones, phone]
        customer.email = customer.email or email or None
        customer.address = customer.address or cell(row, "address") or None
        customer.region = customer.region or cell(row, "region") or None
        tags = [t.strip() for t in cell(row, "tags").replace(",", ",").split(",") if t.strip()]
        customer.tags = sorted({*customer.tags, *tags})
        session.add(customer)
        if contact := cell(row, "contact"):
            customer_service.add_contact(session, actor, customer.id or 0, contact, title=cell(row, "title") or None)
        if existing:
            result.updated += 1
        else:
            result.created += 1
            result.names.append(name)
    session.flush()
    return result
