"""Merging two customers into one, deleting a customer, and discarding one a withdrawn note left unused.

Each is audited; each leaves the name index to be rebuilt.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from core.models import (
    Contact,
    ConversationMessage,
    Customer,
    CustomerAccess,
    CustomerAlias,
    CustomerFile,
    Deal,
    FollowUp,
    Interaction,
    utcnow,
)
from core.services import audit
from core.services.actor import Actor
from core.services.customers import _add_alias_row, get_visible
from core.services.errors import InvalidInput
from core.services.name_index import name_index

MOVED = (Interaction, FollowUp, Deal, CustomerFile)


def _count(session: Session, model: type[SQLModel], *where: Any) -> int:
    return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def merge(session: Session, actor: Actor, keep_id: int, drop_id: int) -> tuple[Customer, dict[str, int], bool]:
    """Move everything of `drop` onto `keep` (notes, contacts, follow-ups, deals, files, aliases, access);
    `drop` stays as a tombstone pointing at `keep`. False (and nothing moved) when it was merged there already."""
    if keep_id == drop_id:
        raise InvalidInput("cannot merge a customer into itself")
    keep = get_visible(session, actor, keep_id)
    already = session.get(Customer, drop_id)
    if already is not None and already.team_id == actor.team_id and already.merged_into_id == keep.id:
        return keep, {}, False
    drop = get_visible(session, actor, drop_id)
    moved = {model.__name__.lower(): _count(session, model, col(model.customer_id) == drop.id)
             for model in (*MOVED, Contact)}
    for model in MOVED:
        session.execute(update(model).where(col(model.customer_id) == drop.id)
                        .values(customer_id=keep.id).execution_options(synchronize_session=False))
    _merge_contacts(session, keep.id or 0, drop.id or 0)
    _rekey_messages(session, actor.team_id, str(drop.id), str(keep.id))
    _move_access(session, keep.id or 0, drop.id or 0)
    for alias in [drop.name, *drop.aliases]:
        _add_alias_row(session, keep, alias)
    session.flush()
    session.execute(delete(CustomerAlias).where(col(CustomerAlias.customer_id) == drop.id)
                    .execution_options(synchronize_session=False))
    keep.aliases = sorted({*keep.aliases, drop.name, *drop.aliases} - {keep.name})
    keep.phones = sorted({*keep.phones, *drop.phones})
    keep.emails = [*keep.emails, *(e for e in drop.emails if e not in keep.emails)]
    keep.email, keep.address = keep.email or drop.email, keep.address or drop.address
    keep.notes = "\n".join(n for n in (keep.notes, drop.notes) if n) or None
    keep.tags = sorted({*keep.tags, *drop.tags})
    keep.important = keep.important or drop.important
    if drop.last_interaction_at and (keep.last_interaction_at is None
                                     or drop.last_interaction_at > keep.last_interaction_at):
        keep.last_interaction_at = drop.last_interaction_at
    keep.updated_at = utcnow()
    drop.merged_into_id = keep.id
    session.add_all([keep, drop])
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="merge", entity=keep,
                 before={"dropped": audit.snapshot(drop)}, after={**(audit.snapshot(keep) or {}), "moved": moved})
    session.flush()
    name_index.invalidate(actor.team_id)
    session.expire_all()
    return keep, moved, True


def _merge_contacts(session: Session, keep_id: int, drop_id: int) -> None:
    """Contacts move to `keep`; one of the same name there already absorbs the moved one."""
    kept = {c.name_key: c for c in session.exec(select(Contact).where(Contact.customer_id == keep_id))}
    for contact in session.exec(select(Contact).where(Contact.customer_id == drop_id)).all():
        twin = kept.get(contact.name_key) if contact.name_key else None
        if twin is None:
            contact.customer_id = keep_id
            session.add(contact)
            continue
        twin.phones = sorted({*twin.phones, *contact.phones})
        twin.title, twin.email = twin.title or contact.title, twin.email or contact.email
        twin.handles = {**contact.handles, **twin.handles}
        session.add(twin)
        session.execute(update(Interaction).where(col(Interaction.contact_id) == contact.id)
                        .values(contact_id=twin.id).execution_options(synchronize_session=False))
        session.flush()
        session.delete(contact)
    session.flush()


def _rekey_messages(session: Session, team_id: int, old: str, new: str) -> None:
    """Conversation messages keyed by the dropped customer join the kept one's, less those it has already."""
    existing = sa_select(col(ConversationMessage.dedup_key)).where(col(ConversationMessage.team_id) == team_id,
                                                                  col(ConversationMessage.customer_key) == new)
    session.execute(delete(ConversationMessage).where(col(ConversationMessage.team_id) == team_id,
                                                      col(ConversationMessage.customer_key) == old,
                                                      col(ConversationMessage.dedup_key).in_(existing))
                    .execution_options(synchronize_session=False))
    session.execute(update(ConversationMessage).where(col(ConversationMessage.team_id) == team_id,
                                                      col(ConversationMessage.customer_key) == old)
                    .values(customer_key=new).execution_options(synchronize_session=False))


