"""The customer pool (公海, issue 16): per team, off by default.

An owned customer with no interaction for the team's pool days (60 by default) returns to the pool: its
owner is warned once per idle period (one message per owner listing them, at the first run after 09:00 in the
team's zone, the warning days — 3 — before), then it is returned no earlier than those days after the
warning. Important customers never return. On return the customer loses its owner, its open follow-ups are
cancelled (audited) and its open deals lose their owner; claimed, they go to the claimer. Any member sees the
pool (`pool_page`), claims from it within a limit (5 claims per 7 days by default; `claim`); owners and
managers also assign from it (`assign`) and change the settings (`change_settings`). A pool customer is read
only until claimed: its card is open to the whole team and a note about it is held unfiled until someone
claims it (`core.usecases.notes`).

`run(uow, now)` is the periodic job: each warning and each return is one conditional UPDATE, so several
processes, restarts or a second run do each once.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from core.events import Tell
from core.models import Customer, Member, Team
from core.services import audit
from core.services import customer_pool as pool
from core.services.actor import Actor
from core.services.errors import InvalidInput, NotAllowed, NotFound
from core.understanding.numerals import cn_to_number
from core.uow import UnitOfWork
from core.usecases.views import CustomerRef

PAGE = 8
WARN_HOUR = 9  # warnings go out at the first run after this hour in the team's zone
MAX_LISTED = 20  # customers named in one warning or return message
ON_WORDS = frozenset({"on", "開", "开", "開啟", "开启", "啟用", "启用"})
OFF_WORDS = frozenset({"off", "關", "关", "關閉", "关闭", "停用"})
LIMIT_WORDS = frozenset({"limit", "上限", "限額", "限额"})
WARN_WORDS = frozenset({"warn", "warning", "提醒", "預警", "预警"})


@dataclass(frozen=True, slots=True)
class PoolSettings:
    enabled: bool
    days: int
    warn_days: int
    claim_limit: int
    size: int  # customers in the pool now


@dataclass(frozen=True, slots=True)
class PoolEntry:
    customer: CustomerRef
    region: str | None
    pooled_at: datetime
    last_interaction_at: datetime | None
    previous_owner: str | None


@dataclass(frozen=True, slots=True)
class PoolPage:
    settings: PoolSettings
    entries: tuple[PoolEntry, ...]
    page: int  # 0-based
    pages: int
    may_assign: bool  # owners and managers assign from the pool


class ClaimStatus(StrEnum):
    CLAIMED = "claimed"  # the actor owns it now
    ASSIGNED = "assigned"  # the chosen member owns it now
    TAKEN = "taken"  # someone else got it first: `owner` is who
    YOURS = "yours"  # it is the actor's already
    LIMIT = "limit"  # the actor claimed `limit` customers in 7 days; `next_at` they may again


@dataclass(frozen=True, slots=True)
class ClaimResult:
    status: ClaimStatus
    customer: CustomerRef
    owner: str | None = None
    limit: int = 0
    next_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MemberChoice:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class PoolHistory:
    """What the card says about a customer's time in the pool."""

    in_pool: bool
    returned_at: datetime
    returned_from: str | None
    assigned_at: datetime | None = None
    assigned_to: str | None = None
    claimed: bool = False  # claimed by `assigned_to` themselves (else assigned by a manager)


class SettingChange(StrEnum):
    SHOWN = "shown"
    ON = "on"
    OFF = "off"
    LIMIT = "limit"
    WARN = "warn"


@dataclass(frozen=True, slots=True)
class SettingsResult:
    change: SettingChange
    settings: PoolSettings


# -- reading ----------------------------------------------------------------------------------------------------

def settings_of(uow: UnitOfWork, actor: Actor) -> PoolSettings:
    team = _team(uow, actor.team_id)
    return PoolSettings(team.pool_enabled, team.pool_days, team.pool_warn_days, team.pool_claim_limit,
                        pool.pool_size(uow.session, actor.team_id))


