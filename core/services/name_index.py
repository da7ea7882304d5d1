"""The name index: per-team lookups of customer names and aliases (exact and prefix keys from the database,
fuzzy from memory) and the note parser's `CustomerIndex`.

The in-memory part (fuzzy choices and the note parser's index) is cached per engine and team,
updated on local writes and reloaded when older than `MAX_AGE` (other processes may have written).
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz, process
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from core.models import Customer, CustomerAlias
from core.services.company_names import company_key

if TYPE_CHECKING:
    from core.understanding import CustomerIndex

MAX_AGE = 300.0
FUZZY_CUTOFF = 72.0
SMALL_TEAM = 5000  # below this many names, fuzzy matching simply scans them all


@dataclass
class _TeamNames:
    keys: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    loaded_at: float = 0.0
    index: Any = None  # core.understanding.CustomerIndex, built on first use
    grams: dict[str, list[int]] | None = None  # bigram → positions in `keys`, built on first fuzzy lookup
    companies: dict[str, list[int]] | None = None  # company_key → customer ids, built on first use

    def append(self, key: str, customer_id: int) -> None:
        self.keys.append(key)
        self.ids.append(customer_id)
        if self.grams is not None:
            for gram in _bigrams(key):
                self.grams.setdefault(gram, []).append(len(self.keys) - 1)

    def add_company(self, name: str, customer_id: int) -> None:
        if self.companies is None:
            return
        key = company_key(name)
        if key and customer_id not in (ids := self.companies.setdefault(key, [])):
            ids.append(customer_id)

    def candidates(self, key: str) -> dict[int, str]:
        """Keys sharing one of the query's three rarest bigrams: a one-character typo keeps one of them."""
        if len(self.keys) <= SMALL_TEAM:
            return dict(enumerate(self.keys))
        grams = self.grams
        if grams is None:
            grams = self.grams = {}
            for position, known in enumerate(self.keys):
                for gram in _bigrams(known):
                    grams.setdefault(gram, []).append(position)
        rarest = sorted(_bigrams(key), key=lambda gram: len(grams.get(gram, ())))[:3]
        positions: set[int] = set()
        for gram in rarest:
            positions.update(grams.get(gram, ()))
        return {position: self.keys[position] for position in positions}


def _bigrams(key: str) -> set[str]:
    return {key[i:i + 2] for i in range(len(key) - 1)} or {key}


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
        if names is None or time.monotonic() - names.loaded_at > MAX_AGE:
            rows = session.exec(select(CustomerAlias.key, CustomerAlias.customer_id)
                                .join(Customer, col(Customer.id) == col(CustomerAlias.customer_id))
                                .where(CustomerAlias.team_id == team_id, col(Customer.merged_into_id).is_(None))
                                ).all()
            names = _TeamNames([k for k, _ in rows], [i for _, i in rows], time.monotonic())
            teams[team_id] = names
        return names

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
            names.companies = {}
            rows = session.exec(select(CustomerAlias.alias, CustomerAlias.customer_id)
                                .join(Customer, col(Customer.id) == col(CustomerAlias.customer_id))
                                .where(CustomerAlias.team_id == team_id, col(Customer.merged_into_id).is_(None)))
            for alias, customer_id in rows:
                names.add_company(alias, customer_id)
        return list(names.companies.get(key, ()))

    def customer_index(self, session: Session, team_id: int) -> CustomerIndex:
        """The note parser's index of this team's customers and contacts."""
        from core.understanding import CustomerIndex

        names = self._names(session, team_id)
        if names.index is None:
            names.index = CustomerIndex(_known(session, team_id))
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


def _known(session: Session, team_id: int) -> list[Any]:
    from core.models import Contact
    from core.understanding import KnownCustomer

    contacts: dict[int, list[str]] = {}
    for customer_id, name in session.exec(select(Contact.customer_id, Contact.name)
                                          .where(Contact.team_id == team_id)):
        contacts.setdefault(customer_id, []).append(name)
    rows = session.exec(select(Customer.id, Customer.name, Customer.aliases)
                        .where(Customer.team_id == team_id, col(Customer.merged_into_id).is_(None)))
    return [KnownCustomer(cid, name, tuple(aliases or ()), tuple(contacts.get(cid or 0, ())))
            for cid, name, aliases in rows]


name_index = NameIndex()
