"""Store a chunk of an import (core.services.customer_lists) with bulk statements, in the caller's transaction:
new customers, their alias rows, contacts, updates of existing customers and contacts, one audit event per
customer written; and at the end one event for the import."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Table, bindparam, text
from sqlmodel import Session, SQLModel, col, select

from core.models import Customer, CustomerAlias, UTCDateTime
from core.services.actor import Actor
from core.services.customer_lists import ImportPlan, PlannedContact, PlannedCustomer
from core.services.name_index import name_index as directory
from core.text import match_key

CHUNK = 2000  # rows per bulk statement (SQLite and PostgreSQL bind-parameter limits)


def _table(name: str) -> Table:
    """Core tables, not ORM bulk statements: a third of the time per row (bench/bench_customer_lists.py)."""
    return SQLModel.metadata.tables[name]


def _insert(session: Session, name: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        _copy(session, name, rows)
        return
    for chunk in _chunks(rows):
        session.execute(_table(name).insert(), chunk)


def _copy(session: Session, name: str, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: the rows with COPY … FROM STDIN on the session's connection (inside its transaction), a
    fraction of the time of one INSERT per row. Values as the column types bind them: JSON as JSON text, times
    in UTC; columns left out take their defaults."""
    table = _table(name)
    columns = list(rows[0])
    encoders = [_json_text if isinstance(table.c[c].type, JSON) else
                _utc if isinstance(table.c[c].type, UTCDateTime) else None for c in columns]
    connection: Any = session.connection().connection.dbapi_connection
    names = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor, cursor.copy(f'COPY "{name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([value if encode is None or value is None else encode(value)
                            for encode, value in zip(encoders, (row[c] for c in columns), strict=True)])


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _update(session: Session, name: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = _table(name)
    columns = [key for key in rows[0] if key != "id"]
    statement = table.update().where(table.c.id == bindparam("row_id")).values(
        {column: bindparam(column) for column in columns})
    for chunk in _chunks(rows):
        session.execute(statement, [{"row_id": row["id"], **{c: row[c] for c in columns}} for row in chunk])


def _chunks(items: list[Any]) -> list[list[Any]]:
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]


def write_chunk(session: Session, actor: Actor, team: Any, customers: list[PlannedCustomer], now: datetime) -> None:
    """Store one chunk's customers (`customer_lists.plan_chunk`), their aliases, contacts and audit events; `team`
    (the import's `_Team`) learns what was stored, so the next chunk merges into it."""
    new = [c for c in customers if c.existing_id is None]
    table = _table("customer")
    if session.get_bind().dialect.name == "postgresql":
        # ids taken from the table's sequence first (one round trip), then COPY: the select below would scan
        # the table the import is growing (its statistics are of before the import), and INSERT … RETURNING in
        # order is twice as slow as an executemany
        for chunk in _chunks(new):
            allocated: list[int] = list(session.execute(text(
                "SELECT nextval(pg_get_serial_sequence('customer', 'id')) FROM generate_series(1, :n)"),
                {"n": len(chunk)}).scalars())
            rows = []
            for planned, stored_id in zip(chunk, allocated, strict=True):
                planned.stored_id = stored_id
                rows.append({"id": stored_id, **_customer_values(actor, planned, now)})
            _insert(session, "customer", rows)
        new = []  # stored
    for chunk in _chunks(new):
        # one executemany, then the ids by name_key among the rows this import inserted (ids above the floor
        # read when it started): RETURNING with order would insert row by row on SQLite. Keys seen twice (in the
        # chunk: `Acme Co` and `AcmeCo`, one key, two firms; or in an earlier chunk) are inserted one by one.
        rows = [_customer_values(actor, c, now) for c in chunk]
        counts = Counter(row["name_key"] for row in rows)
        once = {key for key, n in counts.items() if n == 1 and key not in team.created_name_keys}
        if once:
            session.execute(table.insert(), [row for row in rows if row["name_key"] in once])
        ids = dict(session.execute(select(col(Customer.name_key), col(Customer.id)).where(
            col(Customer.team_id) == actor.team_id, col(Customer.id) > team.id_floor,
            col(Customer.created_at) == now, col(Customer.name_key).in_(once))).all()) if once else {}
        for planned, row in zip(chunk, rows, strict=True):
            planned.stored_id = ids[row["name_key"]] if row["name_key"] in once else \
                session.execute(table.insert().returning(table.c.id), row).scalar_one()
        team.created_name_keys.update(counts)
    new = [c for c in customers if c.existing_id is None]
    changed = [c for c in customers if c.existing_id is not None and c.changed]
    for planned in customers:
        if planned.existing_id is not None:
            planned.stored_id = planned.existing_id
    _update(session, "customer", [{"id": c.existing_id, **_fields(c), "updated_at": now} for c in changed])
    _write_aliases(session, actor, new, [c for c in changed if c.new_aliases])
    _write_contacts(session, actor, customers, now)
    _write_audit(session, actor, new, changed, now)
    for planned in customers:
        team.remember(planned)