def pool_page(uow: UnitOfWork, actor: Actor, page: int = 0) -> PoolPage:
    """The team's pool, newest returns first, `PAGE` a page (any member; another team's never)."""
    session = uow.session
    settings = settings_of(uow, actor)
    pages = max(1, math.ceil(settings.size / PAGE))
    page = min(max(page, 0), pages - 1)
    rows = session.exec(select(Customer).where(pool.pooled_filter(actor.team_id))
                        .order_by(col(Customer.pooled_at).desc(), col(Customer.id).desc())
                        .offset(page * PAGE).limit(PAGE)).all()
    names = _names(uow, {c.pooled_from_id for c in rows if c.pooled_from_id})
    entries = tuple(PoolEntry(CustomerRef(c.id or 0, c.name), c.region, c.pooled_at or c.updated_at,
                              c.last_interaction_at, names.get(c.pooled_from_id or 0)) for c in rows)
    return PoolPage(settings, entries, page, pages, actor.sees_whole_team)


def pooled_in_team(uow: UnitOfWork, actor: Actor, customer_id: int) -> CustomerRef | None:
    """The customer, when it is in the actor's team's pool (its card is open to the whole team)."""
    customer = uow.session.get(Customer, customer_id)
    if customer is None or customer.team_id != actor.team_id or not pool.in_pool(customer):
        return None
    return CustomerRef(customer.id or 0, customer.name)


def history(uow: UnitOfWork, customer: Customer) -> PoolHistory | None:
    """The customer's last return to the pool and who has it since, or None when it never was in the pool."""
    if customer.pooled_at is None:
        return None
    names = _names(uow, {i for i in (customer.pooled_from_id, customer.owner_id) if i})
    since = customer.assigned_at if customer.assigned_at and customer.assigned_at >= customer.pooled_at else None
    return PoolHistory(pool.in_pool(customer), customer.pooled_at, names.get(customer.pooled_from_id or 0),
                       since, names.get(customer.owner_id or 0) if since else None,
                       since is not None and customer.claimed_by_id == customer.owner_id)


def assign_choices(uow: UnitOfWork, actor: Actor, customer_id: int) -> tuple[CustomerRef, tuple[MemberChoice, ...]]:
    """Whom an owner or manager may assign a pool customer to: the team's active members."""
    if not actor.sees_whole_team:
        raise NotAllowed("only owners and managers assign from the pool")
    customer = _team_customer(uow, actor, customer_id)
    members = uow.session.exec(select(Member).where(Member.team_id == actor.team_id, col(Member.active).is_(True))
                               .order_by(col(Member.id))).all()
    return CustomerRef(customer.id or 0, customer.name), tuple(MemberChoice(m.id or 0, m.name) for m in members)


# -- claiming ---------------------------------------------------------------------------------------------------

def claim(uow: UnitOfWork, actor: Actor, now: datetime, customer_id: int) -> ClaimResult:
    """Become the owner of a pool customer, within the team's claim limit; two members at once: one wins."""
    session = uow.session
    customer = _team_customer(uow, actor, customer_id)
    ref = CustomerRef(customer.id or 0, customer.name)
    if not pool.in_pool(customer):
        return _not_in_pool(uow, actor, customer)
    team = _team(uow, actor.team_id)
    pool.lock_member(session, actor.member_id)
    claims = pool.claims_since(session, actor.member_id, now - pool.CLAIM_WINDOW)
    if len(claims) >= team.pool_claim_limit:
        limit = team.pool_claim_limit  # 0: only owners and managers assign from the pool
        next_at = claims[-limit] + pool.CLAIM_WINDOW if limit else None
        return ClaimResult(ClaimStatus.LIMIT, ref, limit=limit, next_at=next_at)
    if not pool.give(session, customer, actor.member_id, now, actor_id=actor.member_id, claimed=True):
        return _not_in_pool(uow, actor, customer)
    return ClaimResult(ClaimStatus.CLAIMED, ref, actor.name, team.pool_claim_limit)


