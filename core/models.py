"""Domain tables. Every row carries its team; timestamps are timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Computed,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC; reads them back aware (SQLite keeps no offset by itself)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; attach a time zone first")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


CENT = Decimal("0.01")


class Money(TypeDecorator):
    """An exact amount, NUMERIC(18,2), read back as Decimal. SQLite keeps NUMERIC as a double (exact to the
    cent below 10^13); the value is rounded to the cent when read, without SQLAlchemy's float warning."""

    impl = Numeric(18, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Numeric(18, 2, asdecimal=False))
        return dialect.type_descriptor(Numeric(18, 2))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        amount = Decimal(value).quantize(CENT)
        return str(amount) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(repr(value) if isinstance(value, float) else str(value)).quantize(CENT)


def money() -> Any:
    return Field(default=None, sa_column=Column(Money(), nullable=True))


def when(*, nullable: bool = True, index: bool = False, default_now: bool = False) -> Any:
    kwargs: dict[str, Any] = {"sa_column": Column(UTCDateTime(), nullable=nullable, index=index)}
    if default_now:
        kwargs["default_factory"] = utcnow
    elif nullable:
        kwargs["default"] = None
    return Field(**kwargs)


def json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


def json_dict(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_column=Column(JSON, nullable=True))
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Role(StrEnum):
    owner = "owner"
    manager = "manager"
    sales = "sales"


class InteractionKind(StrEnum):
    visit = "visit"
    call = "call"
    meeting = "meeting"
    message = "message"
    note = "note"
    voice = "voice"
    forwarded = "forwarded"


class FollowUpStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    done = "done"
    snoozed = "snoozed"
    cancelled = "cancelled"


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    timezone: str = "Asia/Taipei"
    language: str = "zh-Hant"
    country: str = "TW"
    silent_days: int = 30
    stalled_days: int = 14  # an open deal with no interaction or stage move for this long is stalled
    # the customer pool (公海, core.usecases.customer_pool): off by default
    pool_enabled: bool = False
    pool_days: int = 60  # an owned customer with no interaction for this long returns to the pool
    pool_warn_days: int = 3  # its owner is warned this many days before
    pool_claim_limit: int = 5  # claims per member per 7 days
    workspace_id: str | None = Field(default=None, index=True)  # Slack team id when the team lives in Slack
    created_at: datetime = when(nullable=False, default_now=True)


