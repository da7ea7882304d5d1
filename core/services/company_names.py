"""One key per company: the names a team writes for one company (`大同五金股份有限公司`, `大同五金`,
`大同五金 (股) 公司`; `Acme Trading Co., Ltd.`, `ACME TRADING`) fold to the same string.

The key is `core.text.match_key`'s folding (NFKC width, case, Traditional → Simplified via OpenCC, spaces and
punctuation dropped) applied after removing what does not tell companies apart:

- legal forms at the end, repeatedly: 股份有限公司, 有限公司, 公司, (股), 股份 (its short form), 企業社, 商行, 集團, 株式会社;
  Co., Ltd., Inc., Corp, Corporation, Limited, LLC, GmbH, PLC, Pte, Pty, AG, S.A., B.V., Group;
- a branch of the company: `台灣分公司`, `上海分公司`, `分公司`, `辦事處`, `Taiwan Branch`, `(Taiwan)` — a team sells
  to "3M" whether the card says `3M` or `美商3M股份有限公司台灣分公司`, and two customers for one company is the
  failure the key exists to prevent; a branch that must be kept apart can still be named distinctly
  (`3M 新竹廠`, a department, a person);
- the nationality marker of a foreign company's Taiwan registration at the start: 美商, 日商, 德商, 英商, …

Nothing is removed when it would leave the key empty (a company called `公司` or `Limited` keeps its name as its
key). Trade words that are part of a name (五金行, 電子, 實業, Trading, Electronics) stay.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from core.text import match_key, nfkc, to_simplified

# Written in Simplified: names are folded to Simplified before these apply.
_REGIONS_ZH = (
    "台湾", "中国", "大陆", "香港", "澳门", "亚太", "亚洲", "华东", "华南", "华北", "华中", "西南", "东北",
    "台北", "新北", "桃园", "新竹", "台中", "台南", "高雄", "上海", "北京", "深圳", "广州", "苏州", "杭州", "东莞",
    "厦门", "天津", "重庆", "成都", "武汉", "南京", "宁波", "青岛", "日本", "美国", "新加坡", "马来西亚", "越南",
)
_REGIONS_EN = (
    "taiwan", "china", "prc", "hong kong", "hk", "macau", "asia", "asia pacific", "apac", "singapore", "japan",
    "usa", "us", "uk", "taipei", "hsinchu", "taichung", "kaohsiung", "shanghai", "beijing", "shenzhen", "guangzhou",
)
_LEGAL_ZH = (
    "集团股份有限公司", "集团有限公司", "股份有限公司", "有限责任公司", "有限公司", "股份公司", "集团公司",
    "公司", "企业社", "商行", "商号", "集团", "有限会社", "株式会社", "(股)", "股份",
)
_LEGAL_EN = (
    "co", "company", "ltd", "limited", "inc", "incorporated", "corp", "corporation", "llc", "l l c", "gmbh",
    "plc", "pte", "pty", "ag", "s a", "sa", "b v", "bv", "srl", "kk", "k k", "group", "holdings",
)
_NATIONALITY_ZH = ("美商", "日商", "德商", "英商", "法商", "荷商", "瑞商", "韩商", "港商", "加商", "澳商", "新加坡商",
                   "香港商", "英属维尔京群岛商", "开曼群岛商", "萨摩亚商")

_SEP = r"[\s\W_]*"
_ALT_ZH_REGION = "|".join(sorted(map(re.escape, _REGIONS_ZH), key=len, reverse=True))
_ALT_EN_REGION = "|".join(sorted((r.replace(" ", r"\s+") for r in _REGIONS_EN), key=len, reverse=True))
_ALT_ZH_LEGAL = "|".join(sorted(map(re.escape, _LEGAL_ZH), key=len, reverse=True))
_ALT_EN_LEGAL = "|".join(sorted((w.replace(" ", r"\W*") for w in _LEGAL_EN), key=len, reverse=True))

_TRAILING = (
    # 台湾分公司, 上海办事处, 分公司
    re.compile(rf"(?:{_ALT_ZH_REGION})?{_SEP}(?:分公司|办事处|代表处){_SEP}$"),
    # Taiwan Branch, branch office, (Taiwan)
    re.compile(rf"(?:^|(?<=[\W_])|(?<=[\u3400-\u9fff]))(?:(?:{_ALT_EN_REGION})\s+)?branch(?:\s+office)?{_SEP}$"),
    re.compile(rf"[(\[]\s*(?:{_ALT_EN_REGION}|{_ALT_ZH_REGION})\s*[)\]]{_SEP}$"),
    re.compile(rf"(?:{_ALT_ZH_LEGAL}){_SEP}$"),
    # an English legal form is a word of its own: `Acme Inc`, `Acme, Inc.`, `大同Co., Ltd.` but not `Disco`
    re.compile(rf"(?:^|(?<=[\W_])|(?<=[\u3400-\u9fff]))(?:{_ALT_EN_LEGAL}){_SEP}$"),
)
_LEADING = (
    re.compile(rf"^{_SEP}(?:{'|'.join(_NATIONALITY_ZH)})(?=.)"),
    re.compile(rf"^{_SEP}the\s+(?=\w)"),
    re.compile(rf"^{_SEP}株式会社"),
)
_PARENTHESISED_LEGAL = re.compile(r"[(]\s*股\s*[)]")  # 大同五金(股)公司: 股份 abbreviated, anywhere
_AND = re.compile(r"(?<![^\W\d_])and(?![^\W\d_])")


_NON_KEY = re.compile(r"[\s\W_]+", re.UNICODE)  # as `core.text.match_key` drops them


def _uncached_simplified(text: str) -> str:
    return to_simplified.__wrapped__(text)


def _uncached_match_key(text: str) -> str:
    """`core.text.match_key` without its cache (and without filling `to_simplified`'s)."""
    return _NON_KEY.sub("", _uncached_simplified(nfkc(text)).casefold())


def _fold(name: str, simplified: Callable[[str], str]) -> str:
    text = simplified(nfkc(name)).casefold()
    text = text.replace("（", "(").replace("）", ")")
    return _AND.sub("&", _PARENTHESISED_LEGAL.sub(" ", text))


def _strip_once(text: str, key: Callable[[str], str]) -> str:
    for pattern in (*_TRAILING, *_LEADING):
        stripped = pattern.sub("", text, count=1)
        if stripped != text and key(stripped):
            return stripped
    return text


def _company_key(name: str, simplified: Callable[[str], str], key: Callable[[str], str]) -> str:
    text = _fold(name, simplified)
    while (stripped := _strip_once(text, key)) != text:
        text = stripped
    return key(text) or key(name)


@lru_cache(maxsize=8192)  # small: the name index computes a whole team's keys with `company_key_uncached`
def company_key(name: str) -> str:
    """The key two names of one company share (see the module docstring); `""` for a name with no letters."""
    return _company_key(name, to_simplified, match_key)


def company_key_uncached(name: str) -> str:
    """`company_key` filling no cache (neither this one nor `core.text`'s): for a whole team's names at once, so
    100,000 names leave nothing behind in memory but their stored keys."""
    return _company_key(name, _uncached_simplified, _uncached_match_key)


def same_company(a: str, b: str) -> bool:
    key = company_key(a)
    return bool(key) and key == company_key(b)
