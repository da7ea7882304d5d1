"""Turn a salesperson's one-message note into a draft: customer, contact, kind, amounts, when, next step."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.text import guess_language, nfkc, to_script
from core.understanding.amounts import Amount, find_amounts
from core.understanding.names import CandidateCustomer, CustomerIndex, Mention, keyed
from core.understanding.people import en_contact, zh_contact
from core.understanding.when import Moment, find_moments

log = logging.getLogger(__name__)
MAX_CHARS = 4000
MEETING_WORDS = (r"開會|开会|會議|会议|視訊|视讯|视频|簡報|简报|見面|见面|約咗|(?<![簽签])約了|(?<![簽签])约了|\bmeeting\b|\bmet\b|\bzoom\b|"
                 r"\bteams call\b|\bworkshop\b|\bpresentation\b|\blunch\b|\bdinner\b|吃飯|吃饭|餐敘|餐叙")

KINDS = (
    ("visit", re.compile(r"拜訪|拜访|拜會|拜会|到訪|到访|參觀|参观|(?:^|\s|下午|上午|早上|今天|昨天|剛)去(?:咗|了)?\s*[\u4e00-\u9fffA-Za-z]|"
                         r"見了|见了|見(?!面)|见(?!面)|\bvisit(ed|ing)?\b|\bstopped by\b|\bdropped by\b|\bwent to\b|"
                         r"\bon[- ]site\b", re.I)),
    ("meeting", re.compile(MEETING_WORDS, re.I)),
    ("call", re.compile(r"打電話|打电话|電話|电话|致電|致电|來電|来电|回電|回电|通話|通话|打給|打给|打來|打来|打嚟|打俾|"
                        r"(?<![a-z])call(ed|ing)?(?![a-z])|\bphoned?\b|\brang\b|\bon the phone\b|\bspoke (to|with)\b", re.I)),
    ("message", re.compile(r"訊息|讯息|消息|簡訊|短信|傳了|传了|\bline\b|微信|wechat|whatsapp|\be-?mail(ed)?\b|\btexted\b|"
                           r"\bmessaged?\b|\bdm\b|寄信|郵件|邮件|電郵|电邮|發信|发信", re.I)),
)
ZH_VERBS = re.compile(r"拜訪了?|拜访了?|拜會|拜会|到訪|到访|參觀|参观|去了|去|到|見了|见了|見|见|打電話給|打电话给|打給|打给|"
                      r"致電|致电|電話|电话|聯絡|联络|聯繫|联系|約了|约了|約|约|跟|和|與|与|陪|寄給|寄给|送貨到|送货到|"
                      r"回覆|回复|問了?|问了?|傳給|传给|打俾|約咗|去咗|同|call(?![a-z])|拜")
ZH_STOP = re.compile(r"[,,。;;!!??\s::、(（)）]|說|说|要|想|的|表示|反映|提到|問|问|詢|询|下單|下单|訂|订|確認|确认|"
                     r"需要|談|谈|聊|討論|讨论|報價|报价|那邊|那边|這邊|这边|公司的|同意|希望|覺得|觉得|嫌|看|試|试|對|对|"
                     r"回覆|回复|叫貨|叫货|開會|开会|見面|见面|吃飯|吃饭|碰面|簽約|签约|交貨|交货|出貨|出货|付款|聯絡|联络|追|催|詢價|询价|今天|明天|下週|下周|再|已|有|很|在|談到|谈到|送|拿|給|给|請|请")
COMPANY_SUFFIX = re.compile(r"(股份有限公司|有限公司|公司|企業|企业|工業|工业|實業|实业|貿易|贸易|五金行|五金|電子|电子|科技|"
                            r"機械|机械|工廠|工厂|廠|厂|集團|集团|商行|行|百貨|百货|建材|塑膠|塑胶|食品|印刷|紡織|纺织|"
                            r"精密|材料|餐廳|餐厅|診所|诊所|醫院|医院|學校|学校|飯店|饭店|超市)$")
EN_VERB_BEFORE_ZH = re.compile(r"(?i:\b(?:visited|visit|met with|met|called|call|phoned|rang|emailed|texted|messaged|"
                               r"spoke to|spoke with|talked to|talked with|lunch with|dinner with|went to|"
                               r"stopped by|dropped by))\s+(?=[\u4e00-\u9fff])")
EN_VERB = re.compile(r"\b(?i:visited|visit|met with|met|meeting with|meeting at|call with|called|call|phoned|rang|"
                     r"emailed|email|e-mailed|texted|messaged|spoke with|spoke to|talked to|talked with|lunch with|"
                     r"dinner with|demo for|demo at|demo to|went to|stopped by|dropped by|quote for|quote to|"
                     r"sent|send|ping|pinged|follow up with|followed up with|chat with|chatted with)\s+(?i:to\s+|at\s+|with\s+)?"
                     r"((?:the\s+)?[A-Z0-9][\w&.'-]*(?:\s+(?:[A-Z0-9][\w&.'-]*|&|and|of))*)")
EN_LEADING = re.compile(r"^\s*([A-Z0-9][\w&.'-]*(?:\s+(?:[A-Z0-9][\w&.'-]*|&))*)\s*(?=[:,-]|\s+(?:Mr|Mrs|Ms|Dr|Miss)\b|"
                        r"\s+(?:wants|needs|asked|says|said|agreed|called|ordered|emailed|complained|signed|is|was|has)\b|"
                        r"\s+[A-Z][a-z]+\s+[A-Z][a-z]+|\s+\w+\s+(?:wants|needs|asked|says|said|agreed|called|ordered))")
EN_FROM = re.compile(r"\b(?:from|at|of|for)\s+((?:the\s+)?[A-Z][\w&.'-]*(?:\s+(?:[A-Z][\w&.'-]*|&))*)")
EN_STOPWORDS = {"mr", "mrs", "ms", "dr", "miss", "the", "today", "tomorrow", "yesterday", "next", "this", "last",
                "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "i", "we", "he", "she",
                "they", "follow", "quote", "price", "sample", "samples", "invoice", "visited", "called", "met", "a",
                "re", "fw", "fwd", "and", "for", "him", "her", "them", "back", "up", "it", "you", "our", "my"}
PAST_MARKERS = re.compile(r"了|已經|已经|剛剛|刚刚|剛|刚|過了|过了|\b(visited|called|met|talked|spoke|was|had|did|sent|"
                          r"emailed|phoned|went|dropped|stopped)\b", re.I)
ACTION_NOISE = re.compile(r"^(前|之前|以前|before|by|on|until|till|at|要|再|記得|记得|需|需要|必須|必须|請|请|得|來|来|"
                          r"去|to|and|then|,|,|\s)+|(前|之前|以前|再|吧|喔|哦|啊|！|!|\s)+$", re.I)
STRONG_ACTIONS = ((("報價", "quote"), re.compile(r"報價|报价|\bquot(e|ation)\b", re.I)),
                  (("樣品", "samples"), re.compile(r"樣品|样品|打樣|打样|\bsamples?\b", re.I)),
                  (("合約", "contract"), re.compile(r"合約|合约|簽約|签约|\bcontract\b", re.I)),
                  (("交貨", "delivery"), re.compile(r"交貨|交货|出貨|出货|送貨|送货|\bdeliver(y)?\b|\bship(ment)?\b", re.I)),
                  (("收款", "payment"), re.compile(r"收款|付款|請款|请款|發票|发票|\binvoice\b|\bpayment\b", re.I)))


@dataclass(frozen=True)
class FollowUpDraft:
    due: datetime
    action: str
    explicit_time: bool


@dataclass(frozen=True)
class NoteDraft:
    text: str
    customer: str | None = None
    customer_id: int | None = None
    customer_candidates: tuple[CandidateCustomer, ...] = ()
    customer_known: bool = False
    contact: str | None = None
    kind: str = "note"
    occurred_at: datetime | None = None
    amounts: tuple[Amount, ...] = ()
    follow_up: FollowUpDraft | None = None
    language: str | None = None
    signals: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_empty(self) -> bool:
        """Nothing useful understood: no customer, contact, amount, time or kind of contact."""
        return not (self.customer or self.customer_candidates or self.contact or self.amounts
                    or self.follow_up or self.occurred_at or self.kind != "note")

    def to_json(self) -> dict:
        return {
            "customer": self.customer,
            "customer_candidates": [c.name for c in self.customer_candidates],
            "customer_known": self.customer_known,
            "contact": self.contact,
            "kind": self.kind,
            "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
            "amounts": [a.as_json() for a in self.amounts],
            "follow_up": ({"due": self.follow_up.due.isoformat(), "action": self.follow_up.action}
                          if self.follow_up else None),
        }


def _sanitize(text: str) -> str:
    cleaned = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text[:MAX_CHARS])
    return nfkc(cleaned)


def parse_note(text: str, *, now: datetime, tz: str, customers: CustomerIndex | None = None) -> NoteDraft:
    """Understand one note. Never raises: anything it cannot read gives an empty draft."""
    try:
        return _parse(text, now, tz, customers)
    except Exception:  # a parser bug must not lose the user's message
        log.exception("note parser failed on %r", text[:200])
        return NoteDraft(text=text)


def parse_when(text: str, *, now: datetime, tz: str) -> datetime | None:
    """The first future time in a short text ("明天下午3點", "next friday", "in 2 hours"), or None."""
    try:
        moments = find_moments(_sanitize(text), now=now, tz=tz)
    except Exception:
        log.exception("time parser failed on %r", text[:200])
        return None
    local_now = now.astimezone(ZoneInfo(tz))
    future = [m for m in moments if m.at > local_now]
    return future[0].at if future else None


def _parse(text: str, now: datetime, tz: str, index: CustomerIndex | None) -> NoteDraft:
    work = _sanitize(text)
    if not re.search(r"[^\W\d_]", work):
        return NoteDraft(text=text)
    local_now = now.astimezone(ZoneInfo(tz))
    moments = find_moments(work, now=local_now, tz=tz)
    mentions = index.scan(work) if index is not None and len(index) else []
    mention_spans = [(m.start, m.end) for m in mentions]
    moment_spans = [(m.start, m.end) for m in moments]
    amounts = find_amounts(work, tz=tz, skip=moment_spans)
    masked = _mask(work, moment_spans + [(s, e) for _, s, e in amounts])
    company = _en_company(masked, mention_spans)
    contact = _contact(masked, mention_spans + ([(company[1], company[2])] if company else []))
    if company and company[3] and not contact:
        contact = company[3]
    customer, customer_id, candidates, known = _customer(masked, mentions, contact, index)
    occurred_at, follow_up, due_moment = _times(work, moments, local_now)
    kind = _kind(work, due_moment)
    return NoteDraft(text=text, customer=customer, customer_id=customer_id, customer_candidates=tuple(candidates),
                     customer_known=known, contact=contact[0] if contact else None, kind=kind,
                     occurred_at=occurred_at, amounts=tuple(a for a, _, _ in amounts), follow_up=follow_up,
                     language=guess_language(work) or "en")


def _kind(text: str, due: Moment | None) -> str:
    """What happened: the earliest contact word, not counting the next step ("call him tomorrow", 明天回電)."""
    step = _step_span(text, due) if due else None
    outside = _mask(text, [step]) if step else text
    hits = [(m.start(), name) for name, pattern in KINDS if (m := pattern.search(outside))]
    if hits:
        return min(hits)[1]
    if step and re.search(MEETING_WORDS, text[step[0]:step[1]], re.I):
        return "meeting"
    return "note"


def _step_span(text: str, due: Moment) -> tuple[int, int]:
    """The next-step phrase around the due time: its clause, from a little before the time to the end."""
    separators = r"[,,。;;!!\n]" + (r"|(?<=[\u4e00-\u9fff\w])\s+(?=[\u4e00-\u9fff])" if re.search(r"[\u4e00-\u9fff]", text) else "")
    start = 0
    back = 4 if re.search(r"[\u4e00-\u9fff]", text[max(0, due.start - 4):due.start]) else 16
    for sep in re.finditer(separators, text):
        if sep.end() <= due.start:
            start = sep.end()
        elif sep.start() >= due.end:
            return max(start, due.start - back), sep.start()
    return max(start, due.start - back), len(text)


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        for i in range(start, min(end, len(chars))):
            chars[i] = " "
    return "".join(chars)


def _contact(text: str, taken: list[tuple[int, int]]) -> tuple[str, int, int] | None:
    return zh_contact(text, taken) or en_contact(text, taken)


Span = tuple[str, int, int]  # a name found in the note and where it is


def _customer(text: str, mentions: list[Mention], contact: Span | None, index: CustomerIndex | None
              ) -> tuple[str | None, int | None, list[CandidateCustomer], bool]:
    """(name, id, candidates, known): a known customer, candidates when ambiguous, or a new name."""
    if mentions:
        ids = list(dict.fromkeys(cid for m in mentions for cid in m.customer_ids))
        candidates = [CandidateCustomer(cid, known.name if index and (known := index.get(cid)) else
                                        text[mentions[0].start:mentions[0].end], 100.0) for cid in ids]
        if len(mentions[0].customer_ids) > 1:  # one name shared by several customers
            return text[mentions[0].start:mentions[0].end].strip(), None, candidates, False
        return candidates[0].name, ids[0], candidates, True
    contact_start = contact[1] if contact else None
    slot = _zh_slot(text, contact_start) or _en_slot(text, contact)
    if slot is None and index is not None and len(index):
        slot = _leading_known(text, index)
    if slot and NOT_A_NAME.search(slot):
        slot = None
    if slot and index is not None and len(index):
        key, _ = keyed(slot)
        starting = index.starting_with(key) if len(key) >= 2 else []
        if len(starting) == 1:
            return starting[0].name, starting[0].id, [CandidateCustomer(starting[0].id, starting[0].name, 90.0)], True
        if len(starting) > 1:
            return slot, None, [CandidateCustomer(c.id, c.name, 80.0) for c in starting], False
    if contact and index is not None:
        key, _ = keyed(contact[0])
        owners = [cid for cid in index.contacts.get(key, ()) if cid is not None]
        if len(owners) == 1 and not slot and (known := index.get(owners[0])):
            return known.name, known.id, [CandidateCustomer(known.id, known.name, 85.0)], True
    return slot, None, [], False


NOT_A_NAME = re.compile(r"客戶|客户|^[一二兩两三四五六七八九十幾几\d]+\s*[家個个位間间]|^(我|我們|我们|他|她|他們|他们|佢|大家)$")


def _leading_known(text: str, index: CustomerIndex) -> str | None:
    """A note that starts with (part of) a known customer's name: 大同那邊說…"""
    head = re.match(r"\s*([\u4e00-\u9fff]{2,12})", text)
    if not head:
        return None
    stop = ZH_STOP.search(head.group(1))
    name = head.group(1)[: stop.start()] if stop else head.group(1)
    key, _ = keyed(name)
    return name if len(key) >= 2 and index.starting_with(key) else None


