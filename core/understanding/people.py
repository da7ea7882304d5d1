"""Contacts named in a note: 王總, 陳小姐, 李老闆, 歐陽經理, Mr. Lee, Janet Wu."""

from __future__ import annotations

import re

SURNAMES = ["歐陽", "欧阳", "司馬", "司马", "上官", "諸葛", "诸葛", "東方", "东方", "陳", "陈", "林", "黃", "黄", "張", "张", "李", "王", "吳", "吴", "劉", "刘", "蔡", "楊", "杨", "許", "许", "鄭", "郑", "謝", "谢", "郭", "洪", "曾", "邱", "廖", "賴", "赖", "徐", "周", "葉", "叶", "蘇", "苏", "莊", "庄", "呂", "吕", "江", "何", "蕭", "萧", "羅", "罗", "高", "潘", "簡", "简", "朱", "鍾", "钟", "游", "彭", "詹", "胡", "施", "沈", "余", "盧", "卢", "梁", "趙", "赵", "顏", "颜", "柯", "翁", "魏", "孫", "孙", "戴", "范", "方", "宋", "鄧", "邓", "杜", "傅", "侯", "曹", "薛", "丁", "卓", "阮", "馬", "马", "董", "唐", "温", "溫", "藍", "蓝", "蔣", "蒋", "石", "古", "紀", "纪", "姚", "連", "连", "馮", "冯", "歐", "欧", "程", "湯", "汤", "黎", "田", "康", "姜", "白", "汪", "鄒", "邹", "尤", "巫", "鐘", "韓", "韩", "龔", "龚", "嚴", "严", "袁", "金", "童", "陸", "陆", "夏", "柳", "凃", "涂", "邵", "錢", "钱", "伍", "任", "章", "崔", "孔", "毛", "俞", "武", "易", "熊", "段", "雷", "賀", "贺", "秦", "史", "龍", "龙", "陶", "顧", "顾", "左", "譚", "谭", "郝", "齊", "齐", "于", "萬", "万", "喬", "乔", "常", "包", "牛", "尹", "覃", "韋", "韦", "易"]
TITLES = ["董事長", "董事长", "總經理", "总经理", "副總經理", "副总经理", "副總", "副总", "總監", "总监", "經理", "经理", "協理", "协理", "襄理", "副理", "廠長", "厂长", "課長", "课长", "處長", "处长", "主任", "主管", "組長", "组长", "店長", "店长", "老闆娘", "老板娘", "老闆", "老板", "董事", "特助", "助理", "秘書", "秘书", "會計", "会计", "採購", "采购", "業務", "业务", "工程師", "工程师", "老師", "老师", "博士", "醫師", "医师", "律師", "律师", "小姐", "先生", "太太", "女士", "阿姨", "設計師", "设计师", "會計師", "会计师", "建築師", "建筑师",
          "顧問", "顾问", "專員", "专员", "副董", "執行長", "执行长", "財務長", "财务长", "營運長", "科長", "科长",
          "部長", "部长", "院長", "院长", "所長", "所长", "校長", "校长", "主委", "老總", "老总", "總裁", "总裁",
          "副總裁", "副总裁", "專案經理", "项目经理", "技師", "技师", "師傅", "师傅", "督導", "督导", "店員", "店员",
          "大哥", "大姐", "總", "总", "董", "姐", "哥", "工", "桑"]
_SURNAME = "|".join(sorted(SURNAMES, key=len, reverse=True))
_TITLE = "|".join(sorted(TITLES, key=len, reverse=True))
ZH_CONTACT = re.compile(rf"(?:{_SURNAME})(?:[\u4e00-\u9fff]{{1,2}}?)?(?:{_TITLE})|(?:{_SURNAME})(?:[\u4e00-\u9fff]{{2}})"
                        rf"(?=[,,。、\s]|說|说|要|表示|希望|想|回覆|回复|問|问)")
ZH_TITLED = re.compile(rf"(?:{_SURNAME})(?:{_TITLE})|(?:{_SURNAME})[生太](?![產产意日活鮮鲜技氣气物存平命])")
ZH_FAMILIAR = re.compile(rf"(?:(?<=[的跟和與与同找給给見见約约])|(?<![\u4e00-\u9fff]))[小老阿](?:{_SURNAME})(?![\u4e00-\u9fff]{{0}}[闆板婆公師师])")
EN_TITLE = (r"buyer|purchaser|procurement manager|purchasing manager|procurement|purchasing|sales manager|project manager|"
            r"product manager|operations manager|office manager|store manager|general manager|manager|owner|founder|"
            r"co-founder|president|vp|ceo|cfo|cto|coo|cmo|cio|gm|md|director|head of \w+|engineer|accountant|"
            r"architect|designer|lawyer|attorney|chef|boss|contact|rep|agent|ops lead|team lead|lead|head nurse|nurse|"
            r"head buyer|head|supervisor|coordinator|consultant|assistant|secretary|counsel|legal counsel|partner|"
            r"principal|dean|officer|admin|planner|specialist|analyst|controller|treasurer|chairman|chairwoman")
