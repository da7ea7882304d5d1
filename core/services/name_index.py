"""The name index: per-team lookups of customer names and aliases (exact and prefix keys from the database,
fuzzy from memory) and the note parser's `CustomerIndex`.

The in-memory part (fuzzy choices and the note parser's index) is cached per engine and team and kept
consistent with the database across processes: every write of a customer, alias or contact is audited in
its own transaction (`core.services.audit`), so each lookup first reads the team's audit events of those
entities newer than a floor (one indexed query, usually no rows) and applies them: the changed customers
are read again and their new names, aliases and contacts added (merged or deleted ones removed); a
customer-list import (`customer_list` event), a privacy erasure (`erasure`) or more than `REBUILD_AFTER`
changes rebuild the team's part.
The floor trails the newest audit id by at least `FLOOR_LAG` seconds (advanced by one `max(id)` query
every `FLOOR_LAG`), so a writer whose id was taken before a slower writer's commit is still seen; every
`DEEP_EVERY` seconds the read starts from a floor `DEEP_LAG` seconds old instead (writes committing long
after taking their id). Events already applied are remembered and not applied twice.

Memory (100,000 customers, `bench/bench_memory.py`): every part is kept in a few large strings and arrays
(`_Strings`, `_Grams`, `_Companies`; the parser's `CustomerIndex` likewise), each build streams its rows and
keeps no small object per customer while they stream in, then gives the freed memory back (`_give_back`);
a team's company keys fill no cache (`company_key_uncached`).
"""

from __future__ import annotations

import bisect
import gc
import io
import time
import weakref
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz, process
from sqlalchemy import Engine
from sqlalchemy import func as sql_func
from sqlmodel import Session, col, select

from core.models import AuditEvent, Contact, Customer, CustomerAlias
from core.services.company_names import company_key, company_key_uncached

if TYPE_CHECKING:
    from core.understanding import CustomerIndex

FLOOR_LAG = 2.0  # seconds an audit id may take to commit and still be seen on the next lookup
DEEP_LAG = 120.0  # …and still be seen within DEEP_EVERY seconds (a long write: a merge, a large update)
DEEP_EVERY = 10.0
REBUILD_AFTER = 2000  # changed customers at once beyond which the team's part is rebuilt instead
WATCHED = ("customer", "contact", "customer_list", "erasure")
REBUILD_ON = ("customer_list", "erasure")  # an erasure: no process may keep the erased names in memory
FUZZY_CUTOFF = 72.0
SMALL_TEAM = 5000  # below this many names, fuzzy matching simply scans them all
STREAM = 5000  # rows read at a time when building


class _Strings:
    """Strings by position, stored as one string and its offsets (those appended later in a list)."""

    def __init__(self, items: Iterable[str] = ()) -> None:
        parts: list[str] = []
        self._offsets = array("I", [0])
        total = 0
        for item in items:
            parts.append(item)
            total += len(item)
            self._offsets.append(total)
        self._blob = "".join(parts)
        self._tail: list[str] = []
        self._building: io.StringIO | None = None

    def __len__(self) -> int:
        return len(self._offsets) - 1 + len(self._tail)

    def __getitem__(self, position: int) -> str:
        stored = len(self._offsets) - 1
        if position < stored:
            return self._blob[self._offsets[position]:self._offsets[position + 1]]
        return self._tail[position - stored]

    def __iter__(self) -> Iterator[str]:
        return (self[position] for position in range(len(self)))

    def append(self, item: str) -> None:
        self._tail.append(item)

    def extend(self, item: str) -> None:
        """Store one more string in the buffer being built (a large buffer grows, no small object is kept)."""
        assert not self._tail, "extend only while building"
        if self._building is None:
            self._building = io.StringIO()
            self._building.write(self._blob)
        self._offsets.append(self._offsets[-1] + self._building.write(item))

    def done(self) -> _Strings:
        """The strings stored with `extend`, as one string."""
        if self._building is not None:
            self._blob, self._building = self._building.getvalue(), None
        return self


def _hash32(key: str) -> int:
    """32 bits of the string's hash: enough to find the few candidates, which are then compared as strings."""
    return hash(key) & 0xFFFFFFFF


class _Companies:
    """company_key → customer ids: (hash, id) pairs in arrays sorted by hash, the keys kept to confirm a match."""

    def __init__(self, pairs: Iterable[tuple[str, int]]) -> None:
        unique = sorted(dict.fromkeys(pairs), key=lambda pair: _hash32(pair[0]))  # stable: ids in the order read
        self._hashes = array("I", (_hash32(key) for key, _ in unique))
        self._ids = array("i", (customer_id for _, customer_id in unique))
        self._keys = _Strings(key for key, _ in unique)
        self._extra: dict[str, list[int]] = {}

    def get(self, key: str) -> list[int]:
        h = _hash32(key)
        at = bisect.bisect_left(self._hashes, h)
        found: list[int] = []
        while at < len(self._hashes) and self._hashes[at] == h:
            if self._keys[at] == key:
                found.append(self._ids[at])
            at += 1
        return found + [i for i in self._extra.get(key, ()) if i not in found]

    def add(self, key: str, customer_id: int) -> None:
        if customer_id not in self.get(key):
            self._extra.setdefault(key, []).append(customer_id)