def _zh_slot(text: str, contact_start: int | None) -> str | None:
    """拜訪<大同五金行>王總…, 打給<大同>…, Called <大同五金>…, or a note that starts with the company."""
    for verb in (*EN_VERB_BEFORE_ZH.finditer(text), *ZH_VERBS.finditer(text)):
        rest = text[verb.end():]
        name = _zh_name(rest, contact_start - verb.end() if contact_start and contact_start > verb.end() else None)
        if name:
            return name
    if contact_start:
        head = text[:contact_start].strip()
        head = re.split(r"[,,。;;!!??\s::]", head)[-1] if head else ""
        if len(head) >= 2 and re.fullmatch(r"[\u4e00-\u9fffA-Za-z0-9&]+", head) and re.search(r"[\u4e00-\u9fff]", head):
            return head
    first = re.match(r"\s*([\u4e00-\u9fffA-Za-z0-9&]{2,15})", text)
    if first and COMPANY_SUFFIX.search(first.group(1)):
        return first.group(1)
    return None


def _zh_name(rest: str, contact_at: int | None) -> str | None:
    end = min(len(rest), 15)
    if contact_at is not None and contact_at <= end:
        end = contact_at
    stop = ZH_STOP.search(rest, 0, end)
    candidate = rest[: stop.start() if stop else end].strip()
    if stop and stop.start() == 0:
        return None
    if len(candidate) < 2 or not re.search(r"[\u4e00-\u9fff]", candidate):
        if re.fullmatch(r"[A-Za-z][\w&.'-]{1,30}", candidate or ""):
            return candidate
        return None
    return candidate