EN_TITLED = re.compile(rf"\b(?i:{EN_TITLE})\b\s*,?\s+((?:(?:Dr|Mr|Mrs|Ms)\.?\s+)?[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?)")
AFTER_DE = re.compile(r"的\s*([A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'-]+)?)")
SPEECH = (r"said|says|wants|wanted|asked|agreed|confirmed|called|emailed|complained|replied|is|was|will|needs|ok|okay|"
          r"likes|approved|paid|signed|ordered|thinks|mentioned|requested|angry|happy|upset|sent|texted|from|at|"
          r"accepted|declined|rejected|refused|promised|prefers")
_AFTER_COMPANY = re.compile(rf"^(?:'s|’s)?\s*[,/]?\s*((?:(?i:mr|mrs|ms|dr)\.?\s+)?[A-Za-z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?)"
                            rf"(?=\s*$|\s*[^\w\s]|\s*[\u4e00-\u9fff]|\s+(?i:{SPEECH})\b)")
NOT_A_PERSON_WORD = {"the", "and", "for", "with", "about", "again", "team", "office", "people", "guys", "folks", "said",
                     "says", "wants", "asked", "is", "was", "will", "needs", "ok", "okay", "agreed", "called", "paid",
                     "also", "finally", "today", "tomorrow", "yesterday", "just", "still", "mr", "mrs", "ms", "dr", "miss", "to", "in", "on",
                     "has", "have", "had", "did", "does", "do", "can", "could", "would", "should", "may", "might",
                     "procurement", "purchasing", "sales", "finance", "accounting", "engineering", "hq", "branch",
                     "store", "factory", "warehouse", "logistics", "trading", "industries", "corp", "inc", "ltd",
                     "group", "supply", "tech", "they", "them", "their", "he", "she", "his", "her", "we", "us", "our",
                     "i", "me", "my", "it", "its", "po", "pos", "quote", "order", "invoice", "price", "deal", "account",
                     "signed", "chase", "sent", "send", "call", "email", "ship", "shipped", "visit", "meeting", "demo",
                     "follow", "check", "ent", "co", "limited", "company", "not", "no", "yes", "please", "asap"}
COMPANY_FORMS = {"co", "ltd", "inc", "corp", "corporation", "llc", "limited", "plc", "gmbh", "pte", "trading",
                 "industries", "enterprises", "holdings", "group", "company"}
EN_HONORIFIC = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+[A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'-]+)?")
_CAPITALISED_RUN = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+\b")
NOT_PEOPLE = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
              "march", "april", "june", "july", "august", "september", "october", "november", "december",
              "next", "this", "last", "follow", "visited", "called", "met", "sent", "send", "call", "meeting",
              "quote", "price", "the", "new", "please", "need", "wants", "asked", "texted", "emailed", "phoned",
              "spoke", "lunch", "dinner", "yesterday", "today", "tomorrow", "invoice", "budget", "trade", "show",
              "expo", "demo", "po", "hq", "q1", "q2", "q3", "q4", "ok", "re", "fw"}
_SINGLE_BEFORE = re.compile(r"(?:\b(?:texted|emailed|messaged|with|met|called|phoned|to|call|ping|phone|text|email|tell|ask)\s+|[,:-]\s*|的\s*)$", re.I)
_SINGLE_AFTER = re.compile(r"^\s*(?:$|[,.;!?]|back\b|said|says|wants|asked|out|replied|from|at|is|was|will|needs|ok|agreed|called|"
                           r"emailed|說|说|要|:)", re.I)
_CAPITALISED = re.compile(r"\b[A-Z][a-z]{2,}\b")


ABSENT = re.compile(r"\s*(?:不在|沒在|没在|請假|请假|出差|休假)")