class _Grams:
    """Bigram → positions of the keys holding it, in three arrays (sorted bigrams, where each one's positions
    start, the positions), counted in a first pass and filled in a second; keys appended later beside them."""

    def __init__(self, keys: _Strings) -> None:
        counts: dict[int, int] = {}
        for known in keys:
            for gram in _bigrams(known):
                counts[gram] = counts.get(gram, 0) + 1
        self._grams = array("q", sorted(counts))
        self._starts = array("I", [0])
        self._starts.extend(accumulate(counts[gram] for gram in self._grams))
        del counts
        self._positions = array("i", bytes(4 * self._starts[-1]))
        filled = dict(zip(self._grams, self._starts[:-1], strict=True))  # each bigram's next free slot
        for position, known in enumerate(keys):
            for gram in _bigrams(known):
                self._positions[filled[gram]] = position
                filled[gram] += 1
        del filled
        self._extra: dict[int, list[int]] = {}

    def get(self, gram: int) -> Sequence[int]:
        at = bisect.bisect_left(self._grams, gram)
        stored = self._positions[self._starts[at]:self._starts[at + 1]] \
            if at < len(self._grams) and self._grams[at] == gram else array("i")
        extra = self._extra.get(gram)
        return [*stored, *extra] if extra else stored

    def add(self, key: str, position: int) -> None:
        for gram in _bigrams(key):
            self._extra.setdefault(gram, []).append(position)


@dataclass
class _TeamNames:
    keys: _Strings = field(default_factory=_Strings)
    ids: array[int] = field(default_factory=lambda: array("i"))
    loaded_at: float = 0.0
    index: Any = None  # core.understanding.CustomerIndex, built on first use
    grams: _Grams | None = None  # bigram → positions in `keys`, built on first fuzzy lookup
    companies: _Companies | None = None  # company_key → customer ids, built on first use
    floor: int = 0  # audit events above this id are read on every lookup
    next_floor: int = 0  # the newest audit id when `floor_at` was taken: the floor once FLOOR_LAG has passed
    floor_at: float = 0.0
    applied: set[int] = field(default_factory=set)  # audit ids above `deep_floor` already applied
    deep_floor: int = 0  # every DEEP_EVERY seconds the events above this one are read instead
    deep_at: float = 0.0
    history: list[tuple[float, int]] = field(default_factory=list)  # (when, floor) of the last DEEP_LAG seconds

    def append(self, key: str, customer_id: int) -> None:
        self.keys.append(key)
        self.ids.append(customer_id)
        if self.grams is not None:
            self.grams.add(key, len(self.keys) - 1)

    def add_company(self, name: str, customer_id: int) -> None:
        if self.companies is None:
            return
        if key := company_key(name):
            self.companies.add(key, customer_id)

    def candidates(self, key: str) -> dict[int, str]:
        """Keys sharing one of the query's three rarest bigrams: a one-character typo keeps one of them."""
        if len(self.keys) <= SMALL_TEAM:
            return dict(enumerate(self.keys))
        grams = self.grams
        if grams is None:
            grams = self.grams = _Grams(self.keys)
            _give_back()
        rarest = sorted(_bigrams(key), key=lambda gram: len(grams.get(gram)))[:3]
        found: set[int] = set()
        for gram in rarest:
            found.update(grams.get(gram))
        return {position: self.keys[position] for position in found}


def _bigrams(key: str) -> set[int]:
    """A key's bigrams as numbers (two code points in one int; a one-character key: its code point)."""
    return {ord(key[i]) << 21 | ord(key[i + 1]) for i in range(len(key) - 1)} or {ord(key[0]) if key else 0}


def _give_back() -> None:
    """Return what building an index freed to the OS: glibc keeps freed small blocks in its heaps otherwise."""
    from core.voice.memory import trim

    gc.collect()
    trim()


