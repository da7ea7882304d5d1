"""Admin requests typed as sentences, told apart from notes: "刪除「電子」這個客戶", "删除电子这个客户",
"把電子這個客戶刪掉", "delete customer Acme".

Strict on purpose: the whole message must be the request (a verb of deleting and the word customer around one
short name), so a note that only mentions deleting ("客戶說要刪除舊訂單", "delete the old quote for Acme") is
not one. A quoted name is surely meant; an unquoted one is taken only when it names a known customer (the caller
checks, see `bot.admin_phrases`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_NAME = 40
MAX_WORDS = 6
_DELETE = r"(?:刪除|删除|刪掉|删掉|移除)"
_CUSTOMER = r"(?:客戶|客户)"
_THIS = r"(?:這個|这个|這位|这位|這家|这家|該|该)?"
_PLEASE = r"(?:請|请|麻煩|麻烦)?\s*(?:幫我|帮我|幫忙|帮忙)?\s*"
_OPEN, _CLOSE = "「『“\"《", "」』”\"》"
_NAME = rf"(?P<open>[{_OPEN}]?)(?P<name>[^{_OPEN}{_CLOSE}\n]+?)(?P<close>[{_CLOSE}]?)"
_END = r"\s*[。.!！]?\s*$"
_PATTERNS = (
    re.compile(rf"^{_PLEASE}{_DELETE}(?:掉)?\s*{_CUSTOMER}\s*[:：]?\s*{_NAME}{_END}"),  # 刪除客戶「電子」
    re.compile(rf"^{_PLEASE}{_DELETE}\s*{_NAME}\s*{_THIS}\s*{_CUSTOMER}{_END}"),  # 刪除「電子」這個客戶
    re.compile(rf"^{_PLEASE}把\s*{_NAME}\s*{_THIS}\s*{_CUSTOMER}\s*(?:給|给)?\s*{_DELETE}(?:掉)?(?:吧)?{_END}"),
    re.compile(rf"^(?:please\s+)?(?:delete|remove)\s+(?:the\s+)?customer\s+{_NAME}(?:\s+please)?{_END}",
               re.IGNORECASE),  # delete customer Acme
)
_NOT_A_NAME = re.compile(r"^(?:的|之|資料|资料|所有|全部|all\b|data\b|the\b)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DeleteCustomer:
    name: str
    quoted: bool  # the name was in quotes: surely a request, even for a name we do not know


def delete_customer(text: str) -> DeleteCustomer | None:
    """The customer a "delete customer X" message names, or None for anything else (a note)."""
    text = text.strip()
    if not text or "\n" in text or len(text) > MAX_NAME + 20:
        return None
    for pattern in _PATTERNS:
        found = pattern.match(text)
        if found is None:
            continue
        name = found["name"].strip()
        quoted = bool(found["open"]) and bool(found["close"])
        if bool(found["open"]) != bool(found["close"]):
            return None
        if not name or len(name) > MAX_NAME or len(name.split()) > MAX_WORDS or _NOT_A_NAME.match(name):
            return None
        return DeleteCustomer(name, quoted)
    return None
