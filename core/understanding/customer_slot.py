"""The customer slot of a note: a known name, a name after a verb or a new-customer marker, never a verb,
preposition, department or role (拜訪<大同五金行>王總, 跟<美的集团>赵经理, new prospect, <Brightway Foods>)."""

from __future__ import annotations

import re

from core.understanding.names import CandidateCustomer, CustomerIndex, Mention, keyed
from core.understanding.people import EN_TITLE

ZH_VERBS = re.compile(r"拜訪了?|拜访了?|拜會|拜会|到訪|到访|參觀|参观|去了|去|到|見了|见了|見|见|打電話給|打电话给|打給|打给|"
                      r"致電|致电|電話|电话|聯絡|联络|聯繫|联系|約了|约了|約|约|跟|和|與|与|陪|寄給|寄给|送貨到|送货到|"
                      r"回覆|回复|問了?|问了?|傳給|传给|打俾|約咗|去咗|同|call(?![a-z])|遇到|遇見|遇见|碰到|巧遇|報價給|报价给|交給|交给|賣給|卖给|"
                      r"出貨給|出货给|發給|发给|拜")
ZH_STOP = re.compile(r"[,,。;;!!??\s::、(（)）]|拜訪|拜访|拜會|拜会|說|说|要|想|的|表示|反映|提到|問|问|詢|询|下單|下单|訂|订|確認|确认|"
                     r"需要|談|谈|聊|討論|讨论|報價|报价|那邊|那边|這邊|这边|公司的|同意|希望|覺得|觉得|嫌|看|試|试|對|对|"
                     r"回覆|回复|叫貨|叫货|開會|开会|見面|见面|吃飯|吃饭|碰面|簽約|签约|交貨|交货|出貨|出货|付款|聯絡|联络|追|催|詢價|询价|今天|明天|下週|下周|再|已|有|很|在|談到|谈到|送|拿|給|给|請|请|"
                     r"採購|采购|業務部|业务部|財務|财务|研發|研发|品保|品管|工程部|法務|法务|總務|总务|倉庫|仓库|門市部|总部|總部|"
                     r"吃飯|吃饭|聊|通電話|通电话|傾|倾|食飯|食饭|對帳|对账|開會|開完|视频|視訊|吵")
COMPANY_SUFFIX = re.compile(r"(股份有限公司|有限公司|公司|企業|企业|工業|工业|實業|实业|貿易|贸易|五金行|五金|電子|电子|科技|"
                            r"機械|机械|工廠|工厂|廠|厂|集團|集团|商行|行|百貨|百货|建材|塑膠|塑胶|食品|印刷|紡織|纺织|"
                            r"精密|材料|餐廳|餐厅|診所|诊所|醫院|医院|學校|学校|飯店|饭店|超市|電器|电器|電機|电机|光電|光电|設計|设计|建設|建设|"
                            r"醫療|医疗|生技|物流|化工|鋼鐵|钢铁|家居|超商|重工|汽車|汽车|銀行|银行)$")
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
                        r"\s+[A-Z][a-z]+\s+[A-Z][a-z]+|\s+\w+\s+(?:wants|needs|asked|says|said|agreed|called|ordered)|"
                        rf"\s+(?i:{EN_TITLE})\s+[A-Z])")
EN_FROM = re.compile(r"\b(?:from|at|of|for)\s+((?:the\s+)?[A-Z][\w&.'-]*(?:\s+(?:[A-Z][\w&.'-]*|&))*)")
EN_STOPWORDS = {"mr", "mrs", "ms", "dr", "miss", "the", "today", "tomorrow", "yesterday", "next", "this", "last",
                "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "i", "we", "he", "she",
                "they", "follow", "quote", "price", "sample", "samples", "invoice", "visited", "called", "met", "a",
                "re", "fw", "fwd", "and", "for", "him", "her", "them", "back", "up", "it", "you", "our", "my"}
Span = tuple[str, int, int]  # a name found in the note and where it is


