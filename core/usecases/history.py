"""A customer's history (`/history`): who did what and when, from its audit events, newest first, a page at a time.

Each event becomes an `Entry`: its time, who did it, and `what` — a kind the chat renders as a sentence
(`renamed`, `stage`, `handover`…) with plain values. An event this module does not know becomes the kind
`generic` with its action and entity, so a new use case's events still show something sensible.

Visible to whoever may see the customer (core.services.customers.get_visible); the events of customers merged
into it are part of its history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from core.models import AuditEvent, Customer, Member, PipelineStage
from core.services import customers as customer_service
from core.services import deals as deal_service
from core.services.actor import Actor
from core.uow import UnitOfWork
from core.usecases.views import CustomerRef

PAGE = 10
SNIPPET = 40
MERGE_DEPTH = 5  # tombstones of tombstones: a merged customer's own merged ones


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    who: str | None  # the member who did it; None: the bot itself (a periodic job)
    what: str  # a kind: created, renamed, logged, stage, … or generic
    values: dict[str, Any] = field(default_factory=dict)  # str, int or datetime values for the sentence


@dataclass(frozen=True, slots=True)
class HistoryPage:
    customer: CustomerRef
    entries: tuple[Entry, ...]
    page: int  # 0: the newest
    pages: int  # at least 1
    total: int

    @property
    def has_older(self) -> bool:
        return self.page + 1 < self.pages

    @property
    def has_newer(self) -> bool:
        return self.page > 0


def customer_ids(uow: UnitOfWork, customer: Customer) -> list[int]:
    """The customer and every customer merged into it (directly or through another merged one)."""
    ids, frontier = [customer.id or 0], [customer.id or 0]
    for _ in range(MERGE_DEPTH):
        frontier = [i for i in uow.session.exec(select(Customer.id).where(
            Customer.team_id == customer.team_id, col(Customer.merged_into_id).in_(frontier))) if i is not None]
        if not frontier:
            break
        ids.extend(frontier)
    return ids


def customer_history(uow: UnitOfWork, actor: Actor, customer_id: int, *, page: int = 0) -> HistoryPage:
    session = uow.session
    customer = customer_service.get_visible(session, actor, customer_id)
    ids = customer_ids(uow, customer)
    where = (AuditEvent.team_id == actor.team_id, col(AuditEvent.customer_id).in_(ids))
    total = int(session.exec(select(func.count()).select_from(AuditEvent).where(*where)).one())
    pages = max(1, -(-total // PAGE))
    page = min(max(page, 0), pages - 1)
    events = list(session.exec(select(AuditEvent).where(*where)
                               .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
                               .offset(page * PAGE).limit(PAGE)))
    member_ids = {e.actor_id for e in events if e.actor_id is not None}
    names = {m.id: m.name for m in session.exec(select(Member).where(col(Member.id).in_(member_ids)))} \
        if member_ids else {}
    stages = _stage_names(uow, actor) if any(e.entity == "deal" for e in events) else {}
    entries: list[Entry] = []
    last: AuditEvent | None = None
    for e in events:
        who = names.get(e.actor_id) if e.actor_id is not None else None
        what, values = describe(e, stages, names)
        if (what == "forward_grew" and last is not None and entries and entries[-1].what == what
                and last.entity_id == e.entity_id and last.actor_id == e.actor_id):
            grown = entries[-1]  # one line for a burst's messages (newest time first)
            entries[-1] = Entry(grown.at, grown.who, what, {"n": int(grown.values.get("n", 1)) + 1})
        else:
            entries.append(Entry(e.at, who, what, {"n": 1} if what == "forward_grew" else values))
        last = e
    return HistoryPage(CustomerRef(customer.id or 0, customer.name), tuple(entries), page, pages, total)


def _stage_names(uow: UnitOfWork, actor: Actor) -> dict[str, str]:
    rows = uow.session.exec(select(PipelineStage).where(PipelineStage.team_id == actor.team_id))
    return {s.key: deal_service.stage_name(s, actor.language) for s in rows}


def _snippet(text: object) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…"


def _get(data: dict[str, Any] | None, key: str) -> Any:
    return (data or {}).get(key)


def _when(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def describe(event: AuditEvent, stages: dict[str, str] | None = None,
             names: dict[int | None, str] | None = None) -> tuple[str, dict[str, Any]]:
    """(kind, values) of one audit event, for a sentence in the viewer's language."""
    stages, names = stages or {}, names or {}
    before, after, action, entity = event.before, event.after, event.action, event.entity
    if entity == "customer":
        return _customer(action, before, after, names)
    if entity == "interaction":
        return _interaction(action, before, after)
    if entity == "followup":
        return _follow_up(action, before, after)
    if entity == "deal":
        return _deal(action, before, after, stages)
    if entity == "contact":
        name = _get(after, "name") or _get(before, "name") or ""
        kinds = {"create": "contact_added", "update": "contact_updated", "delete": "contact_removed"}
        if action in kinds:
            return kinds[action], {"name": name}
    if entity == "customerfile" and action == "attach":
        return "attached", {"file": _get(after, "file_name") or ""}
    if entity == "customeraccess" and action in ("request", "grant", "decline"):
        member = names.get(_get(after, "member_id")) or ""
        return f"access_{action}", {"member": member}
    return "generic", {"action": action, "entity": entity}