class Member(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    name: str
    role: str = Role.sales.value
    timezone: str = "Asia/Taipei"
    language: str = "zh-Hant"
    country: str = "TW"
    work_start: str = "09:00"
    work_end: str = "18:00"
    work_days: str = "12345"  # ISO weekdays, Monday = 1
    digest_time: str = "08:30"
    active: bool = True  # False once removed from the team: their chat identities are refused (core.usecases.members)
    removed_at: datetime | None = when()
    removed_by: int | None = None  # the member who removed them (no foreign key: the member table is not rebuilt)
    unreachable_since: datetime | None = when()
    created_at: datetime = when(nullable=False, default_now=True)


class Invite(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    code: str = Field(unique=True, index=True)
    role: str = Role.sales.value
    created_by: int = Field(foreign_key="member.id")
    created_at: datetime = when(nullable=False, default_now=True)
    expires_at: datetime = when(nullable=False)
    used_by: int | None = Field(default=None, foreign_key="member.id")
    used_at: datetime | None = when()


class ChatIdentity(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "platform_user_id", name="uq_identity_platform_user"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    platform: str
    platform_user_id: str
    chat_id: str  # the DM chat where nudges go
    workspace_id: str | None = None
    display_name: str = ""
    created_at: datetime = when(nullable=False, default_now=True)


class Customer(SQLModel, table=True):
    __table_args__ = (Index("ix_customer_team_key", "team_id", "name_key"),
                      Index("ix_customer_team_pooled", "team_id", "pooled_at"))
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    name: str
    name_key: str  # core.text.match_key(name)
    aliases: list[str] = json_list()
    phones: list[str] = json_list()
    email: str | None = None  # the first of `emails`; rows older than migration 0008 had only this
    emails: list[str] = json_list()
    address: str | None = None
    region: str | None = None
    tags: list[str] = json_list()
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # from customer lists' Notes
    owner_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    shared: bool = False
    important: bool = False
    silent_days: int | None = None
    last_interaction_at: datetime | None = when()
    silent_alerted_at: datetime | None = when()
    merged_into_id: int | None = Field(default=None, foreign_key="customer.id")
    pooled_at: datetime | None = when()  # last returned to the pool; in it while owner_id is None (kept once claimed)
    pooled_from_id: int | None = None  # the member it was returned from (a member id; no foreign key)
    pool_warned_at: datetime | None = when()  # its owner was warned of its return (once per idle period)
    assigned_at: datetime | None = when()  # claimed or assigned from the pool: a new idle period starts
    claimed_by_id: int | None = None  # the member who claimed it from the pool (None: assigned by a manager)
    erased_at: datetime | None = when()  # a privacy erasure left only this anonymous shell (core.services.erasure)
    created_at: datetime = when(nullable=False, default_now=True)
    updated_at: datetime = when(nullable=False, default_now=True)


class CustomerAlias(SQLModel, table=True):
    """Every name a customer is known by (its name included), keyed for exact lookups."""

    __table_args__ = (
        UniqueConstraint("customer_id", "key", name="uq_alias_customer_key"),
        Index("ix_alias_team_key", "team_id", "key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    customer_id: int = Field(foreign_key="customer.id", index=True)
    alias: str
    key: str


class Contact(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    name: str
    name_key: str = ""
    title: str | None = None
    phones: list[str] = json_list()
    email: str | None = None
    notes: str | None = None
    handles: dict[str, str] = json_dict()  # platform → platform user id, for matching forwarded senders
    created_at: datetime = when(nullable=False, default_now=True)


class Interaction(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("source_platform", "source_chat", "source_message_id", name="uq_interaction_source"),
        Index("ix_interaction_customer_time", "customer_id", "occurred_at"),
        # the newest notes of a team, read from the index alone on PostgreSQL (the search walk, core.services.search)
        Index("ix_interaction_team_time", "team_id", "occurred_at",
              postgresql_include=["customer_id", "id", "search_bits"]),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    customer_id: int | None = Field(default=None, foreign_key="customer.id")  # None: waiting for "which customer?"
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    kind: str = InteractionKind.note.value
    occurred_at: datetime = when(nullable=False, default_now=True)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    transcript: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    amounts: list[dict] = json_list()
    details: dict[str, Any] = json_dict()  # audio hash/duration/language/engine, forward origin, parse draft…
    source_platform: str | None = None
    source_chat: str | None = None
    source_message_id: str | None = None
    deleted_at: datetime | None = when()  # undo
    created_at: datetime = when(nullable=False, default_now=True)


# PostgreSQL's stored search vector and its terms' 63-bit signature (migration 0017; GIN index
# `ix_interaction_search` and the function `search_bloom` made in SQL): columns of the table but no fields of the
# model, so the ORM never reads or writes them and rows, audits and exports never carry them. SQLite searches
# through FTS5 and has virtual NULL columns of those names.
SEARCH_VECTOR = Column("search_vector", TSVECTOR().with_variant(Text(), "sqlite"),
                       Computed("to_tsvector('simple'::regconfig, search_text)", persisted=True))
SEARCH_BITS = Column("search_bits", BigInteger().with_variant(Integer(), "sqlite"),
                     Computed("search_bloom(to_tsvector('simple'::regconfig, search_text))", persisted=True))
Interaction.__table__.append_column(SEARCH_VECTOR)  # type: ignore[attr-defined]
Interaction.__table__.append_column(SEARCH_BITS)  # type: ignore[attr-defined]


class ConversationMessage(SQLModel, table=True):
    """One message of a forwarded batch or an imported chat, with its original sender and time."""

    __table_args__ = (
        UniqueConstraint("team_id", "customer_key", "dedup_key", name="uq_conversation_message"),
        Index("ix_conversation_interaction", "interaction_id", "sent_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    interaction_id: int = Field(foreign_key="interaction.id")
    customer_key: str = ""  # str(customer id), so one chat re-imported for the same customer deduplicates
    sender: str | None = None
    from_member: bool = False
    sent_at: datetime = when(nullable=False)
    kind: str = "text"
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    dedup_key: str


class AudioClip(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    interaction_id: int = Field(foreign_key="interaction.id", index=True)
    sha256: str = Field(index=True)
    mime_type: str | None = None
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class FollowUp(SQLModel, table=True):
    __table_args__ = (Index("ix_followup_due", "status", "due_at"), Index("ix_followup_retry", "status", "next_attempt_at"),
                      Index("ix_followup_claim", "claimed_until"))
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    due_at: datetime = when(nullable=False)
    action: str = ""
    kind: str = "followup"  # "payment": money to collect (amount, currency), done when marked received
    amount: Decimal | None = money()
    currency: str | None = None
    status: str = FollowUpStatus.pending.value
    explicit_time: bool = False  # the user named the hour: honour it even outside working hours
    source_interaction_id: int | None = Field(default=None, foreign_key="interaction.id")
    # delivery bookkeeping
    claimed_by: str | None = None
    claimed_until: datetime | None = when()
    attempts: int = 0
    next_attempt_at: datetime | None = when()
    last_error: str | None = None  # the platform's words, for logs
    last_failure: str | None = None  # core.delivery.FailureKind of the last failed try (shown on /status)
    sent_at: datetime | None = when()
    sent_late: bool = False
    message_ref: str | None = None  # ChatRef string of the nudge
    message_id: str | None = None  # platform message id of the nudge
    done_at: datetime | None = when()
    created_at: datetime = when(nullable=False, default_now=True)
    updated_at: datetime = when(nullable=False, default_now=True)


class DealOutcome(StrEnum):
    open = "open"
    won = "won"
    lost = "lost"


class PipelineStage(SQLModel, table=True):
    """A team's funnel stage; `key` is stable (deals store it), names and order are the team's to change."""

    __table_args__ = (UniqueConstraint("team_id", "key", name="uq_pipelinestage_team_key"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    key: str
    position: int = 0
    names: dict[str, Any] = json_dict()  # {"zh-Hant": ..., "zh-Hans": ..., "en": ...}
    probability: int = 0  # 0-100, a new deal's default in this stage
    outcome: str = DealOutcome.open.value


class Deal(SQLModel, table=True):
    __table_args__ = (Index("ix_deal_team_stage", "team_id", "stage"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    owner_id: int | None = Field(default=None, foreign_key="member.id")
    title: str
    stage: str = "initial"  # PipelineStage.key
    amount: Decimal | None = money()
    currency: str | None = None  # ISO 4217
    probability: int = 10  # 0-100, from the stage unless set
    expected_close: date | None = None
    won_at: datetime | None = when()
    lost_at: datetime | None = when()
    lost_reason: str | None = None
    closed_at: datetime | None = when()  # won_at or lost_at, whichever closed it (read by the silence notices)
    last_activity_at: datetime = when(nullable=False, default_now=True)  # notes on its customer, stage moves
    source_interaction_id: int | None = Field(default=None, foreign_key="interaction.id")
    created_at: datetime = when(nullable=False, default_now=True)
    updated_at: datetime = when(nullable=False, default_now=True)


class DealStageChange(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    deal_id: int = Field(foreign_key="deal.id", index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id")
    from_stage: str | None = None
    to_stage: str
    at: datetime = when(nullable=False, default_now=True)


class AuditEvent(SQLModel, table=True):
    __table_args__ = (Index("ix_auditevent_team_customer_at", "team_id", "customer_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    action: str
    entity: str
    entity_id: int | None = None
    customer_id: int | None = None  # the customer it is about (core.services.audit); no foreign key: kept after a delete
    before: dict[str, Any] | None = json_dict(nullable=True)
    after: dict[str, Any] | None = json_dict(nullable=True)
    at: datetime = when(nullable=False, default_now=True)


class ProcessedUpdate(SQLModel, table=True):
    """Idempotency: an update from outside (platform + key) is handled once."""

    __table_args__ = (UniqueConstraint("platform", "key", name="uq_processed_update"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str
    key: str
    at: datetime = when(nullable=False, default_now=True)


class InboxItem(SQLModel, table=True):
    """The durable inbox (issue 17): one row per platform update, stored before the update is acknowledged.

    Processed in order per chat (`chat_key`), claimed with a short lease renewed by a heartbeat; marked done in
    the transaction of its effects; parked with its error after repeated failures (core.services.inbox)."""

    __table_args__ = (UniqueConstraint("platform", "key", name="uq_inbox_item"),
                      Index("ix_inboxitem_chat_status", "chat_key", "status", "id"),
                      Index("ix_inboxitem_status_claimed", "status", "claimed_until"),
                      Index("ix_inboxitem_open", "chat_key", "id",  # the open rows only (migration 0019)
                            postgresql_where=sql_text("status IN ('pending', 'processing')"),
                            sqlite_where=sql_text("status IN ('pending', 'processing')")),
                      Index("ix_inboxitem_open_id", "id",
                            postgresql_where=sql_text("status IN ('pending', 'processing')"),
                            sqlite_where=sql_text("status IN ('pending', 'processing')")))
    id: int | None = Field(default=None, primary_key=True)
    platform: str
    key: str
    chat_key: str
    payload: dict[str, Any] = json_dict()
    received_at: datetime = when(nullable=False, default_now=True)
    status: str = "pending"  # pending / processing / done / parked
    claimed_by: str | None = None
    claimed_until: datetime | None = when()
    attempts: int = 0
    last_error: str | None = None


class ChatState(SQLModel, table=True):
    """What the bot is waiting for in a member's chat (a typed date, a customer choice…)."""

    __table_args__ = (UniqueConstraint("member_id", "chat", name="uq_chat_state"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    member_id: int = Field(foreign_key="member.id")
    chat: str
    kind: str
    payload: dict[str, Any] = json_dict()
    expires_at: datetime = when(nullable=False)


class Notice(SQLModel, table=True):
    """A digest, silent-customer alert or weekly summary, sent once per key (e.g. `digest:2026-11-22`)."""

    __table_args__ = (UniqueConstraint("member_id", "key", name="uq_notice_member_key"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    key: str
    kind: str
    status: str = "pending"  # pending | sent | failed | skipped
    attempts: int = 0  # failures, not counting 429s
    retry_at: datetime | None = when()  # a failed notice is taken again from then (within its window)
    last_failure: str | None = None  # core.delivery.FailureKind of the last failed try
    message_id: str | None = None
    sent_at: datetime | None = when()
    created_at: datetime = when(nullable=False, default_now=True)


class CustomerFile(SQLModel, table=True):
    """A document or photo a member attached to a customer (a captioned upload), stored once per source message."""

    __table_args__ = (
        UniqueConstraint("source_platform", "source_chat", "source_message_id", name="uq_customerfile_source"),
        Index("ix_customerfile_customer_time", "customer_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    customer_id: int = Field(foreign_key="customer.id")
    interaction_id: int | None = Field(default=None, foreign_key="interaction.id")  # the note the caption made
    member_id: int = Field(foreign_key="member.id")
    file_name: str
    mime_type: str | None = None
    size: int = 0
    sha256: str = Field(index=True)
    data: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))  # None: over the limit
    platform_file_id: str | None = None  # the platform's own handle (Telegram file_id) to send it back without data
    source_platform: str | None = None
    source_chat: str | None = None
    source_message_id: str | None = None
    created_at: datetime = when(nullable=False, default_now=True)


class CustomerAccess(SQLModel, table=True):
    """A member's access to a colleague's customer: asked for, then granted or declined (one row per pair)."""

    __table_args__ = (UniqueConstraint("customer_id", "member_id", name="uq_customer_access"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    status: str = "requested"  # requested | granted | declined
    requested_at: datetime = when(nullable=False, default_now=True)
    decided_by: int | None = Field(default=None, foreign_key="member.id")
    decided_at: datetime | None = when()


class Cover(SQLModel, table=True):
    """A temporary cover (代理): from `starts_at` until `ends_at` (or `ended_at`, when ended early), the nudges of
    `member_id`'s follow-ups go to `cover_id` (core.scheduling.dispatch), at the same due times."""

    __table_args__ = (Index("ix_cover_member_end", "member_id", "ends_at"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    cover_id: int = Field(foreign_key="member.id")
    starts_at: datetime = when(nullable=False)
    ends_at: datetime = when(nullable=False)
    ended_at: datetime | None = when()  # ended (early by /cover off, or at ends_at by the periodic job): told once
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = when(nullable=False, default_now=True)


class ReplyOutbox(SQLModel, table=True):
    """A reply to an inbox update, stored in the update's own transaction and sent after its commit (issue 17).

    One row per reply (`position` in the update's answer). `pending` until the adapter has sent it (then `sent`,
    its content cleared), `lost` when the reply policy's retries were spent (the member is told at their next
    message, then `told`). A worker that takes an update again whose effects committed sends its `pending` rows
    (core.services.outbox). Delivery bookkeeping, not CRM data."""

    __table_args__ = (UniqueConstraint("platform", "update_key", "position", name="uq_replyoutbox_reply"),
                      Index("ix_replyoutbox_member_status", "member_id", "status"))
    id: int | None = Field(default=None, primary_key=True)
    platform: str
    update_key: str
    position: int = 0
    team_id: int | None = Field(default=None, foreign_key="team.id")  # None: a stranger's reply
    member_id: int | None = Field(default=None, foreign_key="member.id")
    reply: dict[str, Any] | None = json_dict(nullable=True)  # the rendered Reply (core.services.outbox.encode)
    data: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))  # its image or file
    status: str = "pending"  # pending | sent | lost | told
    created_at: datetime = when(nullable=False, default_now=True)
    sent_at: datetime | None = when()


class SendSlot(SQLModel, table=True):
    """The shared send limiter's next free departure (issue 17, core.scheduling.shared_limits): one row per platform
    and chat, and one per platform with chat '' for the platform-wide rate. Pacing bookkeeping, not CRM data."""

    platform: str = Field(primary_key=True)
    chat: str = Field(primary_key=True)  # '' : the platform-wide slot
    next_free_at: datetime = when(nullable=False)