def find_customer(text: str, mentions: list[Mention], contact: Span | None, index: CustomerIndex | None,
                  named: str | None = None) -> tuple[str | None, int | None, list[CandidateCustomer], bool]:
    """(name, id, candidates, known): a known customer, candidates when ambiguous, or a new name."""
    if mentions:
        ids = list(dict.fromkeys(cid for m in mentions for cid in m.customer_ids))
        candidates = [CandidateCustomer(cid, known.name if index and (known := index.get(cid)) else
                                        text[mentions[0].start:mentions[0].end], 100.0) for cid in ids]
        if len(mentions[0].customer_ids) > 1:  # one name shared by several customers
            return text[mentions[0].start:mentions[0].end].strip(), None, candidates, False
        return candidates[0].name, ids[0], candidates, True
    contact_start = contact[1] if contact else None
    slot = named or _zh_slot(text, contact_start) or _en_slot(text, contact)
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


# One-character verbs and prepositions (跟, 和, 同, 去, 見…) open the slot only where a clause can start: 大同電子
# and 佳和紡織 are names, 今天跟<美的集团>, 我去<格力> are not.
LEAD_IN = re.compile(r"(?:^|[\s,,。;;!!??::、()（）]|今天|昨天|前天|剛剛|刚刚|剛|刚|上午|下午|早上|晚上|中午|今早|"
                     r"今日|琴日|尋日|寻日|我們|我们|我|已經|已经|已|先|再|又|也|就|會|会|要|明天|後天|后天|有|都|"
                     r"[週周][一二三四五六日]|了|今晚)$")
NEW_CUSTOMER_ZH = re.compile(r"(?:新客戶|新客户|新客人|新開發客戶|新开发客户|潛在客戶|潜在客户|潛客|新客)\s*[::,,-]?\s*")
DEPARTMENT_TAIL = re.compile(r"(?:採購部|采购部|採購|采购|業務部|业务部|財務部|财务部|研發部|研发部|工程部|品保部|品管部|"
                             r"行銷部|营销部|市場部|市场部|人資部|人事部|行政部|資訊部|信息部|物流部|法務部|法务部|"
                             r"總務部|总务部|生產部|生产部|製造部|制造部|總部|总部|[\u4e00-\u9fff]{2}部)$")
BRANCH_WORD = re.compile(r"(?:台灣|臺灣|台湾|中國|中国|香港|亞洲|亚洲|上海|北京|深圳|大陸|大陆)?"
                         r"(?:分公司|子公司|總公司|总公司|公司|辦事處|办事处|分行|集團|集团)")
LATIN_WITH_BRANCH = re.compile(r"([A-Za-z0-9][\w&.'-]*)(\s*(?:台灣|臺灣|台湾|中國|中国|香港|亞洲|亚洲|上海|北京|深圳|大陸|大陆)?"
                               r"(?:分公司|子公司|總公司|总公司|公司|辦事處|办事处|分行|集團|集团)?)")


ROLE_WORD = re.compile(r"採購|采购|業務|业务|財務|财务|會計|会计|研發|研发|工程|品保|品管|行銷|营销|總務|总务|[\u4e00-\u9fff]{1,3}部|"
                       r"(?i:procurement|purchasing|sales|finance|accounting|engineering|hq)")
LEADING_VERB = re.compile(r"^(?:提醒我|記得|记得)?(?:跟|和|與|与|同|去了|去|到|見了|见了|約了|约了|找|給|给|打給|打给|幫|帮|"
                          r"替|請|请|陪|向|對|对|問|问)+")


def _opens_slot(text: str, verb: re.Match[str]) -> bool:
    word = verb.group(0)
    strong = len(word) >= 2 and word not in ("同", "和", "與", "与", "跟")
    return (strong and not re.fullmatch(r"[見见約约]了", word)) or bool(LEAD_IN.search(text[:verb.start()]))