def _customer(action: str, before: dict[str, Any] | None, after: dict[str, Any] | None,
              names: dict[int | None, str]) -> tuple[str, dict[str, Any]]:
    if action == "create":
        return "created", {"name": _get(after, "name") or ""}
    if action == "rename":
        return "renamed", {"old": _get(before, "name") or "", "new": _get(after, "name") or ""}
    if action == "alias":
        return "alias", {"alias": _get(after, "alias") or ""}
    if action == "merge":
        dropped = _get(before, "dropped") or {}
        return "merged", {"dropped": dropped.get("name") or "", "into": _get(after, "name") or ""}
    if action == "delete":
        return "deleted", {"name": _get(before, "name") or ""}
    if action == "handover":
        return "handover", {"old": _get(before, "owner") or names.get(_get(before, "owner_id")) or "",
                            "new": _get(after, "owner") or names.get(_get(after, "owner_id")) or ""}
    if action in ("pool_return", "pool_warn", "claim", "assign"):
        return action, {}
    if action == "update" and _get(after, "source") == "customer_list":
        fields = sorted(k for k in after or {} if k not in ("contacts", "source", "row"))
        return "list_update", {"fields": ", ".join([*fields, *(["contacts"] if _get(after, "contacts") else [])])}
    if action == "update" and after is not None and "important" in after:
        return ("important_on" if after.get("important") else "important_off"), {}
    if action == "update":
        return "customer_updated", {"fields": ", ".join(sorted(after or {}))}
    if action == "erase":
        return "erased", {}
    return "generic", {"action": action, "entity": "customer"}


def _interaction(action: str, before: dict[str, Any] | None,
                 after: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    kind = str(_get(after, "kind") or _get(before, "kind") or "note")
    text = _snippet(_get(after, "transcript") or _get(after, "text") or _get(before, "text"))
    kinds = {"create": "logged", "file": "filed", "undo": "undone", "edit": "edited", "contact": "contact_set",
             "note.deal": "deal_answer", "forward": "forward_grew", "delete": "note_deleted",
             "import.me": "import_me"}
    if action == "import":
        return "imported", {"n": int(_get(after, "messages") or 0)}
    if action in kinds:
        return kinds[action], {"kind": kind, "text": text}
    return "generic", {"action": action, "entity": "interaction"}


def _follow_up(action: str, before: dict[str, Any] | None,
               after: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    due = _when(_get(after, "due_at")) or _when(_get(before, "due_at"))
    values: dict[str, Any] = {"action": _snippet(_get(after, "action") or _get(before, "action"))}
    if due is not None:
        values["due"] = due
    kinds = {"create": "followup_created", "done": "followup_done", "snooze": "followup_moved",
             "reschedule": "followup_moved", "delete": "followup_cancelled", "cancel": "followup_cancelled",
             "edit": "followup_edited", "handover": "followup_handover", "file": "followup_filed"}
    if action == "payment":
        return "payment", {"amount": str(_get(after, "amount") or ""), "currency": _get(after, "currency") or ""}
    if action in kinds and (action != "create" or due is not None):
        return kinds[action], values
    return "generic", {"action": action, "entity": "followup"}


def _deal(action: str, before: dict[str, Any] | None, after: dict[str, Any] | None,
          stages: dict[str, str]) -> tuple[str, dict[str, Any]]:
    title = _get(after, "title") or _get(before, "title") or ""
    if action == "deal.create":
        stage = _get(after, "stage")
        return "deal_created", {"title": title, "stage": stages.get(stage, stage or "")}
    if action == "deal.stage":
        old, new = _get(before, "stage"), _get(after, "stage")
        return "stage", {"title": title, "old": stages.get(old, old or ""), "new": stages.get(new, new or "")}
    if action == "deal.amount":
        amount = _get(after, "amount")
        return "deal_amount", {"title": title, "amount": f"{_get(after, 'currency') or ''} {amount or ''}".strip()}
    if action == "deal.close_date":
        return "deal_close_date", {"title": title, "date": str(_get(after, "expected_close") or "")}
    if action == "handover":
        return "deal_handover", {"title": title}
    return "generic", {"action": action, "entity": "deal"}
