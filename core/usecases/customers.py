"""Customers as the chat shows them: the card, the list, finding one by name, /new, /important, searching notes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlmodel import col, select

from core.models import Customer, FollowUp, Interaction, InteractionKind, Member, Role
from core.services import customer_access, search
from core.services import customers as customer_service
from core.services import handover as handover_service
from core.services.actor import Actor
from core.services.company_names import same_company
from core.understanding.numerals import day_count, is_day_word
from core.uow import UnitOfWork
from core.usecases import attachments, customer_pool
from core.usecases.views import CustomerRef, FollowUpView

RECENT = 8
VISITS = 10
CARD_FILES = 3  # file names shown on the card (the count covers all)
VISIT_KINDS = (InteractionKind.visit.value, InteractionKind.meeting.value)
IMPORTANT_OFF = frozenset({"off", "no", "none", "不重要", "取消", "關", "关"})


@dataclass(frozen=True, slots=True)
class ContactView:
    id: int
    name: str
    title: str | None = None
    phones: tuple[str, ...] = ()
    email: str | None = None


@dataclass(frozen=True, slots=True)
class InteractionView:
    """One record on a timeline: when, what kind, and its text (the transcript of a voice note)."""

    id: int
    occurred_at: datetime
    kind: str
    text: str
    customer: CustomerRef | None = None


@dataclass(frozen=True, slots=True)
class DealView:
    id: int
    title: str
    stage: str
    amount: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerCardView:
    customer: CustomerRef
    aliases: tuple[str, ...]
    phones: tuple[str, ...]
    contacts: tuple[ContactView, ...]
    interaction_count: int
    recent: tuple[InteractionView, ...]
    follow_ups: tuple[FollowUpView, ...]
    deals: tuple[DealView, ...]
    important: bool
    quiet_days: int  # the customer's own, else the team's default
    last_contact: datetime | None = None
    owner: str | None = None  # the member who owns the customer
    visits: tuple[datetime, ...] = ()  # when each past visit or meeting happened, newest first
    may_manage: bool = False  # the actor may rename, merge (and, as owner/manager, delete) it
    files: tuple[str, ...] = ()  # the names of its newest files (see core.usecases.attachments)
    file_count: int = 0  # all its files
    emails: tuple[str, ...] = ()  # the company's own addresses (contacts carry theirs)
    notes: str | None = None  # free notes, e.g. from a customer list's 備註/Notes column
    pool: customer_pool.PoolHistory | None = None  # its time in the team's pool (core.usecases.customer_pool)


@dataclass(frozen=True, slots=True)
class CustomerMatch:
    """A name looked up: one customer, several to choose from, or none (`customer` None, no candidates)."""

    customer: CustomerRef | None
    candidates: tuple[CustomerRef, ...] = ()
    colleagues: CustomerRef | None = None  # none the actor sees: a colleague's customer of that name
    owner: str | None = None  # … and whose it is


@dataclass(frozen=True, slots=True)
class NewCustomer:
    customer: CustomerRef
    created: bool  # False: the team has this customer already (that name, or the same company)
    owner: str | None = None  # a colleague's customer the actor does not see: whose it is


@dataclass(frozen=True, slots=True)
class ImportantSet:
    """The outcome of /important: the customer (or who to choose among) and what it is set to now."""

    match: CustomerMatch
    important: bool = False
    quiet_days: int = 0
    changed: bool = False


@dataclass(frozen=True, slots=True)
class ImportantRequest:
    """`/important Acme [14|off]` read: which customer, on or off, and its own quiet days if given."""

    name: str
    important: bool = True
    quiet_days: int | None = None

    @classmethod
    def parse(cls, args: str) -> ImportantRequest:
        words = args.split()
        if len(words) > 1 and words[-1].lower() in IMPORTANT_OFF:
            return cls(" ".join(words[:-1]), important=False)
        if len(words) > 2 and is_day_word(words[-1]) and (days := day_count(" ".join(words[-2:]))) is not None:
            return cls(" ".join(words[:-2]), quiet_days=days)  # `Globex 7 days`, `Globex 2 weeks`, `大同五金 十四 天`
        if len(words) > 1 and (days := day_count(words[-1])) is not None:
            return cls(" ".join(words[:-1]), quiet_days=days)  # `14`, `十四`, `十四天`, `１４日`, `兩週`
        return cls(" ".join(words))

    @property
    def days_in_range(self) -> bool:
        """No quiet days given, or 1 to MAX_SILENT_DAYS (`/important Acme 四百` is refused with the usage)."""
        return self.quiet_days is None or 1 <= self.quiet_days <= customer_service.MAX_SILENT_DAYS


def ref(customer: Customer) -> CustomerRef:
    return CustomerRef(customer.id or 0, customer.name)


def customer_card(uow: UnitOfWork, actor: Actor, customer_id: int, *, recent: int = 5) -> CustomerCardView:
    session = uow.session
    reader = _card_reader(uow, actor, customer_id)
    card = customer_service.customer_card(session, reader, customer_id, recent=recent)
    customer = card.customer
    owner = ref(customer)
    member = session.get(Member, customer.owner_id) if customer.owner_id else None
    visits = session.exec(select(Interaction.occurred_at)
                          .where(Interaction.customer_id == customer.id, col(Interaction.deleted_at).is_(None),
                                 col(Interaction.kind).in_(VISIT_KINDS))
                          .order_by(col(Interaction.occurred_at).desc()).limit(VISITS)).all()
    return CustomerCardView(
        owner, tuple(customer.aliases), tuple(customer.phones),
        tuple(ContactView(c.id or 0, c.name, c.title, tuple(c.phones), c.email) for c in card.contacts),
        card.interaction_count,
        tuple(_interaction(i) for i in card.interactions),
        tuple(_follow_up(f, owner) for f in card.follow_ups),
        tuple(DealView(d.id or 0, d.title, d.stage, d.amount, d.currency) for d in card.deals),
        customer.important, customer_service.quiet_days(session, customer), card.last_contact,
        member.name if member else None, tuple(visits),
        actor.sees_whole_team or customer.owner_id == actor.member_id,
        tuple(f.file_name for f in attachments.files_of(uow, reader, customer_id, limit=CARD_FILES)),
        attachments.count_for(uow, reader, customer_id),
        tuple(customer.emails), customer.notes, customer_pool.history(uow, customer))


def _card_reader(uow: UnitOfWork, actor: Actor, customer_id: int) -> Actor:
    """Who reads the card: the actor, or (read only) the team for a customer in the pool or of a member the actor
    covers while they are away."""
    if actor.sees_whole_team:
        return actor
    if customer_pool.pooled_in_team(uow, actor, customer_id) is not None:
        return replace(actor, role=Role.manager.value)
    owner_id = uow.session.exec(select(Customer.owner_id).where(Customer.id == customer_id,
                                                                Customer.team_id == actor.team_id)).first()
    if owner_id and owner_id != actor.member_id and handover_service.covers_for(uow.session, actor.member_id, owner_id):
        return replace(actor, role=Role.manager.value)
    return actor


def recent_customers(uow: UnitOfWork, actor: Actor, *, limit: int = RECENT) -> tuple[CustomerRef, ...]:
    """The customers the actor sees, most recently in touch first."""
    return tuple(ref(c) for c in customer_service.list_customers(uow.session, actor, limit=limit))


def find_customer(uow: UnitOfWork, actor: Actor, name: str) -> CustomerMatch:
    """Resolve a typed name (exact, alias, prefix, fuzzy); several close ones are candidates, never a guess."""
    session = uow.session
    resolution = customer_service.resolve_customer(session, actor, name)
    customer = ref(resolution.customer) if resolution.customer is not None else None
    if customer is None and len(resolution.candidates) == 1 and same_company(name, resolution.candidates[0].name):
        return CustomerMatch(ref(resolution.candidates[0]))  # one candidate, the same company: it, not "which?"
    if customer is None and not resolution.candidates:
        team = customer_service.resolve_customer(session, actor, name, team_wide=True).customer
        if team is None:  # another form of a company's name (`大同五金行公司` for `大同五金行股份有限公司`)
            similar = customer_service.same_company(session, actor, name)
            seen = [c for c in similar if customer_access.can_see(session, actor, c)]
            if len(seen) > 1:
                return CustomerMatch(None, tuple(ref(c) for c in seen))
            team = seen[0] if seen else (similar[0] if similar else None)
        if team is not None and (customer_access.can_see(session, actor, team) or (team.owner_id is None
                                 and customer_pool.pooled_in_team(uow, actor, team.id or 0) is not None)):
            return CustomerMatch(ref(team))  # seen, or in the team's pool (its card is open to everyone)
        if team is not None:
            member = session.get(Member, team.owner_id) if team.owner_id else None
            return CustomerMatch(None, (), ref(team), member.name if member else "?")
    return CustomerMatch(customer, tuple(ref(c) for c in resolution.candidates))


def new_customer(uow: UnitOfWork, actor: Actor, name: str) -> NewCustomer:
    """`/new Acme`: the team's customer of that name or of the same company (`Acme Inc.`) if there is one,
    seen by the actor or not (never a second one), else a new one."""
    session = uow.session
    existing = customer_service.same_name(session, actor.team_id, name)
    similar = customer_service.same_company(session, actor, name) if existing is None else []
    found = existing or (similar[0] if similar else None)
    if found is not None:
        owner = None
        if not customer_access.can_see(session, actor, found):
            member = session.get(Member, found.owner_id) if found.owner_id else None
            owner = member.name if member else "?"
        return NewCustomer(ref(found), created=False, owner=owner)
    return NewCustomer(ref(customer_service.create_customer(session, actor, name)), created=True)


def set_important(uow: UnitOfWork, actor: Actor, customer_id: int, important: bool,
                  quiet_days: int | None = None) -> ImportantSet:
    """Mark a customer important (its owner hears once when it goes quiet that many days) or not."""
    customer, changed = customer_service.set_important(uow.session, actor, customer_id, important, quiet_days)
    return ImportantSet(CustomerMatch(ref(customer)), customer.important,
                        customer_service.quiet_days(uow.session, customer), changed)


def mark_important(uow: UnitOfWork, actor: Actor, name: str, important: bool,
                   quiet_days: int | None = None) -> ImportantSet:
    """`/important Acme [14|off]` by name: set it when the name is clear, else say who it could be."""
    match = find_customer(uow, actor, name)
    if match.customer is None:
        return ImportantSet(match)
    return set_important(uow, actor, match.customer.id, important, quiet_days)


def search_notes(uow: UnitOfWork, actor: Actor, words: str, *, limit: int = 10) -> tuple[InteractionView, ...]:
    """The newest notes and transcripts containing every word, among customers the actor sees."""
    return tuple(_interaction(i, ref(c)) for i, c in search.search_notes(uow.session, actor, words, limit=limit))


def _interaction(interaction: Interaction, customer: CustomerRef | None = None) -> InteractionView:
    return InteractionView(interaction.id or 0, interaction.occurred_at, interaction.kind,
                           interaction.transcript or interaction.text, customer)


def _follow_up(follow_up: FollowUp, customer: CustomerRef) -> FollowUpView:
    return FollowUpView(follow_up.id or 0, follow_up.action, follow_up.due_at, follow_up.status, customer,
                        follow_up.explicit_time)