def _strip_department(name: str) -> str:
    bare = DEPARTMENT_TAIL.sub("", name).strip()
    return bare if len(bare) >= 2 or re.fullmatch(r"[A-Za-z0-9]{2,}", bare) else name


def _zh_new_customer(text: str, contact_start: int | None) -> str | None:
    """新客戶 <晶華光電> 張協理, 新客户:<蓝海科技>"""
    marker = NEW_CUSTOMER_ZH.search(text)
    if not marker:
        return None
    at = contact_start - marker.end() if contact_start and contact_start > marker.end() else None
    return _zh_name(text[marker.end():], at)


def _zh_slot(text: str, contact_start: int | None) -> str | None:
    """拜訪<大同五金行>王總…, 打給<大同>…, Called <大同五金>…, or a note that starts with the company."""
    named = _zh_new_customer(text, contact_start)
    if named:
        return named
    for verb in (*EN_VERB_BEFORE_ZH.finditer(text), *ZH_VERBS.finditer(text)):
        if verb.re is ZH_VERBS and not _opens_slot(text, verb):
            continue
        rest = text[verb.end():]
        if not re.match(r"\s*[\u4e00-\u9fff]|\s*[A-Z0-9]|\s*[a-z][\w&.'-]*\s*" + BRANCH_WORD.pattern, rest):
            continue  # "call back tomorrow": an English verb phrase, no name after the verb
        name = _zh_name(rest, contact_start - verb.end() if contact_start is not None and contact_start >= verb.end()
                        else None)
        if name:
            return name
    if contact_start:
        chunks = [c for c in re.split(r"[,,。;;!!??\s::]", text[:contact_start].strip()) if c]
        while len(chunks) > 1 and ROLE_WORD.fullmatch(chunks[-1]):
            chunks.pop()  # 統一企業 採購 黃副理: the department is not the company
        if len(chunks) > 1 and BRANCH_WORD.fullmatch(chunks[-1]):
            chunks[-2:] = [" ".join(chunks[-2:])]  # 3M 台灣分公司 陳工程師, acme 公司 李經理: one name
        head = chunks[-1] if chunks else ""
        head = _strip_department(LEADING_VERB.sub("", head).removesuffix("的"))  # 大同五金行的Amy
        joined = re.fullmatch(r"([A-Za-z0-9&][\w&.'-]*) (\S+)", head)
        if joined and BRANCH_WORD.fullmatch(joined.group(2)) and joined.group(1).lower() not in NOT_BRANDS:
            return head
        if len(head) >= 2 and re.fullmatch(r"[\u4e00-\u9fffA-Za-z0-9&]+", head) and re.search(r"[\u4e00-\u9fff]", head):
            return head
        if len(chunks) == 1 and _latin_brand(head):
            return head  # 3M 林經理, IBM 陳協理
    first = re.match(r"\s*([\u4e00-\u9fffA-Za-z0-9&]{2,15})", text)
    if first and COMPANY_SUFFIX.search(first.group(1)):
        return first.group(1)
    if first and (stop := LEADING_STOP.search(first.group(1), 2)):
        head = first.group(1)[:stop.start()]
        if COMPANY_SUFFIX.search(head) and re.search(r"[\u4e00-\u9fff]", head):
            return head  # 美的集团预算200万元: the company the note opens with, up to what is said of it
    return None


LEADING_STOP = re.compile(r"預算|预算|簽了|签了|來電|来电|訂金|订金|貨款|货款|報價|报价|說|说|要|想|下單|下单|付了|已")


NOT_BRANDS = {"line", "wechat", "whatsapp", "email", "mail", "call", "zoom", "teams", "fb", "ig", "sms", "tel", "po",
              "ok", "re", "fw", "fwd", "demo", "meeting", "msg", "cc", "todo", "note", "tmr", "asap", "vip"}
SUFFIX_WORD = re.compile(r"\s+(電腦|电脑|電子|电子|科技|公司|集團|集团|企業|企业|工業|工业|實業|实业|貿易|贸易|機械|机械|建設|建设)"
                         r"(?=[\s,,。]|$)")


