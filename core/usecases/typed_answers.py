"""Whether a typed answer to "type the customer's name" can be a name at all.

The member may forget the question and send a whole note ("visited Acme, wants a quote Friday"): that must
not become a customer called so. An answer is refused when it is a command, too long for a name, or reads
as a sentence: it names a time, has a verb of a note, or sentence punctuation. Company names keep their
legal forms and dots ("Acme Co., Ltd.", "3M 台灣分公司", "大同五金行").
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from core.text import nfkc
from core.understanding import parse_when

MAX_LATIN = 60  # characters
MAX_WORDS = 8
MAX_HAN = 24  # CJK characters: 台灣積體電路製造股份有限公司 has 14

_SENTENCE_MARKS = re.compile(r"[。！？!?；;：:\n]|[，、](?=.{2,})")
_HAN_VERBS = re.compile(
    r"拜訪|拜访|見了|见了|見面|见面|打給|打给|打電話|打电话|電話|电话|說|说|要求|需要|想要|確認|确认|報價|报价|回覆|回复|"
    r"聯絡|联系|約了|约了|吃飯|吃饭|去了|聊了|談了|谈了|提醒|下單|下单|訂了|订了|明天|後天|后天|下週|下周|今天|昨天|"
    r"週[一二三四五六日天]|周[一二三四五六日天]|[點点]半?$")
_LATIN_VERBS = re.compile(
    r"\b(visited|visit|called|call|met|meet|meeting|said|says|wants?|asked|asks|needs?|remind|follow(?:ed)?|"
    r"quote|quoted|will|told|sent|send|ordered|signed|tomorrow|today|yesterday|next|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|is|are|was|were|he|she|they|we)\b", re.IGNORECASE)


class NameProblem(StrEnum):
    COMMAND = "command"
    TOO_LONG = "too_long"
    SENTENCE = "sentence"


def name_problem(text: str, *, now: datetime, tz: str) -> NameProblem | None:
    """Why `text` cannot be a customer's name, or None when it can."""
    cleaned = " ".join(nfkc(text).split())
    if not cleaned:
        return NameProblem.TOO_LONG if text else NameProblem.SENTENCE
    if cleaned.startswith("/"):
        return NameProblem.COMMAND
    if _SENTENCE_MARKS.search(cleaned) or _HAN_VERBS.search(cleaned) or _LATIN_VERBS.search(cleaned):
        return NameProblem.SENTENCE
    han = sum(1 for ch in cleaned if "\u3400" <= ch <= "\u9fff")
    if len(cleaned) > MAX_LATIN or han > MAX_HAN or len(cleaned.split()) > MAX_WORDS:
        return NameProblem.TOO_LONG
    if parse_when(cleaned, now=now, tz=tz) is not None:
        return NameProblem.SENTENCE
    return None