def assign(uow: UnitOfWork, actor: Actor, now: datetime, customer_id: int, member_id: int) -> ClaimResult:
    """An owner or manager gives a pool customer to a member of the team (not counted against any limit); the
    member hears of it."""
    if not actor.sees_whole_team:
        raise NotAllowed("only owners and managers assign from the pool")
    session = uow.session
    customer = _team_customer(uow, actor, customer_id)
    member = session.get(Member, member_id)
    if member is None or member.team_id != actor.team_id or not member.active:
        raise NotFound("no such member")
    if not pool.in_pool(customer) or not pool.give(session, customer, member_id, now, actor_id=actor.member_id,
                                                   claimed=False):
        return _not_in_pool(uow, actor, customer)
    if member_id != actor.member_id:
        uow.publish(Tell.of(member_id, "pool.assigned_to_you", customer=customer.name, by=actor.name))
    return ClaimResult(ClaimStatus.ASSIGNED, CustomerRef(customer.id or 0, customer.name), member.name)


def _not_in_pool(uow: UnitOfWork, actor: Actor, customer: Customer) -> ClaimResult:
    ref = CustomerRef(customer.id or 0, customer.name)
    if customer.owner_id == actor.member_id:
        return ClaimResult(ClaimStatus.YOURS, ref, actor.name)
    owner = _names(uow, {customer.owner_id}).get(customer.owner_id or 0) if customer.owner_id else None
    return ClaimResult(ClaimStatus.TAKEN, ref, owner)


# -- settings ---------------------------------------------------------------------------------------------------

def change_settings(uow: UnitOfWork, actor: Actor, text: str) -> SettingsResult:
    """`on [days]`, `off`, `limit K`, `warn D` (any script's digits, 六十 too); owners and managers only.

    Nothing given: the settings as they are. Raises NotAllowed or InvalidInput (unreadable, out of range)."""
    words = text.split()
    if not words:
        return SettingsResult(SettingChange.SHOWN, settings_of(uow, actor))
    if not actor.sees_whole_team:
        raise NotAllowed("only owners and managers change the pool")
    verb, rest = words[0].casefold(), words[1:]
    if verb.isdecimal() or cn_to_number(verb) is not None:  # `/pool 60` = on, 60 days
        verb, rest = "on", words
    team = _team(uow, actor.team_id)
    before = {"pool_enabled": team.pool_enabled, "pool_days": team.pool_days,
              "pool_warn_days": team.pool_warn_days, "pool_claim_limit": team.pool_claim_limit}
    if verb in ON_WORDS:
        change = SettingChange.ON
        team.pool_enabled = True
        if rest:
            team.pool_days = _number(rest, pool.MIN_DAYS, pool.MAX_DAYS)
        if team.pool_warn_days >= team.pool_days:
            team.pool_warn_days = max(1, min(3, team.pool_days - 1))
    elif verb in OFF_WORDS and not rest:
        change, team.pool_enabled = SettingChange.OFF, False
    elif verb in LIMIT_WORDS:
        change, team.pool_claim_limit = SettingChange.LIMIT, _number(rest, 0, pool.MAX_LIMIT)
    elif verb in WARN_WORDS:
        change = SettingChange.WARN
        team.pool_warn_days = _number(rest, 1, min(pool.MAX_WARN_DAYS, team.pool_days - 1))
    else:
        raise InvalidInput("on [days], off, limit N or warn N")
    uow.session.add(team)
    after = {"pool_enabled": team.pool_enabled, "pool_days": team.pool_days,
             "pool_warn_days": team.pool_warn_days, "pool_claim_limit": team.pool_claim_limit}
    if after != before:
        audit.record(uow.session, team_id=actor.team_id, actor_id=actor.member_id, action="update", entity=team,
                     before=before, after=after)
    return SettingsResult(change, settings_of(uow, actor))