def _latin_brand(word: str) -> bool:
    """3M, IBM, H&M: a Latin name a Chinese note can open with before the contact."""
    return (word.lower() not in NOT_BRANDS and bool(re.fullmatch(r"[A-Za-z0-9&]{2,12}", word))
            and bool(re.search(r"[A-Za-z]", word)) and (bool(re.search(r"\d", word)) or word.isupper()))


def _zh_name(rest: str, contact_at: int | None) -> str | None:
    lead = len(rest) - len(rest.lstrip(" \t"))  # 拜訪 統一企業: the name after the space
    if re.match(r"[了咗]\s*[\u4e00-\u9fffA-Za-z0-9]", rest[lead:]):
        lead += 1 + len(rest[lead + 1:]) - len(rest[lead + 1:].lstrip(" \t"))  # 联系了<小米>
    rest = rest[lead:]
    if contact_at is not None:
        contact_at -= lead
        if contact_at <= 0:
            return None  # 跟林經理開會: the contact, not a company, follows the verb
    end = min(len(rest), 15)
    if contact_at is not None and contact_at <= end:
        end = contact_at
        run = rest[:end].strip()
        if 2 <= len(run) <= 14 and not re.search(r"[,,。;;!!??\s::、]", run) and COMPANY_SUFFIX.search(
                _strip_department(run)):
            return _strip_department(run)  # 跟<美的集团>赵经理: 的 inside a company name
    latin = LATIN_WITH_BRANCH.match(rest.lstrip())
    if latin and re.search(r"[A-Za-z]", latin.group(1)) and (
            re.search(r"\d", latin.group(1)) or BRANCH_WORD.fullmatch(latin.group(2).strip())):
        return latin.group(0).strip()  # 3M 台灣分公司, acme 公司
    stop = ZH_STOP.search(rest, 0, end)
    candidate = rest[: stop.start() if stop else end].strip()
    if stop and stop.start() == 0:
        return None
    if ZH_VERBS.fullmatch(candidate):
        return None  # 約拜訪: a verb after a verb is not a name
    if len(candidate) < 2 or not re.search(r"[\u4e00-\u9fff]", candidate):
        if re.fullmatch(r"[A-Za-z][\w&.'-]{1,30}", candidate or ""):
            return candidate
        return None
    tail = SUFFIX_WORD.match(rest, len(rest[: stop.start() if stop else end].rstrip()))
    if tail and (contact_at is None or tail.end() <= contact_at):
        candidate += tail.group(1)  # 華碩 電腦: the company word written apart
    return _strip_department(candidate)


LEGAL_SUFFIX = re.compile(r"(?<![\w-])(?i:co|ltd|inc|corp|corporation|llc|limited|plc|gmbh|pte)\b(?!-)"
                          r"(?:\.?,?\s*(?i:ltd|limited|inc|llc)\b(?!-))*\.?")
NOT_IN_NAME = {"about", "with", "from", "at", "of", "for", "by", "on", "in", "to", "into", "visited", "visit", "called",
               "call", "met", "meet", "asked", "said", "says", "emailed", "phoned", "told", "and", "or", "but", "that",
               "who", "which", "is", "was", "are", "were", "wants", "needs", "ordered", "signed", "sent"}


