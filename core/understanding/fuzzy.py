"""Latin-script customer names matched with typos and spelling variants: Acmee, Trdaing, blue harbour.

Each distinct word of the known names is indexed under its one-letter deletions (the SymSpell idea), so a note
word within one edit (or one transposition) of a name word is found by a few dictionary lookups, whatever the
number of customers; rapidfuzz then confirms the whole phrase.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rapidfuzz import fuzz

MIN_FUZZY_WORD = 4  # shorter words must match exactly
MAX_NAME_WORDS = 4
MIN_PHRASE_SCORE = 84.0
MIN_DROPPED_LETTER_WORD = 7  # a one-word name is matched with a letter missing only from this length on
_WORD = re.compile(r"[a-z0-9][a-z0-9&-]*")  # "initeck's" is the word "initeck"
COMMON_WORDS = frozenset({
    "said", "says", "sent", "send", "sends", "call", "calls", "called", "want", "wants", "wanted", "need", "needs",
    "asked", "order", "orders", "ordered", "paid", "pays", "price", "quote", "quoted", "deal", "deals", "meet",
    "meets", "with", "from", "that", "this", "they", "them", "their", "there", "then", "than", "will", "would",
    "could", "should", "about", "after", "before", "today", "tomorrow", "monday", "tuesday", "wednesday",
    "thursday", "friday", "saturday", "sunday", "lunch", "dinner", "email", "mail", "demo", "team", "week",
    "month", "year", "next", "last", "sample", "samples", "invoice", "contract", "agreed", "agree", "okay",
    "confirmed", "delivery", "delivered", "late", "good", "great", "visit", "visited", "phone", "phoned", "texted",
    "spoke", "talked", "buyer", "owner", "manager", "new", "lead", "prospect", "customer", "client"})


def _deletions(word: str) -> Iterator[str]:
    yield word
    for i in range(len(word)):
        yield word[:i] + word[i + 1:]


class LatinNames:
    """Known Latin-script names as word tuples, and a deletion index over their words."""

    def __init__(self) -> None:
        self.names: dict[tuple[str, ...], set[int]] = {}  # words → keys into the caller's table
        self._variants: dict[str, set[str]] = {}
        self._words: set[str] = set()

    def add(self, name: str, ref: int) -> None:
        words = tuple(_WORD.findall(name.casefold()))
        if not words or len(words) > MAX_NAME_WORDS or not any(w[0].isalpha() for w in words):
            return
        self.names.setdefault(words, set()).add(ref)
        for word in words:
            if word in self._words:
                continue
            self._words.add(word)
            if len(word) >= MIN_FUZZY_WORD and word.isalpha():
                for variant in _deletions(word):
                    self._variants.setdefault(variant, set()).add(word)

    def _close_words(self, token: str) -> set[str]:
        close = {token} if token in self._words else set()
        if len(token) >= MIN_FUZZY_WORD and token.isalpha() and token not in COMMON_WORDS:
            for variant in _deletions(token):
                for word in self._variants.get(variant, ()):
                    if abs(len(word) - len(token)) <= 1 and (word[0] == token[0] or word[-1] == token[-1]):
                        close.add(word)
        return close

    def find(self, text: str) -> list[tuple[int, int, set[int], float]]:
        """(start, end, refs, score) of phrases in `text` that are a known name with a typo, longest first."""
        folded = text.casefold()
        tokens = [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(folded)]
        options = [self._close_words(token) for token, _, _ in tokens]
        found: list[tuple[int, int, set[int], float]] = []
        for size in range(min(MAX_NAME_WORDS, len(tokens)), 0, -1):
            for i in range(len(tokens) - size + 1):
                window = options[i:i + size]
                if not all(window) or any(s < e and not (tokens[i + size - 1][2] <= s or tokens[i][1] >= e)
                                          for s, e, _, _ in found):
                    continue
                phrase = tuple(token for token, _, _ in tokens[i:i + size])
                for words in _products(window, limit=16):
                    refs = self.names.get(words)
                    if not refs or words == phrase:
                        continue
                    if size == 1 and len(phrase[0]) < len(words[0]) < MIN_DROPPED_LETTER_WORD:
                        continue  # "Globe" is a word of its own, not Globex with a letter missing
                    score = fuzz.ratio(" ".join(phrase), " ".join(words))
                    if score >= MIN_PHRASE_SCORE:
                        found.append((tokens[i][1], tokens[i + size - 1][2], refs, score))
                        break
        return found


def _products(options: list[set[str]], limit: int) -> Iterator[tuple[str, ...]]:
    combos: list[tuple[str, ...]] = [()]
    for choice in options:
        combos = [(*combo, word) for combo in combos for word in sorted(choice)][:limit]
    yield from combos
