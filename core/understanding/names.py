"""The team's known customers as an index, and mentions of customers and contacts in a note."""

from __future__ import annotations

import bisect
import io
import re
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from core.text import nfkc, to_simplified
from core.understanding.fuzzy import _WORD as _LATIN_WORD
from core.understanding.fuzzy import MAX_NAME_WORDS, MIN_FUZZY_WORD, LatinNames, _deletions

_KEY_CHAR = re.compile(r"[^\W_]", re.UNICODE)
_LATIN = re.compile(r"[a-z0-9]")
_HAN_CHAR = re.compile(r"[\u4e00-\u9fff]")
MIN_HAN_KEY = 2
MIN_LATIN_KEY = 3
_SHORT_BRAND = re.compile(r"\d[a-z]|[a-z]\d")
_NONE = -1  # a customer id of None in the arrays (ids are positive)


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


_FIELD, _GROUP = "\x1f", "\x1e"  # separators inside a stored record (control characters never stored in names)
_BITS = 1 << 21  # the prefilter's bits: a piece of a note whose bit is clear is no known key, without a lookup


def _hash32(key: str) -> int:
    """32 bits of the string's hash: enough to find the few candidates, which are then compared as strings."""
    return hash(key) & 0xFFFFFFFF


class _Keys:
    """(key, row) entries in one string, sorted by key: exact lookups by hash, prefix lookups by bisection.

    About 40 bytes an entry instead of a few hundred for a dict of lists of records."""

    def __init__(self, entries: list[tuple[str, int]]) -> None:
        entries.sort()  # by key, then row: one key's rows in the order they were added (rows grow as added)
        self.blob = "".join(key for key, _ in entries)
        self.offsets = array("I", [0])
        self.offsets.extend(accumulate(len(key) for key, _ in entries))
        self.rows = array("i", (row for _, row in entries))
        hashes = [_hash32(key) for key, _ in entries]
        by_hash = sorted(range(len(entries)), key=hashes.__getitem__)
        self.hashes = array("I", (hashes[position] for position in by_hash))
        self.by_hash = array("i", by_hash)
        del hashes, by_hash
        self.bits = bytearray(_BITS // 8)
        size = len(self.bits)
        for h in self.hashes:
            self.bits[(h >> 3) % size] |= 1 << (h & 7)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, position: int) -> str:
        return self.blob[self.offsets[position]:self.offsets[position + 1]]

    def maybe(self, key: str) -> bool:
        h = _hash32(key)
        return bool(self.bits[(h >> 3) % len(self.bits)] >> (h & 7) & 1)

    def rows_of(self, key: str) -> list[int]:
        h = _hash32(key)
        if not self.bits[(h >> 3) % len(self.bits)] >> (h & 7) & 1:
            return []
        found = []
        at = bisect.bisect_left(self.hashes, h)
        while at < len(self.hashes) and self.hashes[at] == h:
            position = self.by_hash[at]
            if self[position] == key:
                found.append(self.rows[position])
            at += 1
        return found

    def starting_with(self, key: str) -> Iterator[tuple[str, int]]:
        """(key, row) of the entries whose key starts with `key`, in key order."""
        at = bisect.bisect_left(self, key)  # a sequence of str
        while at < len(self) and (known := self[at]).startswith(key):
            yield known, self.rows[at]
            at += 1


class _Pending:
    """(name, id) pairs kept for later in one buffer and one array, not as small objects of their own."""

    def __init__(self) -> None:
        self._names = io.StringIO()
        self._ids = array("i")

    def append(self, name: str, customer_id: int) -> None:
        self._names.write(name)
        self._names.write(_FIELD)
        self._ids.append(customer_id)

    def __iter__(self) -> Iterator[tuple[str, int]]:
        text, start = self._names.getvalue(), 0
        for customer_id in self._ids:
            end = text.index(_FIELD, start)
            yield text[start:end], customer_id
            start = end + 1


def _encoded(customer: KnownCustomer) -> str | None:
    """The record as one string, None when it cannot be (a separator or an empty string in it: kept as is)."""
    fields = (customer.name, *customer.aliases, *customer.contacts)
    if any(not text or _FIELD in text or _GROUP in text for text in fields[1:]) or _FIELD in customer.name \
            or _GROUP in customer.name:
        return None
    return _FIELD.join((customer.name, *customer.aliases)) + _GROUP + _FIELD.join(customer.contacts)