def legal_name(text: str, taken: list[tuple[int, int]]) -> Span | None:
    """A company named with its legal form, kept whole: "Acme Co., Ltd.", "DATONG hardware co., ltd.",
    "Acme Trading Co., Ltd." (up to four words before the form, from a capitalised one)."""
    for m in LEGAL_SUFFIX.finditer(text):
        words = list(re.finditer(r"[\w&'.-]+", text[:m.start()]))
        start = None
        for w in reversed(words[-4:] if len(words) > 4 else words):
            gap = text[w.end():start if start is not None else m.start()]
            bare = w.group(0).strip(".").lower()
            if gap.strip() or bare in EN_STOPWORDS or bare in NOT_IN_NAME or w.group(0).endswith("."):
                break
            start = w.start()
        while start is not None and not re.match(r"[A-Z0-9]", text[start]):
            nxt = re.search(r"\s+(?=\S)", text[start:m.start()])
            start = start + nxt.end() if nxt and start + nxt.end() < m.start() else None
        if start is None:
            continue
        suffix = m.group(0)
        end = m.end() - (1 if suffix.endswith(".") and "," not in suffix else 0)  # "Acme Corp." at a sentence end
        if all(end <= s or start >= e for s, e in taken):
            return text[start:end], start, end
    return None


def _en_slot(text: str, contact: Span | None) -> str | None:
    if named := legal_name(text, []):
        return named[0]
    for pattern in (EN_VERB, EN_LEADING, EN_FROM):
        for m in pattern.finditer(text):
            name = _trim_en(m.group(1), contact)
            if name:
                return name
    return None


COMPANY_WORDS = {"toys", "works", "airlines", "traders", "trading", "corp", "corporation", "inc", "ltd", "co", "llc",
                 "industries", "enterprises", "group", "winery", "systems", "tech", "technologies", "foods", "labs",
                 "bank", "motors", "supply", "supplies", "logistics", "holdings", "international", "partners", "hq"}


NEW_CUSTOMER_EN = re.compile(r"\b(?i:(?:a\s+)?new\s+(?:customer|client|lead|prospect|account)|prospect|potential\s+"
                             r"(?:customer|client))\b(?i:\s+(?:from|at)\s+(?:the\s+)?[\w-]+(?:\s+[a-z][\w-]*)?)?"
                             r"(?i:\s*(?:called|named|is))?[\s:,-]+"
                             r"((?:the\s+)?[A-Z0-9][\w&.'-]*(?:\s+(?:[A-Z0-9][\w&.'-]*|&|of))*)")


def en_new_customer(text: str, taken: list[tuple[int, int]]) -> Span | None:
    """A name introduced as new: "a new prospect, Brightway Foods", "new lead Riverside Bakery"."""
    for m in NEW_CUSTOMER_EN.finditer(text):
        name = _trim_en(m.group(1), None)
        start = m.start(1) + (len(m.group(1)) - len(m.group(1).lstrip()))
        if name and text.startswith("the ", start):
            start += 4
        if name and all(start + len(name) <= s or start >= e for s, e in taken):
            return name, start, start + len(name)
    return None


def en_company(text: str, taken: list[tuple[int, int]]) -> tuple[str, int, int, Span | None] | None:
    """An English company name before contacts are looked for: (name, start, end, person split off or None)."""
    if named := en_new_customer(text, taken):
        return named[0], named[1], named[2], None
    if taken:  # a known customer is named: no other company is guessed
        return None
    if named := legal_name(text, taken):
        return named[0], named[1], named[2], None
    for pattern in (EN_VERB, EN_LEADING, EN_FROM):
        for m in pattern.finditer(text):
            name = _trim_en(m.group(1), None)
            if not name:
                continue
            start = text.find(name, m.start(1))
            if pattern is EN_VERB and re.match(r"\s+(from|at|of)\s+[A-Z]", text[start + len(name):]):
                return _company_after_person(text, name, start, taken)  # "Met Janet Wu from Initech"
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


def _company_after_person(text: str, person: str, start: int, taken: list[tuple[int, int]]
                          ) -> tuple[str, int, int, Span | None] | None:
    """"met Jenny at Blue Harbour": the company after at/from/of, the person before it."""
    m = EN_FROM.match(text, start + len(person) + 1)
    name = _trim_en(m.group(1), None) if m else None
    if not m or not name:
        return None
    at = text.find(name, m.start(1))
    if any(not (at + len(name) <= s or at >= e) for s, e in taken):
        return None
    return name, at, at + len(name), (person, start, start + len(person))


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


