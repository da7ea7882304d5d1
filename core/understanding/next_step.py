"""The next-step text of a note: a clean action in the note's own words, around its due time.

`提醒我明天打電話給大同五金行王總確認交期` → `打電話給王總確認交期`; `remind me to call Globex tomorrow` → `call Globex`;
`大同電子 李副理 說下週二要來看樣品` → `來看樣品`. No reminder words, no customer as mere subject, no word cut in half.
"""

from __future__ import annotations

import re

from core.text import guess_language, to_simplified
from core.understanding.people import EN_TITLE
from core.understanding.when import Moment

MAX_ACTION = 60
MAX_LEAD_IN = 8  # characters of a Chinese clause kept before the due time
MARKERS = r"新客戶|新客户|新客人|新客|(?i:new customer|new client|new lead|new prospect|prospect)"
REMIND = re.compile(r"^\s*(?:提醒我|提醒|記得要|记得要|記得|记得|別忘了|别忘了|不要忘記|不要忘记|要記得|要记得|"
                    r"(?i:remind me(?: to)?|reminder:?|don'?t forget(?: to)?|remember to|need to|have to|must|todo:?))\s*")
SPEECH_ZH = r"說|说|話|话|講|讲|表示|反映|希望|想|要求|要|問|问|提到"
SPEECH_EN = r"said|says|wants to|wants|asked to|asked|needs|would like to|would like|will"
NOISE_HEAD = re.compile(r"^(?:前|之前|以前|再|需|需要|必須|必须|請|请|得|要|就|才|會|会|先|之後|之后|[,,、:: ]|"
                        r"(?i:before|by|on|until|till|at|to|and|then|so|please)\b)+\s*")
NOISE_TAIL = re.compile(r"(?:前|之前|以前|再|吧|喔|哦|啊|啦|呀|！|!|\s|[,,、::;;]|(?i:\b(?:before|by|on|until|till|at|"
                        r"and|then|please|pls)))+$")
KEPT_ADVERBS = ("再", "先", "就", "才", "會", "会")
FOLLOW_UP = re.compile(r"\b(?:follow[- ]?up|f/u)\b", re.I)
REPORT = re.compile(r"了|咗|過了|过了|已經|已经|\b(?:was|were|had|did|met|visited|called)\b", re.I)
STRONG_ACTIONS = ((("報價", "quote"), re.compile(r"報價|报价|\bquot(e|ation)\b", re.I)),
                  (("樣品", "samples"), re.compile(r"樣品|样品|打樣|打样|\bsamples?\b", re.I)),
                  (("合約", "contract"), re.compile(r"合約|合约|簽約|签约|\bcontract\b", re.I)),
                  (("交貨", "delivery"), re.compile(r"交貨|交货|出貨|出货|送貨|送货|\bdeliver(y)?\b|\bship(ment)?\b", re.I)),
                  (("收款", "payment"), re.compile(r"收款|付款|請款|请款|發票|发票|\binvoice\b|\bpayment\b", re.I)))
_HAN = re.compile(r"[\u4e00-\u9fff]")


def clauses(text: str) -> list[tuple[int, int]]:
    """Spans between separators; a comma between digits (5,000) separates nothing."""
    cuts = [m.start() for m in re.finditer(r"[,,。;;!!\n]", text)
            if not (text[m.start()] == "," and 0 < m.start() < len(text) - 1
                    and text[m.start() - 1].isdigit() and text[m.start() + 1].isdigit())]
    spans, start = [], 0
    for cut in [*cuts, len(text)]:
        spans.append((start, cut))
        start = cut + 1
    return spans


LEADING_GO = re.compile(r"^(?:今天|今日)")
LEAD = re.compile(rf"^\s*(?:(?:{MARKERS})[\s:,:,]*|(?i:(?:{EN_TITLE})\b)\s*)*")
SPEECH_HEAD = re.compile(rf"^\s*(?:{SPEECH_ZH}|(?i:{SPEECH_EN})\b)\s*")
POSSESSIVE = re.compile(r"^\s*(?:的|'s|’s)?\s*")


def _without_subject(part: str, customer: str | None, contact: str | None) -> str:
    """Drop the reminder words and the customer (with its contact and speech verb) when they are the subject."""
    part = REMIND.sub("", part)
    names = [n.strip() for n in (customer, contact) if n and n.strip()]
    took = False
    for _ in range(4):  # 新客戶 大同電子 李副理 說…, buyer Anna Lopez wants…
        body = LEAD.sub("", part)
        name = next((n for n in names if body.casefold().startswith(n.casefold())), None)
        if name is None:
            break
        part, took = POSSESSIVE.sub("", body[len(name):]), True
    if took:
        part = SPEECH_HEAD.sub("", part, count=1)
    if customer and contact and (at := part.find(customer.strip())) >= 0:  # 打電話給大同五金行王總 → 打電話給王總
        rest = part[at + len(customer.strip()):]
        if POSSESSIVE.sub("", rest).startswith(contact.strip()):
            part = part[:at] + POSSESSIVE.sub("", rest)
    return REMIND.sub("", part)