def _free(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return all(end <= s or start >= e for s, e in taken)


def after_company(text: str, end: int, taken: list[tuple[int, int]]) -> tuple[str, int, int] | None:
    """A person named right after the customer: "Acmee Lee said ok", "見了 acme lee 👍", "hooli's gavin at"."""
    m = _AFTER_COMPANY.match(text[end:])
    if not m:
        return None
    words = re.sub(r"^(?i:mr|mrs|ms|dr)\.?\s+", "", m.group(1)).split()
    if any(w.lower().rstrip(".") in NOT_A_PERSON_WORD or w.lower() in NOT_PEOPLE for w in words):
        return None
    company = re.search(r"[A-Za-z][\w&.'-]*$", text[:end])
    if words[0].islower() and (not company or not company.group(0).islower() or "," in text[end:end + m.start(1)]):
        return None  # "Umbrella Corp signed!": a lowercase word is a person only in a lowercase note
    start = end + m.start(1)
    return (m.group(1), start, start + len(m.group(1))) if _free(start, start + len(m.group(1)), taken) else None


_BEFORE_COMPANY = re.compile(r"(?:^|[\s,(])([A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?)\s*(?:@|\bat\b|\bfrom\b|\bof\b)\s*$")


def before_company(text: str, start: int, taken: list[tuple[int, int]]) -> tuple[str, int, int] | None:
    """A person named just before "@ <customer>" or "from <customer>": "Lee @ Acme says go ahead"."""
    m = _BEFORE_COMPANY.search(text[:start])
    if not m or any(w.lower() in NOT_PEOPLE or w.lower() in NOT_A_PERSON_WORD for w in m.group(1).split()):
        return None
    return (m.group(1), m.start(1), m.end(1)) if _free(m.start(1), m.end(1), taken) else None


def titled_contact(text: str, taken: list[tuple[int, int]]) -> tuple[str, int, int] | None:
    """English names after titles and Latin names after 的: "buyer Anna Lopez", "their CTO, Raj", "Acme 的 Lee"."""
    for pattern in (EN_TITLED, AFTER_DE):
        for m in pattern.finditer(text):
            words = [w for w in m.group(1).split() if w.lower() not in NOT_PEOPLE]
            if not words or words[0].lower() in NOT_A_PERSON_WORD:
                continue
            name = " ".join(words[:2]) if words == m.group(1).split()[:len(words)] else words[0]
            start = m.start(1)
            if _free(start, start + len(name), taken):
                return name, start, start + len(name)
    return None


def zh_contact(text: str, taken: list[tuple[int, int]]) -> tuple[str, int, int] | None:
    """The first surname+title (or surname+given name) not inside a customer name."""
    for pattern in (ZH_TITLED, ZH_CONTACT, ZH_FAMILIAR):
        for m in pattern.finditer(text):
            if ABSENT.match(text, m.end()) and pattern.search(text, m.end()):
                continue  # 王總不在,找了陳小姐: the one who was there
            if all(m.end() <= s or m.start() >= e for s, e in taken):
                return m.group(0), m.start(), m.end()
    return None


def honorific_contact(text: str, taken: list[tuple[int, int]]) -> tuple[str, int, int] | None:
    for m in EN_HONORIFIC.finditer(text):
        if all(m.end() <= s or m.start() >= e for s, e in taken):
            return m.group(0), m.start(), m.end()
    return None


def en_contact(text: str, taken: list[tuple[int, int]]) -> tuple[str, int, int] | None:
    if found := honorific_contact(text, taken):
        return found
    for m in _CAPITALISED_RUN.finditer(text):
        words = [(w.group(0), m.start() + w.start()) for w in re.finditer(r"\S+", m.group(0))]
        while words and words[0][0].lower() in NOT_PEOPLE:
            words.pop(0)
        cut = next((i for i, (w, _) in enumerate(words) if w.lower() in NOT_PEOPLE), len(words))
        if any(w.lower().rstrip(".,") in COMPANY_FORMS for w, _ in words[:cut]):
            continue  # "Acme Trading Co., Ltd.": a company's name, not a person's

        words = [(w, at) for w, at in words[:cut] if _free(at, at + len(w), taken)][:3]
        if len(words) >= 2:
            start, end = words[0][1], words[-1][1] + len(words[-1][0])
            if all(end <= s or start >= e for s, e in taken):
                return " ".join(w for w, _ in words), start, end
    for m in _CAPITALISED.finditer(text):
        if m.group(0).lower() in NOT_PEOPLE or m.group(0).lower() in COMPANY_FORMS or m.start() == 0:
            continue
        if not any(m.end() <= s or m.start() >= e for s, e in taken) and taken:
            continue
        if _SINGLE_BEFORE.search(text[:m.start()]) and _SINGLE_AFTER.match(text[m.end():]):
            return m.group(0), m.start(), m.end()
    return None
