"""Text normalisation shared by matching, search and parsing (width, case, script)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

import opencc
from zhon import cedict

# the characters each script writes that the other does not (CC-CEDICT's headwords, by zhon): ~2,700 and ~2,300
_TRADITIONAL_ONLY = frozenset(cedict.traditional) - frozenset(cedict.simplified)
# and five CC-CEDICT also lists as Traditional, for rare words only (万俟, 么麽, 厂 as a cliff…), while Traditional
# text writes 萬 麼 廠 豐 葉: seen in a note, they are Simplified
_SIMPLIFIED_ONLY = frozenset(cedict.simplified) - frozenset(cedict.traditional) | frozenset("万么厂丰叶")
_T2S = opencc.OpenCC("t2s")  # ~3 MB; the Simplified → Traditional tables (~40 MB each) load on first use
_NON_KEY = re.compile(r"[\s\W_]+", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def nfkc(text: str) -> str:
    """Fold full-width letters, digits and punctuation to their ordinary forms."""
    return unicodedata.normalize("NFKC", text)


@lru_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    return _T2S.convert(text)


@cache
def _to_traditional(region: str) -> opencc.OpenCC:
    return opencc.OpenCC("s2hk" if region == "HK" else "s2twp")


def to_traditional(text: str, region: str = "TW") -> str:
    return _to_traditional("HK" if region.upper() == "HK" else "TW").convert(text)


def to_script(text: str, language: str) -> str:
    """Write Chinese text in the member's script: zh-Hant → Traditional, zh-Hans → Simplified."""
    if language == "zh-Hant":
        return to_traditional(text)
    if language == "zh-Hans":
        return to_simplified(text)
    return text


@lru_cache(maxsize=65536)
def match_key(text: str) -> str:
    """A key for equality matching: width-, case- and script-insensitive, punctuation and spaces removed.

    `永豐五金行`, `永丰五金行` and `永豐 五金行` share one key; `ACME Ltd.` and `acme ltd` too.
    """
    folded = to_simplified(nfkc(text)).casefold()
    return _NON_KEY.sub("", folded)


_TOKEN_RUNS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[^\W_\u3400-\u9fff\uf900-\ufaff]+", re.UNICODE)


def search_tokens(text: str) -> list[str]:
    """Index terms for full-text search: words for alphabetic scripts, overlapping bigrams for Chinese.

    Width- and script-folded and lower-cased, so `報價`, `报价` and `ＡＢＣ` match `报价` and `abc`.
    A Chinese run of one character stays one term (`王`); `報價單` gives `报价 价单`.
    """
    folded = to_simplified(nfkc(text)).casefold()
    terms: list[str] = []
    for run in _TOKEN_RUNS.findall(folded):
        if has_han(run[0]):
            terms.extend(run[i:i + 2] for i in range(max(1, len(run) - 1)))
        else:
            terms.append(run)
    return terms


def search_form(text: str) -> str:
    """The form stored for full-text search: the index terms joined by spaces."""
    return " ".join(search_tokens(text))


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def guess_language(text: str) -> str | None:
    """zh-Hant, zh-Hans or en from the text itself; None when it cannot tell.

    Chinese by its characters' votes: a character written only in Traditional (`說`, `經`, `們`) is one for
    zh-Hant, one written only in Simplified (`说`, `经`, `们`) one for zh-Hans; characters both scripts share
    (`台`, `吃`, `面`, `王`) do not vote. The larger side wins (a stray character of the other script, as people
    type, does not decide); a tie, shared characters only included, is None."""
    if not has_han(text):
        return "en" if re.search(r"[A-Za-z]{2,}", text) else None
    traditional = sum(1 for char in text if char in _TRADITIONAL_ONLY)
    simplified = sum(1 for char in text if char in _SIMPLIFIED_ONLY)
    if traditional > simplified:
        return "zh-Hant"
    if simplified > traditional:
        return "zh-Hans"
    return None


# NUL (PostgreSQL refuses it in text), the other C0 controls but tab, line feed and carriage return, and lone
# surrogates (not encodable as UTF-8; a database driver refuses them)
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _unstorable(found: re.Match[str]) -> str:
    return "\ufffd" if found.group() >= "\ud800" else ""


def storable(text: str) -> str:
    """`text` as every database can keep it: NUL and other control characters (but tab and line breaks) removed,
    lone surrogates replaced by U+FFFD. RTL marks, joiners and emoji sequences are kept as sent."""
    if _UNSTORABLE.search(text) is None:
        return text
    return _UNSTORABLE.sub(_unstorable, text)


def storable_or_none(text: str | None) -> str | None:
    return None if text is None else storable(text)