class _Multi:
    """str → ints: a `_Keys` built once, plus a dict of the pairs added since."""

    def __init__(self, entries: list[tuple[str, int]]) -> None:
        self._keys = _Keys(entries)
        self._extra: dict[str, list[int]] = {}

    def values(self, key: str) -> list[int]:
        found = self._keys.rows_of(key)
        extra = self._extra.get(key)
        return found + [value for value in extra if value not in found] if extra else found

    def add(self, key: str, value: int) -> None:
        if value not in self.values(key):
            self._extra.setdefault(key, []).append(value)


class _NamesView:
    """`LatinNames.names` read as a mapping of word tuples to refs."""

    def __init__(self, names: _Multi) -> None:
        self.names = names

    def get(self, words: tuple[str, ...], default: Any = None) -> tuple[int, ...] | Any:
        return tuple(self.names.values(" ".join(words))) or default


class _WordsView:
    """`LatinNames._words`: the known words, for `in`."""

    def __init__(self, words: _Multi) -> None:
        self.words = words

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and bool(self.words.values(word))

    def add(self, word: str) -> None:
        self.words.add(word, 0)


class _LatinNames(LatinNames):
    """`LatinNames` with its names and words stored compactly (`_Multi`): built at once by `build`, with the
    names added later beside them. About a tenth of the memory of word tuples and sets at 100,000 customers."""

    def __init__(self) -> None:
        super().__init__()
        self._joined = _Multi([])  # the words of a name joined by spaces → refs
        self._known = _Multi([])
        self.names = _NamesView(self._joined)  # type: ignore[assignment]  # read with .get(words) only
        self._words = _WordsView(self._known)  # type: ignore[assignment]  # read with `in` and .add only

    @staticmethod
    def _words_of(name: str) -> tuple[str, ...] | None:
        words = tuple(_LATIN_WORD.findall(name.casefold()))
        if not words or len(words) > MAX_NAME_WORDS or not any(w[0].isalpha() for w in words):
            return None
        return words

    def build(self, names: Iterable[tuple[str, int]]) -> None:
        """Index these (name, ref) pairs; once, on an empty index."""
        entries: dict[tuple[str, int], None] = {}
        known: dict[str, None] = {}
        for name, ref in names:
            if (words := self._words_of(name)) is not None:
                entries[(" ".join(words), ref)] = None
                known.update(dict.fromkeys(words))
        self._joined = self.names.names = _Multi(list(entries))  # type: ignore[attr-defined]
        del entries
        self._known = self._words.words = _Multi([(word, 0) for word in known])  # type: ignore[attr-defined]
        for word in known:
            self._add_variants(word)

    def _add_variants(self, word: str) -> None:
        if len(word) >= MIN_FUZZY_WORD and word.isalpha():
            for variant in _deletions(word):
                self._variants.setdefault(variant, set()).add(word)

    def add(self, name: str, ref: int) -> None:
        if (words := self._words_of(name)) is None:
            return
        self._joined.add(" ".join(words), ref)
        for word in words:
            if word not in self._words:
                self._words.add(word)
                self._add_variants(word)