def write_import_event(session: Session, actor: Actor, plan: ImportPlan, now: datetime) -> None:
    """The import's own audit event, with its counts; the name index learns the new names."""
    _insert(session, "auditevent", [{
        "team_id": actor.team_id, "actor_id": actor.member_id, "entity": "customer_list", "at": now,
        "action": "import", "entity_id": None, "customer_id": None, "before": None,
        "after": {"kind": plan.sheet.kind, "encoding": plan.sheet.encoding, "created": plan.created,
                  "updated": plan.updated, "merged_duplicates": plan.merged_duplicates,
                  "skipped": [{"row": r, "reason": code} for r, code in plan.skipped]}}])
    directory.invalidate(actor.team_id)


def _fields(c: PlannedCustomer) -> dict[str, Any]:
    return {"phones": c.phones, "emails": c.emails, "email": c.emails[0] if c.emails else None,
            "address": c.address, "region": c.region, "tags": c.tags, "notes": c.notes,
            "owner_id": c.owner_id, "aliases": [a for a in c.aliases if a != c.name]}


def _customer_values(actor: Actor, c: PlannedCustomer, now: datetime) -> dict[str, Any]:
    return {"team_id": actor.team_id, "name": c.name, "name_key": match_key(c.name), "shared": False,
            "important": False, "created_at": now, "updated_at": now, **_fields(c)}


def _write_aliases(session: Session, actor: Actor, new: list[PlannedCustomer], grown: list[PlannedCustomer]) -> None:
    known: set[tuple[int, str]] = set()
    for chunk in _chunks([c.existing_id for c in grown]):
        known.update(session.exec(select(CustomerAlias.customer_id, CustomerAlias.key)
                                  .where(col(CustomerAlias.customer_id).in_(chunk))).all())
    values: list[dict[str, Any]] = []
    for planned, names in [*((c, c.aliases) for c in new), *((c, c.new_aliases) for c in grown)]:
        assert planned.stored_id is not None
        for name in names:
            key = match_key(name)
            if key and (planned.stored_id, key) not in known:
                known.add((planned.stored_id, key))
                values.append({"team_id": actor.team_id, "customer_id": planned.stored_id, "alias": name, "key": key})
    _insert(session, "customeralias", values)


def _write_contacts(session: Session, actor: Actor, customers: list[PlannedCustomer], now: datetime) -> None:
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for planned in customers:
        for contact in planned.contacts.values():
            if not contact.changed:
                continue
            if contact.existing_id is None:
                assert planned.stored_id is not None
                new.append({"team_id": actor.team_id, "customer_id": planned.stored_id, "name": contact.name,
                            "name_key": match_key(contact.name), "handles": {}, "created_at": now,
                            **_contact_fields(contact)})
            else:
                changed.append({"id": contact.existing_id, **_contact_fields(contact)})
    _insert(session, "contact", new)
    _update(session, "contact", changed)


def _contact_fields(contact: PlannedContact) -> dict[str, Any]:
    return {"title": contact.title, "phones": contact.phones, "email": contact.email, "notes": contact.notes}


def _write_audit(session: Session, actor: Actor, new: list[PlannedCustomer], changed: list[PlannedCustomer],
                 now: datetime) -> None:
    def contacts(c: PlannedCustomer) -> list[dict[str, Any]]:
        return [{"name": p.name, **_contact_fields(p)} for p in c.contacts.values() if p.changed]

    events: list[dict[str, Any]] = []
    for c in new:
        events.append({"action": "create", "entity_id": c.stored_id, "before": None,
                       "after": {"name": c.name, **_fields(c), "contacts": contacts(c),
                                 "source": "customer_list", "row": c.first_row}})
    for c in changed:
        after = {key: value for key, value in _fields(c).items() if key in c.changed}
        events.append({"action": "update", "entity_id": c.stored_id,
                       "before": {key: value for key, value in c.before.items() if key in after},
                       "after": {**after, "contacts": contacts(c), "source": "customer_list", "row": c.first_row}})
    _insert(session, "auditevent", [{"team_id": actor.team_id, "actor_id": actor.member_id, "entity": "customer",
                                     "customer_id": event["entity_id"], "at": now, **event} for event in events])