class NameIndex:
    """Customer names by team, cached per engine (see the module docstring)."""

    def __init__(self) -> None:
        self._engines: weakref.WeakKeyDictionary[Engine, dict[int, _TeamNames]] = weakref.WeakKeyDictionary()

    def _teams(self, session: Session) -> dict[int, _TeamNames]:
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        return self._engines.setdefault(engine, {})

    def _names(self, session: Session, team_id: int) -> _TeamNames:
        teams = self._teams(session)
        names = teams.get(team_id)
        if names is not None and self._sync(session, team_id, names):
            return names
        teams.pop(team_id, None)  # the stale part goes before the new one is read
        del names
        newest = _newest_event(session, team_id)  # before reading: whatever is written meanwhile is replayed
        ids = array("i")  # customer ids are 32-bit (INTEGER)
        keys = _Strings()
        for key, customer_id in session.exec(select(CustomerAlias.key, CustomerAlias.customer_id)
                                             .join(Customer, col(Customer.id) == col(CustomerAlias.customer_id))
                                             .where(CustomerAlias.team_id == team_id,
                                                    col(Customer.merged_into_id).is_(None))
                                             .execution_options(yield_per=STREAM)):
            keys.extend(key)
            ids.append(customer_id)
        names = _TeamNames(keys.done(), ids, time.monotonic(),
                           floor=newest, next_floor=newest, floor_at=time.monotonic(), deep_floor=newest,
                           deep_at=time.monotonic(), history=[(time.monotonic(), newest)])
        teams[team_id] = names
        _give_back()
        return names

    def _sync(self, session: Session, team_id: int, names: _TeamNames) -> bool:
        """Apply the team's customer and contact writes seen since the floor; False: rebuild instead."""
        now = time.monotonic()
        deep = now - names.deep_at >= DEEP_EVERY  # now and then from the deep floor: late commits of long writes
        since = names.deep_floor if deep else names.floor
        events = session.exec(select(AuditEvent.id, AuditEvent.entity, AuditEvent.entity_id)
                              .where(AuditEvent.team_id == team_id, col(AuditEvent.id) > since,
                                     col(AuditEvent.entity).in_(WATCHED))).all()
        fresh = [(event_id, entity, entity_id) for event_id, entity, entity_id in events
                 if event_id not in names.applied]
        if fresh:
            if any(entity in REBUILD_ON for _, entity, _ in fresh):
                return False
            customer_ids = {entity_id for _, entity, entity_id in fresh if entity == "customer" and entity_id}
            contact_ids = {entity_id for _, entity, entity_id in fresh if entity == "contact" and entity_id}
            if contact_ids:
                customer_ids.update(session.exec(select(Contact.customer_id)
                                                 .where(col(Contact.id).in_(contact_ids))).all())
            if len(customer_ids) > REBUILD_AFTER:
                return False
            self._refresh(session, team_id, names, customer_ids)
            names.applied.update(event_id for event_id, _, _ in fresh if event_id is not None)
        if deep:
            names.deep_at = now
        if now - names.floor_at >= FLOOR_LAG:
            names.floor = names.next_floor
            names.history.append((now, names.floor))
            while len(names.history) > 1 and now - names.history[1][0] >= DEEP_LAG:
                names.history.pop(0)  # the deep floor: the newest floor at least DEEP_LAG old
            if now - names.history[0][0] >= DEEP_LAG:
                names.deep_floor = names.history[0][1]
            names.applied = {event_id for event_id in names.applied if event_id > names.deep_floor}
            names.next_floor, names.floor_at = _newest_event(session, team_id), now
        return True

    def _refresh(self, session: Session, team_id: int, names: _TeamNames, customer_ids: set[int]) -> None:
        """Read these customers again: add their new names, aliases and contacts; drop merged and deleted ones."""
        from core.text import match_key
        from core.understanding import KnownCustomer

        live = {row[0]: row for row in session.exec(
            select(Customer.id, Customer.name, Customer.aliases)
            .where(col(Customer.id).in_(customer_ids), Customer.team_id == team_id,
                   col(Customer.merged_into_id).is_(None), col(Customer.erased_at).is_(None)))}
        contacts: dict[int, list[str]] = {}
        for customer_id, name in session.exec(select(Contact.customer_id, Contact.name)
                                              .where(col(Contact.customer_id).in_(live))):
            contacts.setdefault(customer_id, []).append(name)
        index = names.index
        for customer_id in sorted(customer_ids):
            row = live.get(customer_id)
            if row is None:  # merged or deleted: lookups filter it anyway; the parser must forget it
                if index is not None and index.get(customer_id) is not None:
                    index.remove(customer_id)
                continue
            _, name, aliases = row
            known = KnownCustomer(customer_id, name, tuple(aliases or ()), tuple(contacts.get(customer_id, ())))
            old = index.get(customer_id) if index is not None else None
            old_names = {old.name, *old.aliases} if old is not None else set()
            added = [n for n in dict.fromkeys([name, *known.aliases]) if n not in old_names]
            for alias in added:
                if key := match_key(alias):
                    names.append(key, customer_id)
                names.add_company(alias, customer_id)
            if index is None or old == known:
                continue
            if old is not None:
                index.remove(customer_id)  # its stored entries are dropped; the current record is added instead
            index.add(known)

    def lookup(self, session: Session, team_id: int, key: str, *, limit: int = 6) -> list[int]:
        """Customers whose name or alias key equals `key`, else starts with it (fresh from the database)."""
        exact = session.exec(select(CustomerAlias.customer_id).where(CustomerAlias.team_id == team_id,
                                                                     CustomerAlias.key == key)).all()
        if exact:
            return list(dict.fromkeys(exact))
        prefix = session.exec(select(CustomerAlias.customer_id)
                              .where(CustomerAlias.team_id == team_id, col(CustomerAlias.key) > key,
                                     col(CustomerAlias.key) < key + "\U0010ffff")
                              .order_by(col(CustomerAlias.key)).limit(limit)).all()
        return list(dict.fromkeys(prefix))

    def fuzzy(self, session: Session, team_id: int, key: str, *, limit: int = 5) -> list[int]:
        names = self._names(session, team_id)
        hits = process.extract(key, names.candidates(key), scorer=fuzz.ratio, limit=limit * 2,
                               score_cutoff=FUZZY_CUTOFF)
        ids = [names.ids[position] for _, _, position in hits]
        return list(dict.fromkeys(ids))[:limit]

    def best_score(self, session: Session, team_id: int, key: str, customer_id: int | None) -> float:
        names = self._names(session, team_id)
        scores = [fuzz.ratio(key, known) for position, known in names.candidates(key).items()
                  if names.ids[position] == customer_id]
        return max(scores, default=0.0)

    def same_company(self, session: Session, team_id: int, name: str) -> list[int]:
        """The team's customers with a name or alias of the same company as `name` (see `company_key`)."""
        key = company_key(name)
        if not key:
            return []
        names = self._names(session, team_id)
        if names.companies is None:
            rows = session.exec(select(CustomerAlias.alias, CustomerAlias.customer_id)
                                .join(Customer, col(Customer.id) == col(CustomerAlias.customer_id))
                                .where(CustomerAlias.team_id == team_id, col(Customer.merged_into_id).is_(None))
                                .execution_options(yield_per=STREAM))
            names.companies = _Companies((k, customer_id) for alias, customer_id in rows
                                         if (k := company_key_uncached(alias)))  # 100,000 names fill no cache
            _give_back()
        return names.companies.get(key)

    def customer_index(self, session: Session, team_id: int) -> CustomerIndex:
        """The note parser's index of this team's customers and contacts."""
        from core.understanding import CustomerIndex

        names = self._names(session, team_id)
        if names.index is None:
            names.index = CustomerIndex(_known(session, team_id))
            _give_back()
        return names.index

    def added(self, session: Session, customer: Customer) -> None:
        """Make a new customer or alias findable in this process at once."""
        names = self._teams(session).get(customer.team_id)
        if names is None or customer.id is None:
            return
        from core.text import match_key

        for alias in [customer.name, *customer.aliases]:
            key = match_key(alias)
            if key:
                names.append(key, customer.id)
            names.add_company(alias, customer.id)
        if names.index is not None:
            from core.understanding import KnownCustomer

            names.index.add(KnownCustomer(customer.id, customer.name, tuple(customer.aliases)))

    def invalidate(self, team_id: int) -> None:
        for teams in self._engines.values():
            teams.pop(team_id, None)


def _newest_event(session: Session, team_id: int) -> int:
    return session.exec(select(sql_func.max(AuditEvent.id)).where(AuditEvent.team_id == team_id)).one() or 0


def _known(session: Session, team_id: int) -> Iterator[Any]:
    """The team's live customers with their contacts, read in one streamed query (customer id order)."""
    from core.understanding import KnownCustomer

    rows = session.exec(select(Customer.id, Customer.name, Customer.aliases, Contact.name)
                        .outerjoin(Contact, col(Contact.customer_id) == col(Customer.id))
                        .where(Customer.team_id == team_id, col(Customer.merged_into_id).is_(None),
                               col(Customer.erased_at).is_(None))
                        .order_by(col(Customer.id), col(Contact.id)).execution_options(yield_per=STREAM))
    current: tuple[int | None, str, tuple[str, ...]] | None = None
    contacts: list[str] = []
    for customer_id, name, aliases, contact in rows:
        if current is None or current[0] != customer_id:
            if current is not None:
                yield KnownCustomer(*current, tuple(contacts))
            current, contacts = (customer_id, name, tuple(aliases or ())), []
        if contact is not None:
            contacts.append(contact)
    if current is not None:
        yield KnownCustomer(*current, tuple(contacts))


name_index = NameIndex()
