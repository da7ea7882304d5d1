"""Contacts named in a note: 王總, 陳小姐, 李老闆, 歐陽經理, Mr. Lee, Janet Wu."""

from __future__ import annotations

import re

SURNAMES = ["歐陽", "欧阳", "司馬", "司马", "上官", "諸葛", "诸葛", "東方", "东方", "陳", "陈", "林", "黃", "黄", "張", "张", "李", "王", "吳", "吴", "劉", "刘", "蔡", "楊", "杨", "許", "许", "鄭", "郑", "謝", "谢", "郭", "洪", "曾", "邱", "廖", "賴", "赖", "徐", "周", "葉", "叶", "蘇", "苏", "莊", "庄", "呂", "吕", "江", "何", "蕭", "萧", "羅", "罗", "高", "潘", "簡", "简", "朱", "鍾", "钟", "游", "彭", "詹", "胡", "施", "沈", "余", "盧", "卢", "梁", "趙", "赵", "顏", "颜", "柯", "翁", "魏", "孫", "孙", "戴", "范", "方", "宋", "鄧", "邓", "杜", "傅", "侯", "曹", "薛", "丁", "卓", "阮", "馬", "马", "董", "唐", "温", "溫", "藍", "蓝", "蔣", "蒋", "石", "古", "紀", "纪", "姚", "連", "连", "馮", "冯", "歐", "欧", "程", "湯", "汤", "黎", "田", "康", "姜", "白", "汪", "鄒", "邹", "尤", "巫", "鐘", "韓", "韩", "龔", "龚", "嚴", "严", "袁", "金", "童", "陸", "陆", "夏", "柳", "凃", "涂", "邵", "錢", "钱", "伍", "任", "章", "崔", "孔", "毛", "俞", "武", "易", "熊", "段", "雷", "賀", "贺", "秦", "史", "龍", "龙", "陶", "顧", "顾", "左", "譚", "谭", "郝", "齊", "齐", "于", "萬", "万", "喬", "乔", "常", "包", "牛", "尹", "覃", "韋", "韦", "易"]
TITLES = ["董事長", "董事长", "總經理", "总经理", "副總經理", "副总经理", "副總", "副总", "總監", "总监", "經理", "经理", "協理", "协理", "襄理", "副理", "廠長", "厂长", "課長", "课长", "處長", "处长", "主任", "主管", "組長", "组长", "店長", "店长", "老闆娘", "老板娘", "老闆", "老板", "董事", "特助", "助理", "秘書", "秘书", "會計", "会计", "採購", "采购", "業務", "业务", "工程師", "工程师", "老師", "老师", "博士", "醫師", "医师", "律師", "律师", "小姐", "先生", "太太", "女士", "阿姨", "總", "总", "董", "姐", "哥", "工", "桑"]
_SURNAME = "|".join(sorted(SURNAMES, key=len, reverse=True))
_TITLE = "|".join(sorted(TITLES, key=len, reverse=True))
ZH_CONTACT = re.compile(rf"(?:{_SURNAME})(?:[\u4e00-\u9fff]{{1,2}}?)?(?:{_TITLE})|(?:{_SURNAME})(?:[\u4e00-\u9fff]{{2}})"
                        rf"(?=[,,。、\s]|說|说|要|表示|希望|想|回覆|回复|問|问)")
ZH_TITLED = re.compile(rf"(?:{_SURNAME})(?:{_TITLE})")
EN_HONORIFIC = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+[A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'-]+)?")
_CAPITALISED_RUN = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+\b")
NOT_PEOPLE = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
              "march", "april", "june", "july", "august", "september", "october", "november", "december",
              "next", "this", "last", "follow", "visited", "called", "met", "sent", "send", "call", "meeting",
              "quote", "price", "the", "new", "please", "need", "wants", "asked", "texted", "emailed", "phoned",
              "spoke", "lunch", "dinner", "yesterday", "today", "tomorrow", "invoice", "budget", "trade", "show",
              "expo", "demo", "po", "hq", "q1", "q2", "q3", "q4", "ok", "re", "fw"}
_SINGLE_BEFORE = re.compile(r"(?:\b(?:texted|emailed|messaged|with|met|called|phoned|to)\s+|[,:-]\s*|的\s*)$", re.I)
_SINGLE_AFTER = re.compile(r"^\s*(?:said|says|wants|asked|out|replied|from|at|is|was|will|needs|ok|agreed|called|"
                           r"emailed|說|说|要|:)", re.I)
_CAPITALISED = re.compile(r"\b[A-Z][a-z]{2,}\b")


def zh_contact(text: str, taken: list[tuple[int, int]]) -> tuple[str, int, int] | None:
    """The first surname+title (or surname+given name) not inside a customer name."""
    for pattern in (ZH_TITLED, ZH_CONTACT):
        for m in pattern.finditer(text):
            if all(m.end() <= s or m.start() >= e for s, e in taken):
                return m.group(0), m.start(), m.end()
    return None


def en_contact(text: str, taken: list[tuple[int, int]]) -> tuple[str, int, int] | None:
    for m in EN_HONORIFIC.finditer(text):
        if all(m.end() <= s or m.start() >= e for s, e in taken):
            return m.group(0), m.start(), m.end()
    for m in _CAPITALISED_RUN.finditer(text):
        words = [(w.group(0), m.start() + w.start()) for w in re.finditer(r"\S+", m.group(0))]
        while words and words[0][0].lower() in NOT_PEOPLE:
            words.pop(0)
        cut = next((i for i, (w, _) in enumerate(words) if w.lower() in NOT_PEOPLE), len(words))
        words = words[:cut][:3]
        if len(words) >= 2:
            start, end = words[0][1], words[-1][1] + len(words[-1][0])
            if all(end <= s or start >= e for s, e in taken):
                return " ".join(w for w, _ in words), start, end
    for m in _CAPITALISED.finditer(text):
        if m.group(0).lower() in NOT_PEOPLE or m.start() == 0:
            continue
        if not any(m.end() <= s or m.start() >= e for s, e in taken) and taken:
            continue
        if _SINGLE_BEFORE.search(text[:m.start()]) and _SINGLE_AFTER.match(text[m.end():]):
            return m.group(0), m.start(), m.end()
    return None
