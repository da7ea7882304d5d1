"""Customer lists as salespeople send them: XLSX workbooks (made with openpyxl) with title rows above the header,
CSVs in UTF-8 (± BOM), Big5 and GB18030, in zh-Hant, zh-Hans and English."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence

from openpyxl import Workbook

TAIPEI_HEADER = ["公司名稱", "聯絡人", "職稱", "電話", "Email", "地址", "負責業務", "標籤", "備註"]
TAIPEI_ROWS = [
    ["大同五金股份有限公司", "王志明", "總經理", "02-2345-6789", "wang@datong.com.tw", "台北市中山區南京東路二段100號",
     "陳小姐", "VIP、五金", "月底對帳"],
    ["永豐電子有限公司", "林美惠", "採購經理", "0912-345-678", "mh.lin@yongfeng.tw", "新北市板橋區文化路一段50號",
     "", "電子", ""],
    ["大同五金", "李副理", "副理", "(02)2345-6789 / 0922 111 222", "", "", "", "五金", "二樓倉庫收貨"],  # same as row 4
    ["", "張先生", "", "0933-000-111", "", "", "", "", "名片未寫公司"],  # no company: skipped
    ["美商3M股份有限公司台灣分公司", "Kevin Huang", "Buyer", "+886 2 2700 5888", "KHuang@3M.COM", "", "", "", ""],
]
SHANGHAI_HEADER = ["客户名称", "联系人", "手机", "邮箱", "负责人", "标签", "备注"]
SHANGHAI_ROWS = [
    ["美的集团股份有限公司", "赵经理", "13812345678", "zhao@midea.cn", "", "家电", "年底集采"],
    ["华为技术有限公司", "刘总", "13900001111", "", "", "通信;大客户", ""],
    ["美的集团", "孙小姐", "13812345678", "", "", "", ""],  # same company, same phone
    ["深圳腾讯计算机系统有限公司", "", "0755-86013388", "", "", "", ""],
]
ENGLISH_HEADER = ["Company Name", "Contact Person", "Job Title", "Phone", "E-mail", "Account Owner", "Tags", "Notes"]
ENGLISH_ROWS = [
    ["Acme Trading Co., Ltd.", "Anna Lopez", "Procurement Manager", "+1 415 555 0100", "anna@acme.example",
     "", "distributor", "prefers email"],
    ["Blue Harbour Logistics", "Tom Baker", "CFO", "+44 20 7946 0958", "tom@blueharbour.example", "", "", ""],
    ["ACME TRADING", "Mr. Lee", "Buyer", "+1 (415) 555-0101", "", "", "", ""],
    ["Globex Corporation", "", "", "", "sales@globex.example", "", "", "pays late"],
]


def xlsx(header: Sequence[str], rows: Iterable[Sequence[object]], *, title: Sequence[str] = (),
         sheet: str = "客戶名單") -> bytes:
    """A workbook whose first sheet has `title` rows (and a blank row) above the header, as exported from an ERP."""
    book = Workbook()
    ws = book.active
    ws.title = sheet
    for line in title:
        ws.append([line])
    if title:
        ws.append([])
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], encoding: str, *, title: str = "") -> bytes:
    import csv

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    if title:
        writer.writerow([title])
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def excel_xlsx(header: Sequence[str], rows: Iterable[Sequence[object]], *, title: str = "") -> bytes:
    """A workbook laid out as Excel writes it (openpyxl writes inline strings): shared strings, a <dimension>,
    numbers as <v> (a phone typed as a number), dates as serials with a date style, blank rows left out."""
    from xml.sax.saxutils import escape

    strings: dict[str, int] = {}

    def cell(column: int, row: int, value: object) -> str:
        ref = f"{chr(65 + column)}{row}"
        if isinstance(value, int | float):
            return f'<c r="{ref}"><v>{value}</v></c>'
        if isinstance(value, tuple) and value[0] == "date":  # ("date", serial)
            return f'<c r="{ref}" s="1"><v>{value[1]}</v></c>'
        index = strings.setdefault(str(value), len(strings))
        return f'<c r="{ref}" t="s"><v>{index}</v></c>'

    lines = ([title] if title else []), ([] if title else None), header
    body: list[str] = []
    number = 0
    for line in [*(x for x in lines if x is not None), *rows]:
        number += 1
        cells = "".join(cell(i, number, v) for i, v in enumerate(line) if v not in ("", None))
        if cells:  # Excel leaves empty rows out
            body.append(f'<row r="{number}">{cells}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    sst = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
        'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
        f'org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        '<sheet name="客戶名單" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" '
        f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{rel}/sharedStrings" '
        f'Target="sharedStrings.xml"/><Relationship Id="rId3" Type="{rel}/styles" Target="styles.xml"/>'
        '</Relationships>',
        "xl/styles.xml": f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{main}"><fonts count="1"><font>'
        '<sz val="11"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf/>'
        '</cellStyleXfs><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        '</styleSheet>',
        "xl/sharedStrings.xml": f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}" count="{len(strings)}" '
        f'uniqueCount="{len(strings)}">{sst}</sst>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><dimension '
        f'ref="A1:{chr(64 + len(header))}{number}"/><sheetData>{"".join(body)}</sheetData></worksheet>',
    }
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("[Content_Types].xml", "_rels/.rels", *[n for n in parts if n.startswith("xl/")]):
            archive.writestr(name, parts[name])
    return buffer.getvalue()


def _workbook(*rows: list[object]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _broken_sheet() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(xlsx(TAIPEI_HEADER, TAIPEI_ROWS)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, data[: len(data) // 2] if item.filename.endswith("sheet1.xml") else data)
    return buffer.getvalue()


# what Excel writes for "Encrypt with Password": a compound file holding an EncryptedPackage stream
ENCRYPTED = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptedPackage".encode("utf-16-le") + bytes(64)
BAD = [  # (file name, bytes, the reason it is refused)
    ("empty.xlsx", _workbook(), "empty"),
    ("header-only.xlsx", _workbook(["公司名稱", "電話"]), "empty"),
    ("title-only.xlsx", _workbook(["2026 客戶名單"]), "no_name_column"),
    ("products.csv", "產品,數量\n螺絲,100\n".encode("big5"), "no_name_column"),
    ("protected.xlsx", ENCRYPTED, "encrypted"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024), "old_xls"),
    ("cut.xlsx", xlsx(TAIPEI_HEADER, TAIPEI_ROWS)[:3000], "damaged"),
    ("broken-sheet.xlsx", _broken_sheet(), "damaged"),
    ("shift-jis.csv", "会社名,担当者,電話\n株式会社サンプル,山田太郎,03-1234-5678\n".encode("shift_jis"), "unknown_encoding"),
    ("really-binary.csv", bytes(range(256)) * 40, "binary"),
    ("huge.csv", ("Company,Phone\n" + "".join(f"Firm {i},\n" for i in range(100_001))).encode(), "too_many_rows"),
]