def _en_slot(text: str, contact: Span | None) -> str | None:
    for pattern in (EN_VERB, EN_LEADING, EN_FROM):
        for m in pattern.finditer(text):
            name = _trim_en(m.group(1), contact)
            if name:
                return name
    return None


COMPANY_WORDS = {"toys", "works", "airlines", "traders", "trading", "corp", "corporation", "inc", "ltd", "co", "llc",
                 "industries", "enterprises", "group", "winery", "systems", "tech", "technologies", "foods", "labs",
                 "bank", "motors", "supply", "supplies", "logistics", "holdings", "international", "partners", "hq"}


def _en_company(text: str, taken: list[tuple[int, int]]) -> tuple[str, int, int, Span | None] | None:
    """An English company name before contacts are looked for: (name, start, end, person split off or None)."""
    if any(s <= 2 for s, _ in taken):
        return None
    for pattern in (EN_VERB, EN_LEADING, EN_FROM):
        for m in pattern.finditer(text):
            name = _trim_en(m.group(1), None)
            if not name:
                continue
            start = text.find(name, m.start(1))
            if pattern is EN_VERB and re.match(r"\s+(from|at|of)\s+[A-Z]", text[start + len(name):]):
                return None  # "Met Janet Wu from Initech": a person; the company follows
            if any(not (start + len(name) <= s or start >= e) for s, e in taken):
                continue
            words = name.split()
            person = None
            if len(words) >= 3 and words[-1].lower() not in COMPANY_WORDS and words[-2][0].isupper():
                person_text = " ".join(words[-2:])
                person = (person_text, start + len(" ".join(words[:-2])) + 1, start + len(name))
                name = " ".join(words[:-2])
            return name, start, start + len(name), person
    return None


