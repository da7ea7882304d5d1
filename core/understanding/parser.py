"""Turn a salesperson's one-message note into a draft: customer, contact, kind, amounts, when, next step."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.text import guess_language, nfkc
from core.understanding.amounts import Amount, find_amounts
from core.understanding.customer_slot import en_company, en_new_customer, find_customer
from core.understanding.names import CandidateCustomer, CustomerIndex
from core.understanding.next_step import clauses, next_step
from core.understanding.people import (
    after_company,
    before_company,
    en_contact,
    honorific_contact,
    titled_contact,
    zh_contact,
)
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
PAST_MARKERS = re.compile(r"了|已經|已经|剛剛|刚刚|剛|刚|過了|过了|\b(visited|called|met|talked|spoke|was|had|did|sent|"
                          r"emailed|phoned|went|dropped|stopped|paid|signed|ordered|agreed|confirmed|complained|received|delivered|"
                          r"shipped|approved|bought|returned)\b", re.I)
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


def parse_note(text: str, *, now: datetime, tz: str, customers: CustomerIndex | None = None,
               country: str | None = None, language: str | None = None) -> NoteDraft:
    """Understand one note. Never raises: anything it cannot read gives an empty draft.

    `country` (ISO 3166 alpha-2) and `language` (zh-Hant, zh-Hans, en) are the member's: with the note's own
    script they choose the currency of amounts written without a marker (元, 萬, 万, 80k)."""
    try:
        return _parse(text, now, tz, customers, country, language)
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


def _parse(text: str, now: datetime, tz: str, index: CustomerIndex | None, country: str | None,
           language: str | None) -> NoteDraft:
    work = _sanitize(text)
    if not re.search(r"[^\W\d_]", work):
        return NoteDraft(text=text)
    local_now = now.astimezone(ZoneInfo(tz))
    moments = find_moments(work, now=local_now, tz=tz)
    mentions = index.scan(work) if index is not None and len(index) else []
    mention_spans = [(m.start, m.end) for m in mentions]
    moment_spans = [(m.start, m.end) for m in moments]
    amounts = find_amounts(work, tz=tz, skip=moment_spans, country=country, language=language)
    masked = _mask(work, moment_spans + [(s, e) for _, s, e in amounts])
    company = en_company(masked, mention_spans)
    contact = _contact(masked, mention_spans + ([(company[1], company[2])] if company else []))
    if company and company[3] and not contact:
        contact = company[3]
    customer, customer_id, candidates, known = find_customer(masked, mentions, contact, index,
                                                       named=new[0] if (new := en_new_customer(masked, mention_spans)) else None)
    surface = work[mentions[0].start:mentions[0].end] if mentions else customer
    occurred_at, follow_up, due_moment = _times(work, moments, local_now, (surface, contact[0] if contact else None))
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
    """Chinese surname + title first, then English titles and 的 <name>, a person right after the customer,
    then capitalised names."""
    found = zh_contact(text, taken) or titled_contact(text, taken) or honorific_contact(text, taken)
    for start, end in sorted(taken):
        if found:
            break
        found = after_company(text, end, taken) or before_company(text, start, taken)
    return found or en_contact(text, taken)


def _times(text: str, moments: list[Moment], now: datetime, subjects: tuple[str | None, str | None] = (None, None)
           ) -> tuple[datetime | None, FollowUpDraft | None, Moment | None]:
    """(occurred_at, follow-up, the moment it came from): past expressions date the record, the last
    future one is the next step. A part of day alone (下午, lunch) only dates the record."""
    whole_past = bool(PAST_MARKERS.search(text))
    occurred: datetime | None = None
    due: Moment | None = None
    due_at: datetime | None = None
    for moment in moments:
        at = moment.at
        clause = next((text[s:e] for s, e in clauses(text) if s <= moment.start < e), text)
        past_context = bool(PAST_MARKERS.search(clause)) if len(clause) < len(text) else whole_past
        if moment.weekday and past_context and re.match(r"(on|last)\s", text[moment.start:moment.end], re.I):
            at = at if at <= now else at - timedelta(days=7)
        if at > now and at.date() == now.date() and PAST_MARKERS.search(text, moment.end, moment.end + 6):
            continue  # 下午拜訪了…: later today, but told as done
        if at <= now:
            today = at.date() == now.date()
            if today and moment.bare_day and not past_context and not _reports_today(text, moment):
                due, due_at = moment, now  # "today" with no hour, said after it: due now
            elif occurred is None:
                occurred = at
            continue
        due, due_at = moment, at
    if due is None or due_at is None:
        return occurred, None, None
    return occurred, FollowUpDraft(due_at, next_step(text, due, *subjects), due.explicit_time), due


TODAY_REPORT = re.compile(r"^\s*(?:今天|今日|今早|today)\s*(?:跟|和|與|与|同|去|到|拜訪|拜访|見|见|約|约|打|call|visit|met|meet|"
                          r"had|went|陪|參觀|参观|開會|开会|吃|在)", re.I)


def _reports_today(text: str, moment: Moment) -> bool:
    """今天跟美的集团赵经理吃饭: a note that opens with "today" and what was done dates the record."""
    return moment.start <= 2 and bool(TODAY_REPORT.match(text)) and not re.search(
        r"要|記得|记得|提醒|得|需要|\b(?:need|must|have to|remind)\b", text[moment.end:moment.end + 4], re.I)
