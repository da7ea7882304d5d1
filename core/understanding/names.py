"""The team's known customers as an index, and mentions of customers and contacts in a note."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.text import nfkc, to_simplified
from core.understanding.fuzzy import LatinNames

_KEY_CHAR = re.compile(r"[^\W_]", re.UNICODE)
_LATIN = re.compile(r"[a-z0-9]")
_HAN_CHAR = re.compile(r"[\u4e00-\u9fff]")
MIN_HAN_KEY = 2
MIN_LATIN_KEY = 3
_SHORT_BRAND = re.compile(r"\d[a-z]|[a-z]\d")


@dataclass(frozen=True)
class KnownCustomer:
    id: int | None
    name: str
    aliases: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()


@dataclass(frozen=True)
class CandidateCustomer:
    id: int | None
    name: str
    score: float


@dataclass(frozen=True)
class Mention:
    customer_ids: tuple[int | None, ...]
    start: int  # span in the folded text (same length as the note: folding keeps positions)
    end: int
    exact: bool


def fold(text: str) -> str:
    """Case-, width- and script-folded text that keeps one character per input character."""
    out = []
    for ch in text:
        folded = to_simplified(nfkc(ch)).casefold()
        out.append(folded if len(folded) == 1 else ch.casefold()[:1] or ch)
    return "".join(out)


def keyed(text: str) -> tuple[str, list[int]]:
    """The match key of `text` (word characters only) and, per key character, its position in `text`."""
    folded = fold(text)
    chars, positions = [], []
    for index, ch in enumerate(folded):
        if _KEY_CHAR.match(ch):
            chars.append(ch)
            positions.append(index)
    return "".join(chars), positions


class CustomerIndex:
    """Exact name/alias keys → customers, plus sorted keys for prefix lookups. Built once per team."""

    def __init__(self, customers: Iterable[KnownCustomer] = ()) -> None:
        self._by_key: dict[str, list[KnownCustomer]] = {}
        self._lengths: set[int] = set()
        self._sorted: list[str] = []
        self._dirty = False
        self._by_id: dict[int, KnownCustomer] = {}
        self.contacts: dict[str, set[int | None]] = {}
        self._latin = LatinNames()
        self._latin_refs: list[KnownCustomer] = []
        for customer in customers:
            self.add(customer)

    def __len__(self) -> int:
        return len(self._by_key)

    def add(self, customer: KnownCustomer) -> None:
        if customer.id is not None:
            self._by_id[customer.id] = customer
        for name in (customer.name, *customer.aliases):
            key, _ = keyed(name)
            if len(key) < (MIN_LATIN_KEY if _LATIN.match(key[:1] or "a") else MIN_HAN_KEY) and not _SHORT_BRAND.fullmatch(key):
                continue  # 3M: two Latin characters are a name only with a digit in them
            bucket = self._by_key.setdefault(key, [])
            if all(known.id != customer.id or customer.id is None for known in bucket):
                bucket.append(customer)
            self._lengths.add(len(key))
            self._dirty = True
            if _LATIN.match(key[:1]) and not _HAN_CHAR.search(name):
                self._latin_refs.append(customer)
                self._latin.add(name, len(self._latin_refs) - 1)
        for contact in customer.contacts:
            key, _ = keyed(contact)
            if key:
                self.contacts.setdefault(key, set()).add(customer.id)

    def remove(self, customer_id: int) -> None:
        for key in list(self._by_key):
            self._by_key[key] = [c for c in self._by_key[key] if c.id != customer_id]
            if not self._by_key[key]:
                del self._by_key[key]
                self._dirty = True
        self._by_id.pop(customer_id, None)
        self._latin_refs = [c if c.id != customer_id else KnownCustomer(None, "") for c in self._latin_refs]

    def get(self, customer_id: int | None) -> KnownCustomer | None:
        return self._by_id.get(customer_id) if customer_id is not None else None

    def exact(self, key: str) -> list[KnownCustomer]:
        return self._by_key.get(key, [])

    def starting_with(self, key: str, limit: int = 6) -> list[KnownCustomer]:
        if self._dirty:
            self._sorted, self._dirty = sorted(self._by_key), False
        found: list[KnownCustomer] = []
        index = bisect.bisect_left(self._sorted, key)
        while index < len(self._sorted) and self._sorted[index].startswith(key) and len(found) < limit:
            for customer in self._by_key[self._sorted[index]]:
                if customer not in found:
                    found.append(customer)
            index += 1
        return found

    def scan(self, text: str) -> list[Mention]:
        """Known names and aliases occurring in `text`, longest first, not overlapping."""
        key, positions = keyed(text)
        folded = fold(text)
        lengths = sorted((n for n in self._lengths if n <= len(key)), reverse=True)
        taken = [False] * len(key)
        found: list[Mention] = []
        for length in lengths:
            for start in range(len(key) - length + 1):
                piece = key[start:start + length]
                customers = self._by_key.get(piece)
                if not customers or any(taken[start:start + length]):
                    continue
                begin, end = positions[start], positions[start + length - 1] + 1
                if _LATIN.match(piece[0]) and not _word_bounded(folded, begin, end):
                    continue
                for i in range(start, start + length):
                    taken[i] = True
                found.append(Mention(tuple(c.id for c in customers), begin, end, True))
        if self._latin_refs and re.search(r"[A-Za-z]{4}", text):
            found = self._with_fuzzy(text, found)
        return sorted(found, key=lambda m: m.start)

    def _with_fuzzy(self, text: str, exact: list[Mention]) -> list[Mention]:
        """Add Latin names with a typo or another spelling (Acmee, blue harbour, Acme Trdaing); a longer fuzzy
        phrase replaces the exact mentions inside it, one overlapping an exact mention otherwise is dropped."""
        found = list(exact)
        for start, end, refs, _ in self._latin.find(text):
            inside = [m for m in found if start <= m.start and m.end <= end]
            if any(not (m.end <= start or m.start >= end) for m in found if m not in inside):
                continue
            customers = [self._latin_refs[r] for r in sorted(refs) if self._latin_refs[r].name]
            ids = tuple(dict.fromkeys(c.id for c in customers))
            if ids:
                found = [m for m in found if m not in inside] + [Mention(ids, start, end, False)]
        return found

    def find_mentions(self, text: str) -> list[CandidateCustomer]:
        """Customers named in `text` (exact names and aliases), in order of appearance."""
        result: list[CandidateCustomer] = []
        for mention in self.scan(text):
            for customer_id in mention.customer_ids:
                known = self.get(customer_id)
                name = known.name if known else text[mention.start:mention.end]
                if all(c.id != customer_id or customer_id is None for c in result):
                    result.append(CandidateCustomer(customer_id, name, 100.0))
        return result


def _word_bounded(folded: str, start: int, end: int) -> bool:
    before = folded[start - 1] if start > 0 else " "
    after = folded[end] if end < len(folded) else " "
    return not _LATIN.match(before) and not _LATIN.match(after)