def _trim_en(phrase: str, contact: Span | None) -> str | None:
    words = phrase.split()
    if words and words[0].lower() == "the":
        words = words[1:]
    kept: list[str] = []
    for word in words:
        bare = word.strip(".,'’s").lower()
        if bare in EN_STOPWORDS or (contact and word in contact[0].split()):
            break
        kept.append(word.rstrip(".,:;"))
    while kept and kept[-1].lower() in ("and", "&", "of"):
        kept.pop()
    name = " ".join(kept).removesuffix("'s").removesuffix("’s")
    return name if len(name) >= 2 and not name.isdigit() else None


def _times(text: str, moments: list[Moment], now: datetime
           ) -> tuple[datetime | None, FollowUpDraft | None, Moment | None]:
    """(occurred_at, follow-up, the moment it came from): past expressions date the record, the last
    future one is the next step. A part of day alone (下午, lunch) only dates the record."""
    whole_past = bool(PAST_MARKERS.search(text))
    occurred: datetime | None = None
    due: Moment | None = None
    due_at: datetime | None = None
    for moment in moments:
        at = moment.at
        clause = next((c.group(0) for c in re.finditer(r"[^,,。;;!!\n]+", text)
                       if c.start() <= moment.start < c.end()), text)
        past_context = bool(PAST_MARKERS.search(clause)) if len(clause) < len(text) else whole_past
        if moment.weekday and past_context and re.match(r"(on|last)\s", text[moment.start:moment.end], re.I):
            at = at if at <= now else at - timedelta(days=7)
        if at <= now:
            today = at.date() == now.date()
            if today and moment.bare_day and not past_context:
                due, due_at = moment, now  # "today" with no hour, said after it: due now
            elif occurred is None:
                occurred = at
            continue
        due, due_at = moment, at
    if due is None or due_at is None:
        return occurred, None, None
    return occurred, FollowUpDraft(due_at, _action(text, due), due.explicit_time), due