def _tidy(part: str) -> str:
    part = FOLLOW_UP.sub(" ", part)
    part = re.sub(r"[ \t]{2,}", " ", part)
    part = re.sub(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])", "", part)
    previous = None
    while previous != part:
        previous = part
        head = NOISE_HEAD.sub("", part)
        if (_HAN.search(part) and len(head.strip()) < 2 <= len(part.strip())
                and part.strip()[:len(part.strip()) - len(head.strip())] in KEPT_ADVERBS):
            head = part  # 再談 stays 再談, not 談: never a word cut in half (but 前回 is "before": 回)
        part = NOISE_TAIL.sub("", head).strip()
    return part


def _last_chunks(part: str) -> str:
    """The space-separated words just before the time, up to MAX_LEAD_IN characters: `LINE 要 5 車 水泥` → `5 車 水泥`."""
    kept: list[str] = []
    for chunk in reversed(part.split()):
        if kept and sum(map(len, kept)) + len(chunk) > MAX_LEAD_IN:
            break
        kept.insert(0, chunk)
    return " ".join(kept)


def _shorten(action: str) -> str:
    """At most MAX_ACTION characters, cut only between words."""
    if len(action) <= MAX_ACTION:
        return action
    cut = max(action.rfind(" ", 0, MAX_ACTION), action.rfind(",", 0, MAX_ACTION), action.rfind(",", 0, MAX_ACTION))
    if cut < MAX_ACTION // 2 and _HAN.search(action[MAX_ACTION - 1:MAX_ACTION + 1]):
        cut = MAX_ACTION  # Chinese has no spaces: a character boundary is a word boundary often enough
    return action[:cut if cut > 0 else MAX_ACTION].rstrip(" ,")


def next_step(text: str, moment: Moment, customer: str | None = None, contact: str | None = None) -> str:
    """The next step: the clause around the due time without the time words, or the note's main ask."""
    spans = clauses(text)
    start, end = next(((s, e) for s, e in spans if s <= moment.start < e), (0, len(text)))
    raw_before = _without_subject(text[start:moment.start], customer, contact)
    after = _tidy(_without_subject(text[moment.end:end], customer, contact))
    chinese = bool(_HAN.search(text))
    if chinese and not _tidy(raw_before) and not after and start > 0:
        # 跟华为刘总确认交期,明天: the time stands alone; the step is the clause before it, unless that is a report
        prior = next((s, e) for s, e in spans if e == start - 1)
        previous = _tidy(_without_subject(text[prior[0]:prior[1]], customer, contact))
        if len(previous) >= 2 and not REPORT.search(previous) and len(previous) <= 20:
            return _shorten(LEADING_GO.sub("", previous) or previous)
    before = _tidy(raw_before)
    if chinese:
        if len(after) >= 2 and (not raw_before.strip() or raw_before[-1:].isspace()):
            before = ""  # 天成精密鄭廠長 來電抱怨品質 明早9點回電: the step is what follows the time
        elif " " in raw_before.strip():
            before = _tidy(_last_chunks(raw_before.strip()))
        if REPORT.search(before) or len(before) > 14 or (len(after) >= 2 and len(before) > MAX_LEAD_IN):
            before = ""
        if not after and re.search(r"(?:到|至|延到|改到)$", before):
            after = text[moment.start:moment.end].strip()
        joiner = "" if before and after and _HAN.search(before[-1] + after[:1]) else " "
        action = _tidy(joiner.join(p for p in (before, after) if p))
    else:
        if REPORT.search(before) and len(after) >= 2:
            before = ""
        action = _tidy(" ".join(p for p in (before, after) if p))
    strong = next((names[0] if chinese else names[1] for names, pattern in STRONG_ACTIONS if pattern.search(text)),
                  None)
    if strong and chinese:
        strong = _in_script(strong, text)
    if len(action) >= 2 and not re.fullmatch(r"[\W\d]+", action):
        if strong and len(action) <= 4 and not any(pattern.search(action) for _, pattern in STRONG_ACTIONS):
            return f"{action}{strong}" if _HAN.search(action) else f"{action} ({strong})"  # 聯絡 → 聯絡報價
        return _shorten(action)
    if strong:
        return f"{action}{strong}" if action and _HAN.search(action) else strong
    return _in_script("跟進", text) if chinese else "follow up"


def _in_script(word: str, text: str) -> str:
    """A Traditional action word (報價, 跟進…) in the note's script: Simplified only for a Simplified note."""
    return to_simplified(word) if guess_language(text) == "zh-Hans" else word