class CustomerIndex:
    """Exact name/alias keys → customers, sorted keys for prefix lookups, contact keys → customers, and Latin
    names with typos. Built once per team: the customers given at construction are stored compactly (one
    string of keys, arrays of rows and hashes, one string of records); those added or removed later are kept
    beside them in ordinary dicts."""

    def __init__(self, customers: Iterable[KnownCustomer] = ()) -> None:
        # While the customers stream in, only a few large buffers grow (no small object per customer kept until
        # the end): the few small objects that live on (caches) then share a few of the allocator's 1-MB blocks
        # instead of keeping dozens of mostly freed ones from being given back.
        key_entries, contact_entries, latin = _Pending(), _Pending(), _Pending()  # Latin names: indexed last
        records = io.StringIO()
        self._record_at = array("I", [0])
        self._objects: dict[int, KnownCustomer] = {}  # rows whose record cannot be one string
        self._lengths: set[int] = set()
        self._latin = _LatinNames()
        self._latin_ids = array("i")  # Latin-name ref → customer id (_NONE: none or removed)
        ids = array("i")  # customer ids are 32-bit (INTEGER) in the database
        total = 0
        for row, customer in enumerate(customers):
            ids.append(_NONE if customer.id is None else customer.id)
            encoded = _encoded(customer)
            if encoded is None:
                self._objects[row] = customer
            else:
                total += records.write(encoded)
            self._record_at.append(total)
            for key in self._name_keys(customer, latin):
                key_entries.append(key, row)
            for key in self._contact_keys(customer):
                contact_entries.append(key, row)
        self._row_ids = ids
        self._records = records.getvalue()
        del records
        self._id_sorted: array[int] = ids  # rows in id order (as the name index reads them): bisect the ids
        self._id_rows: array[int] | None = None
        if any(ids[row] >= ids[row + 1] for row in range(len(ids) - 1)) or _NONE in ids:
            unique = {i: row for i, row in sorted((i, row) for row, i in enumerate(ids) if i != _NONE)}
            self._id_sorted = array("i", unique)  # the last row of an id given twice
            self._id_rows = array("i", unique.values())
            del unique
        del ids
        self._keys = _Keys(list(key_entries))
        self._contact_keys_index = _Keys(list(contact_entries))
        del key_entries, contact_entries
        # The Latin names' many small objects are made once the build's temporary ones are freed: made among
        # them, each would keep a mostly empty 1-MB block of the allocator's from being given back.
        self._latin.build(self._latin_refs(latin))
        del latin
        self._removed: set[int] = set()  # ids whose stored entries are dead (removed, or added again since)
        self._added: dict[int, KnownCustomer] = {}  # the current record of an id added after construction
        self._extra: dict[str, list[int | None]] = {}  # keys added after construction
        self._extra_sorted: list[str] = []
        self._dirty = False
        self.contacts = _Contacts(self)

    def _latin_refs(self, names: _Pending) -> Iterator[tuple[str, int]]:
        for name, customer_id in names:
            self._latin_ids.append(customer_id)
            yield name, len(self._latin_ids) - 1

    def _add_latin(self, name: str, customer_id: int | None) -> None:
        self._latin_ids.append(_NONE if customer_id is None else customer_id)
        self._latin.add(name, len(self._latin_ids) - 1)

    def _name_keys(self, customer: KnownCustomer, latin: _Pending | None = None) -> list[str]:
        """Its name and alias keys (in order, once each); its Latin names indexed for typos (or put in `latin`)."""
        keys: list[str] = []
        for name in (customer.name, *customer.aliases):
            key, _ = keyed(name)
            if len(key) < (MIN_LATIN_KEY if _LATIN.match(key[:1] or "a") else MIN_HAN_KEY) and not _SHORT_BRAND.fullmatch(key):
                continue  # 3M: two Latin characters are a name only with a digit in them
            if key not in keys:
                keys.append(key)
            self._lengths.add(len(key))
            if _LATIN.match(key[:1]) and not _HAN_CHAR.search(name):
                if latin is None or _FIELD in name:
                    self._add_latin(name, customer.id)
                else:
                    latin.append(name, _NONE if customer.id is None else customer.id)
        return keys

    @staticmethod
    def _contact_keys(customer: KnownCustomer) -> list[str]:
        return list(dict.fromkeys(key for contact in customer.contacts if (key := keyed(contact)[0])))

    def __len__(self) -> int:
        return len(self._keys) + len(self._extra)

    def _record(self, row: int) -> KnownCustomer:
        customer_id = self._row_ids[row]
        if customer_id != _NONE and (added := self._added.get(customer_id)) is not None:
            return added
        if (kept := self._objects.get(row)) is not None:
            return kept
        names, _, contacts = self._records[self._record_at[row]:self._record_at[row + 1]].partition(_GROUP)
        name, *aliases = names.split(_FIELD)
        return KnownCustomer(None if customer_id == _NONE else customer_id, name, tuple(aliases),
                             tuple(contacts.split(_FIELD)) if contacts else ())

    def _live(self, row: int) -> bool:
        customer_id = self._row_ids[row]
        return customer_id == _NONE or customer_id not in self._removed

    def add(self, customer: KnownCustomer) -> None:
        old = self.get(customer.id)
        if customer.id is not None:  # the record becomes this one (keeping the contacts already known)
            contacts = tuple(dict.fromkeys((*old.contacts, *customer.contacts))) if old else customer.contacts
            self._added[customer.id] = KnownCustomer(customer.id, customer.name, customer.aliases, contacts)
        stored = customer.id is not None and customer.id not in self._removed and self._row_of(customer.id) is not None
        for key in self._name_keys(customer):
            if stored and customer.id in self._ids(self._keys.rows_of(key)):
                continue
            bucket = self._extra.setdefault(key, [])
            if customer.id is None or customer.id not in bucket:
                bucket.append(customer.id)
                self._dirty = True
        for key in self._contact_keys(customer):
            self.contacts.extra.setdefault(key, set()).add(customer.id)

    def _ids(self, rows: list[int]) -> list[int | None]:
        return [None if (i := self._row_ids[row]) == _NONE else i for row in rows if self._live(row)]

    def _row_of(self, customer_id: int) -> int | None:
        at = bisect.bisect_left(self._id_sorted, customer_id)
        if at == len(self._id_sorted) or self._id_sorted[at] != customer_id:
            return None
        return at if self._id_rows is None else self._id_rows[at]

    def remove(self, customer_id: int) -> None:
        self._removed.add(customer_id)
        self._added.pop(customer_id, None)
        for key in [key for key, ids in self._extra.items() if customer_id in ids]:
            self._extra[key] = [i for i in self._extra[key] if i != customer_id]
            if not self._extra[key]:
                del self._extra[key]
                self._dirty = True
        for ids in self.contacts.extra.values():
            ids.discard(customer_id)
        for ref, known in enumerate(self._latin_ids):
            if known == customer_id:
                self._latin_ids[ref] = _NONE

    def get(self, customer_id: int | None) -> KnownCustomer | None:
        if customer_id is None:
            return None
        if (added := self._added.get(customer_id)) is not None:
            return added
        if customer_id in self._removed:
            return None
        row = self._row_of(customer_id)
        return self._record(row) if row is not None else None

    def _customers(self, ids: Iterable[int | None], rows: Iterable[int] = ()) -> list[KnownCustomer]:
        found: list[KnownCustomer] = [self._record(row) for row in rows if self._live(row)]
        for customer_id in ids:
            known = self.get(customer_id) if customer_id is not None else None
            if known is not None and all(c.id != customer_id for c in found):
                found.append(known)
        return found

    def _exact_ids(self, key: str) -> tuple[int | None, ...]:
        ids = self._ids(self._keys.rows_of(key))
        for customer_id in self._extra.get(key, ()):
            if customer_id is None or customer_id not in ids:
                ids.append(customer_id)
        return tuple(ids)

    def exact(self, key: str) -> list[KnownCustomer]:
        return self._customers(self._extra.get(key, ()), self._keys.rows_of(key))

    def starting_with(self, key: str, limit: int = 6) -> list[KnownCustomer]:
        if self._dirty:
            self._extra_sorted, self._dirty = sorted(self._extra), False
        entries: list[tuple[str, int | None, int | None]] = []  # (key, row, id)
        for known, row in self._keys.starting_with(key):
            if self._live(row):
                entries.append((known, row, None))
            if len(entries) >= limit * 4:
                break
        at = bisect.bisect_left(self._extra_sorted, key)
        while at < len(self._extra_sorted) and self._extra_sorted[at].startswith(key):
            entries.extend((self._extra_sorted[at], None, i) for i in self._extra.get(self._extra_sorted[at], ()))
            at += 1
        found: list[KnownCustomer] = []
        for _, stored, extra_id in sorted(entries, key=lambda entry: entry[0]):
            customer = self._record(stored) if stored is not None else self.get(extra_id)
            if customer is not None and customer not in found:
                found.append(customer)
            if len(found) >= limit:
                break
        return found

    def scan(self, text: str) -> list[Mention]:
        """Known names and aliases occurring in `text`, longest first, not overlapping."""
        key, positions = keyed(text)
        folded = fold(text)
        lengths = sorted((n for n in self._lengths if n <= len(key)), reverse=True)
        taken = [False] * len(key)
        found: list[Mention] = []
        keys, extra = self._keys, self._extra
        for length in lengths:
            for start in range(len(key) - length + 1):
                piece = key[start:start + length]
                if not keys.maybe(piece) and piece not in extra:
                    continue
                if any(taken[start:start + length]) or not (ids := self._exact_ids(piece)):
                    continue
                begin, end = positions[start], positions[start + length - 1] + 1
                if _LATIN.match(piece[0]) and not _word_bounded(folded, begin, end):
                    continue
                for i in range(start, start + length):
                    taken[i] = True
                found.append(Mention(ids, begin, end, True))
        if len(self._latin_ids) and re.search(r"[A-Za-z]{4}", text):
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
            ids = tuple(dict.fromkeys(i for r in sorted(refs) if (i := self._latin_ids[r]) != _NONE
                                      and self.get(i) is not None))
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


class _Contacts:
    """Contact key → the ids of the customers with such a contact (read as `index.contacts.get(key, ())`)."""

    def __init__(self, index: CustomerIndex) -> None:
        self._index = index
        self.extra: dict[str, set[int | None]] = {}

    def get(self, key: str, default: Any = None) -> set[int | None] | Any:
        index = self._index
        ids = set(index._ids(index._contact_keys_index.rows_of(key))) | self.extra.get(key, set())
        return ids or default

    def __getitem__(self, key: str) -> set[int | None]:
        ids = self.get(key)
        if ids is None:
            raise KeyError(key)
        return ids

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None


def _word_bounded(folded: str, start: int, end: int) -> bool:
    before = folded[start - 1] if start > 0 else " "
    after = folded[end] if end < len(folded) else " "
    return not _LATIN.match(before) and not _LATIN.match(after)