def _action(text: str, moment: Moment) -> str:
    """The next step: the clause around the due time without the time words, or the note's main ask."""
    clauses = list(re.finditer(r"[^,,。;;!!\n]+", text))
    clause = next((c for c in clauses if c.start() <= moment.start < c.end()), None)
    remainder = ""
    if clause is not None:
        remainder = (text[clause.start():moment.start] + " " + text[moment.end:clause.end()]).strip()
        remainder = ACTION_NOISE.sub("", remainder).strip()
        remainder = re.sub(r"\b(follow[- ]?up|f/u)\b", "", remainder, flags=re.I).strip()
        remainder = re.sub(r"[ \t]{2,}", " ", remainder)
    chinese = bool(re.search(r"[\u4e00-\u9fff]", text))
    strong = next((names[0] if chinese else names[1] for names, pattern in STRONG_ACTIONS if pattern.search(text)),
                  None)
    if strong and chinese:
        strong = to_script(strong, guess_language(text) or "zh-Hant")
    if len(remainder) > 20:
        after = ACTION_NOISE.sub("", text[moment.end:clause.end()] if clause else "").strip()
        remainder = after if len(after) >= 2 else remainder[-20:].strip()
    if len(remainder) >= 2 and not re.fullmatch(r"[\W\d]+", remainder):
        if strong and strong not in remainder and len(remainder) <= 4:
            return f"{remainder}{strong}" if re.search(r"[\u4e00-\u9fff]", remainder) else f"{remainder} ({strong})"
        return remainder[:60]
    if strong:
        return strong
    return to_script("跟進", guess_language(text) or "zh-Hant") if chinese else "follow up"