def _number(words: list[str], low: int, high: int) -> int:
    """`60`, `６０`, `٦٠`, `六十`, `60天`, `60 days` → 60, within low..high (InvalidInput otherwise)."""
    text = "".join(words).casefold().removesuffix("days").removesuffix("day").removesuffix("天")
    text = text.removesuffix("個").removesuffix("个").removesuffix("次").strip()
    value: float | None = int(text) if text.isdecimal() else cn_to_number(text)
    if value is None or value != int(value) or not low <= value <= high:
        raise InvalidInput(f"a whole number from {low} to {high}", low=low, high=high)
    return int(value)


# -- the periodic job -------------------------------------------------------------------------------------------

def run(uow: UnitOfWork, now: datetime) -> int:
    """Warn owners and return idle customers in every team whose pool is on; how many customers it warned or
    returned. Safe to run on several processes at once and again after a restart."""
    session = uow.session
    done = 0
    for team in session.exec(select(Team).where(col(Team.pool_enabled).is_(True)).order_by(col(Team.id))).all():
        done += _return_due(uow, team, now) + _warn_due(uow, team, now)
    return done


def warn_cutoff(team: Team, now: datetime) -> datetime:
    """Customers idle since before this are warned now: those due back by the end of the day `pool_warn_days`
    ahead (the day turns at WARN_HOUR in the team's zone, so each owner gets at most one warning a day)."""
    zone = ZoneInfo(team.timezone)
    local = now.astimezone(zone)
    day = local.date() if local.hour >= WARN_HOUR else local.date() - timedelta(days=1)
    horizon = datetime.combine(day + timedelta(days=team.pool_warn_days + 1), time(0), zone)
    return horizon.astimezone(UTC) - timedelta(days=team.pool_days)


def _warn_due(uow: UnitOfWork, team: Team, now: datetime) -> int:
    session = uow.session
    cutoff = warn_cutoff(team, now)
    warned: dict[int, list[str]] = defaultdict(list)
    for customer in pool.due_for_warning(session, team, cutoff):
        owner_id = customer.owner_id
        if owner_id is not None and pool.mark_warned(session, team, customer, cutoff, now):
            warned[owner_id].append(customer.name)
    back = now + timedelta(days=team.pool_warn_days)
    for owner_id, names in warned.items():
        owner = session.get(Member, owner_id)
        zone = ZoneInfo(owner.timezone if owner else team.timezone)
        uow.publish(Tell.of(owner_id, "pool.warn_owner", customers=_listed(names),
                            date=back.astimezone(zone).date().isoformat(), days=team.pool_days))
    return sum(len(names) for names in warned.values())


def _return_due(uow: UnitOfWork, team: Team, now: datetime) -> int:
    session = uow.session
    returned: dict[int, list[str]] = defaultdict(list)
    for customer in pool.due_for_return(session, team, now):
        owner_id = pool.take_into_pool(session, team, customer, now)
        if owner_id is not None:
            returned[owner_id].append(customer.name)
    for owner_id, names in returned.items():
        uow.publish(Tell.of(owner_id, "pool.returned_owner", customers=_listed(names), days=team.pool_days))
    return sum(len(names) for names in returned.values())


def _listed(names: list[str]) -> str:
    shown = "\n".join(f"• {name}" for name in names[:MAX_LISTED])
    return shown + (f"\n• … +{len(names) - MAX_LISTED}" if len(names) > MAX_LISTED else "")


# -- helpers ----------------------------------------------------------------------------------------------------

def _team(uow: UnitOfWork, team_id: int) -> Team:
    team = uow.session.get(Team, team_id)
    if team is None:
        raise NotFound("no such team")
    return team


def _team_customer(uow: UnitOfWork, actor: Actor, customer_id: int) -> Customer:
    """A live customer of the actor's team (another team's is not found: forged buttons)."""
    customer = uow.session.get(Customer, customer_id)
    if customer is None or customer.team_id != actor.team_id or customer.merged_into_id is not None:
        raise NotFound("no such customer")
    return customer


def _names(uow: UnitOfWork, member_ids: set[int | None]) -> dict[int, str]:
    ids = [i for i in member_ids if i]
    if not ids:
        return {}
    return {m.id or 0: m.name for m in uow.session.exec(select(Member).where(col(Member.id).in_(ids)))}
