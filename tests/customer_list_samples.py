"""Customer lists as salespeople send them: XLSX workbooks (made with openpyxl) with title rows above the header,
CSVs in UTF-8 (± BOM), Big5 and GB18030, in zh-Hant, zh-Hans and English."""

from __future__ import annotations

import io
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