def _move_access(session: Session, keep_id: int, drop_id: int) -> None:
    """Access granted to the dropped customer holds for the kept one (a grant wins over a request)."""
    kept = {a.member_id: a for a in session.exec(select(CustomerAccess).where(CustomerAccess.customer_id == keep_id))}
    for row in session.exec(select(CustomerAccess).where(CustomerAccess.customer_id == drop_id)).all():
        twin = kept.get(row.member_id)
        if twin is None:
            row.customer_id = keep_id
            session.add(row)
            continue
        if row.status == "granted":
            twin.status, twin.decided_by, twin.decided_at = row.status, row.decided_by, row.decided_at
            session.add(twin)
        session.delete(row)
    session.flush()


def delete_customer(session: Session, actor: Actor, customer_id: int) -> dict[str, int]:
    """Remove a customer with its contacts, aliases, deals, files and access; its notes and follow-ups stay,
    unfiled (they are the members' own records). Returns how many of each were removed or unfiled."""
    customer = get_visible(session, actor, customer_id)
    counts = {"interaction": _count(session, Interaction, col(Interaction.customer_id) == customer.id,
                                    col(Interaction.deleted_at).is_(None)),
              "contact": _count(session, Contact, col(Contact.customer_id) == customer.id),
              "deal": _count(session, Deal, col(Deal.customer_id) == customer.id),
              "customerfile": _count(session, CustomerFile, col(CustomerFile.customer_id) == customer.id)}
    before = audit.snapshot(customer)
    tombstones = [c.id for c in session.exec(select(Customer).where(Customer.merged_into_id == customer.id))]
    _remove(session, actor.team_id, [customer.id or 0, *[t for t in tombstones if t is not None]])
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="delete", entity="customer",
                 entity_id=customer_id, before=before, after={"removed": counts})
    return counts


def discard_unused(session: Session, actor: Actor, customer_id: int, note: Interaction) -> bool:
    """Remove a customer `note` created once nothing but that note (and the contact and follow-up it brought)
    refers to it; False, and nothing removed, when anything else does."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.team_id != actor.team_id:
        return False
    others = (
        _count(session, Interaction, col(Interaction.customer_id) == customer_id, col(Interaction.id) != note.id)
        + _count(session, FollowUp, col(FollowUp.customer_id) == customer_id,
                 col(FollowUp.source_interaction_id).is_distinct_from(note.id))
        + _count(session, Deal, col(Deal.customer_id) == customer_id)
        + _count(session, CustomerFile, col(CustomerFile.customer_id) == customer_id)
        + _count(session, Customer, col(Customer.merged_into_id) == customer_id)
        + _count(session, Contact, col(Contact.customer_id) == customer_id,
                 col(Contact.id).is_distinct_from(note.contact_id)))
    if others:
        return False
    before = audit.snapshot(customer)
    _remove(session, actor.team_id, [customer_id])
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="delete", entity="customer",
                 entity_id=customer_id, before=before, after={"reason": "unused", "note": note.id})
    return True


def discard_contact(session: Session, actor: Actor, contact_id: int, note: Interaction) -> bool:
    """Remove a contact `note` created once no other record refers to it."""
    contact = session.get(Contact, contact_id)
    if contact is None or contact.team_id != actor.team_id:
        return False
    if _count(session, Interaction, col(Interaction.contact_id) == contact_id, col(Interaction.id) != note.id):
        return False
    before = audit.snapshot(contact)
    if note.contact_id == contact_id:
        note.contact_id = None
        session.add(note)
        session.flush()
    session.delete(contact)
    audit.record(session, team_id=actor.team_id, actor_id=actor.member_id, action="delete", entity="contact",
                 entity_id=contact_id, before=before, after={"reason": "unused", "note": note.id},
                 customer_id=contact.customer_id)
    session.flush()
    return True


def _remove(session: Session, team_id: int, ids: list[int]) -> None:
    """Delete customers `ids` and what only they own; unfile the records that were theirs."""
    session.flush()
    contacts = sa_select(col(Contact.id)).where(col(Contact.customer_id).in_(ids))
    session.execute(update(Interaction).where(col(Interaction.contact_id).in_(contacts)).values(contact_id=None)
                    .execution_options(synchronize_session=False))
    for model in (Interaction, FollowUp):
        session.execute(update(model).where(col(model.customer_id).in_(ids)).values(customer_id=None)
                        .execution_options(synchronize_session=False))
    for owned in (Contact, CustomerAlias, CustomerAccess, Deal, CustomerFile):
        session.execute(delete(owned).where(col(owned.customer_id).in_(ids))
                        .execution_options(synchronize_session=False))
    session.execute(update(Customer).where(col(Customer.merged_into_id).in_(ids)).values(merged_into_id=None)
                    .execution_options(synchronize_session=False))
    session.execute(delete(Customer).where(col(Customer.id).in_(ids)).execution_options(synchronize_session=False))
    session.flush()
    session.expire_all()
    name_index.invalidate(team_id)
