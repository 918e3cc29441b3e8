"""The typed data model: one ``DeclarativeBase`` for every table.

Money is kept in integer cents; instants are UTC (``UTCDateTime`` restores
the zone that SQLite drops); a debtor's local calendar lives in their IANA
time zone, resolved by the scheduler. Schema changes go through alembic
(``ivr/store/migrations``), never ``create_all`` in production code.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ivr import clock

# The vocabularies live in ivr.vocab (see there what each value means); the
# names stay importable from here for code that imports them with the tables.
from ivr.vocab.attempts import FINAL_ATTEMPT_STATUSES as FINAL_ATTEMPT_STATUSES
from ivr.vocab.attempts import LIVE_ATTEMPT_STATUSES as LIVE_ATTEMPT_STATUSES
from ivr.vocab.attempts import AttemptStatus
from ivr.vocab.debts import CallbackStatus, DebtStatus, PromiseStatus
from ivr.vocab.locales import DEFAULT_LOCALE, Locale
from ivr.vocab.outcomes import Outcome
from ivr.vocab.staff import Presence, Role
from ivr.vocab.transfers import TransferOutcome, TransferStatus

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return clock.utcnow()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON}  # noqa: RUF012


# SQL for "this attempt is not final yet": the partial unique index below makes
# a second live attempt for one debtor impossible, whatever the code does. It is
# frozen in migration 0001: a new live status needs a migration of the index.
_LIVE_SQL = "status IN ('claimed', 'unknown', 'queued', 'initiated', 'ringing', 'in-progress')"


def _enum(cls: type[enum.Enum], length: int = 20) -> Enum:
    """Store enums as short strings (no native PostgreSQL enum types to migrate)."""
    return Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class Campaign(Base):
    """What a supervisor sets: windows, caps, pacing and locale for a portfolio."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    locale: Mapped[Locale] = mapped_column(_enum(Locale, length=10), default=DEFAULT_LOCALE)
    country: Mapped[str] = mapped_column(String(2), default="BR")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    daily_cap: Mapped[int] = mapped_column(Integer, default=2)
    weekly_cap: Mapped[int] = mapped_column(Integer, default=7)
    min_gap_minutes: Mapped[int] = mapped_column(Integer, default=240)
    quiet_days_after_rpc: Mapped[int] = mapped_column(Integer, default=0)
    paid_pause_business_days: Mapped[int] = mapped_column(Integer, default=2)
    max_concurrent_calls: Mapped[int] = mapped_column(Integer, default=5)
    max_promise_days: Mapped[int] = mapped_column(Integer, default=30)
    blocked_dates: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Minutes to wait after the 1st, 2nd, ... busy / no-answer / failed attempt
    # in a row (the last repeats); empty: only the caps and min gap apply.
    retry_delays_minutes: Mapped[list[int]] = mapped_column(JSON, default=list, server_default="[]")
    company_name: Mapped[str] = mapped_column(String(120), default="Central de Atendimento")
    callback_number: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    windows: Mapped[list[CallWindow]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", lazy="selectin"
    )


class CallWindow(Base):
    """One allowed range on one weekday (0 = Monday), in the debtor's local time."""

    __tablename__ = "call_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    start: Mapped[dt.time] = mapped_column(Time)
    end: Mapped[dt.time] = mapped_column(Time)

    campaign: Mapped[Campaign] = relationship(back_populates="windows")


class Debtor(Base):
    """A person. Caps and opt-outs apply to the person, across all their phones."""

    __tablename__ = "debtors"
    __table_args__ = (
        # The planner's queue: debtors due for (re)evaluation, oldest hint first.
        Index(
            "ix_debtors_next_attempt_at",
            "next_attempt_at",
            postgresql_where=text("opted_out_at IS NULL"),
            sqlite_where=text("opted_out_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_ref: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[Locale] = mapped_column(_enum(Locale, length=10), default=DEFAULT_LOCALE)
    country: Mapped[str] = mapped_column(String(2), default="BR")
    region: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str | None] = mapped_column(String(64))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    opted_out_at: Mapped[dt.datetime | None] = mapped_column()
    quiet_until: Mapped[dt.datetime | None] = mapped_column()
    # A scheduling hint kept by the scheduler: no earlier than this instant can
    # the debtor become callable (NULL: evaluate now). Never a compliance
    # decision by itself: every claim re-checks everything under a row lock.
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    last_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    phones: Mapped[list[Phone]] = relationship(
        back_populates="debtor",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="Phone.position",
    )
    debts: Mapped[list[Debt]] = relationship(
        back_populates="debtor", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name


class Phone(Base):
    __tablename__ = "phones"
    __table_args__ = (UniqueConstraint("debtor_id", "e164"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    e164: Mapped[str] = mapped_column(String(20), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    wrong_number_at: Mapped[dt.datetime | None] = mapped_column()

    debtor: Mapped[Debtor] = relationship(back_populates="phones")


class Debt(Base):
    __tablename__ = "debts"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    creditor: Mapped[str] = mapped_column(String(200))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="BRL")
    due_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[DebtStatus] = mapped_column(_enum(DebtStatus), default=DebtStatus.OPEN)
    paused_until: Mapped[dt.datetime | None] = mapped_column()
    paid_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    debtor: Mapped[Debtor] = relationship(back_populates="debts")


class CallAttempt(Base):
    """One outbound call. Claimed in the same transaction that checks the caps."""

    __tablename__ = "call_attempts"
    __table_args__ = (
        Index("ix_call_attempts_debtor_claimed", "debtor_id", "claimed_at"),
        Index("ix_call_attempts_status", "status"),
        Index(
            "uq_call_attempts_live_debtor",
            "debtor_id",
            unique=True,
            postgresql_where=text(_LIVE_SQL),
            sqlite_where=text(_LIVE_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    debt_id: Mapped[int | None] = mapped_column(ForeignKey("debts.id", ondelete="SET NULL"))
    phone_id: Mapped[int | None] = mapped_column(ForeignKey("phones.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id", ondelete="SET NULL"))
    to_number: Mapped[str] = mapped_column(String(20))
    call_sid: Mapped[str | None] = mapped_column(String(40), unique=True)
    status: Mapped[AttemptStatus] = mapped_column(
        _enum(AttemptStatus), default=AttemptStatus.CLAIMED
    )
    last_sequence: Mapped[int] = mapped_column(Integer, default=-1)
    answered_by: Mapped[str | None] = mapped_column(String(30))
    outcome: Mapped[Outcome | None] = mapped_column(_enum(Outcome, length=30))
    duration_s: Mapped[int | None] = mapped_column(Integer)
    local_day: Mapped[dt.date] = mapped_column(Date)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    placed_at: Mapped[dt.datetime | None] = mapped_column()
    answered_at: Mapped[dt.datetime | None] = mapped_column()
    ended_at: Mapped[dt.datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    # A supervisor's override of the frequency limits (``ivr call --override-caps``):
    # who, why and which limits it set aside; when is ``claimed_at``.
    override_by: Mapped[str | None] = mapped_column(String(64))
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_codes: Mapped[str | None] = mapped_column(String(64))

    events: Mapped[list[CallEvent]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan", order_by="CallEvent.id"
    )


class CallEvent(Base):
    """Everything that happened in a call: carrier statuses, turns, DTMF, actions."""

    __tablename__ = "call_events"
    __table_args__ = (
        Index("ix_call_events_kind_at", "kind", "at"),
        UniqueConstraint("attempt_id", "dedupe_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("call_attempts.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set for events a carrier may deliver twice (status callbacks): the
    # database, not a read-then-write, makes the second one a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(String(40))

    attempt: Mapped[CallAttempt] = relationship(back_populates="events")


class Promise(Base):
    __tablename__ = "promises"
    __table_args__ = (Index("ix_promises_status_date", "status", "promised_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debt_id: Mapped[int] = mapped_column(ForeignKey("debts.id", ondelete="CASCADE"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_attempts.id", ondelete="SET NULL")
    )
    promised_date: Mapped[dt.date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[PromiseStatus] = mapped_column(_enum(PromiseStatus), default=PromiseStatus.OPEN)
    source: Mapped[str] = mapped_column(String(20), default="ivr")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Callback(Base):
    """A debtor asked to be called at a given time (kept inside the windows)."""

    __tablename__ = "callbacks"
    __table_args__ = (Index("ix_callbacks_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    debt_id: Mapped[int | None] = mapped_column(ForeignKey("debts.id", ondelete="SET NULL"))
    due_at: Mapped[dt.datetime] = mapped_column()
    status: Mapped[CallbackStatus] = mapped_column(
        _enum(CallbackStatus), default=CallbackStatus.PENDING
    )
    reason: Mapped[str] = mapped_column(String(40), default="asked")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OptOut(Base):
    __tablename__ = "opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10), default="call")
    source: Mapped[str] = mapped_column(String(20), default="ivr")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    debt_id: Mapped[int] = mapped_column(ForeignKey("debts.id", ondelete="CASCADE"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[dt.date] = mapped_column(Date)
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[Role] = mapped_column(_enum(Role))
    api_key_hash: Mapped[str | None] = mapped_column(String(128), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Agent(Base):
    """A person who takes transfers; presence decides routing."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    endpoint: Mapped[str] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    presence: Mapped[Presence] = mapped_column(_enum(Presence), default=Presence.OFFLINE)
    presence_since: Mapped[dt.datetime] = mapped_column(default=utcnow)
    wrapup_until: Mapped[dt.datetime | None] = mapped_column()


class Transfer(Base):
    """A hand-off from the machine to a person, with everything for the KPIs."""

    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("call_attempts.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[TransferStatus] = mapped_column(
        _enum(TransferStatus), default=TransferStatus.REQUESTED
    )
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[dt.datetime | None] = mapped_column()
    ended_at: Mapped[dt.datetime | None] = mapped_column()
    queue_wait_s: Mapped[float | None] = mapped_column()
    outcome: Mapped[TransferOutcome | None] = mapped_column(_enum(TransferOutcome, length=30))
    notes: Mapped[str | None] = mapped_column(Text)
    tried_agent_ids: Mapped[list[int]] = mapped_column(JSON, default=list)


class AuthSession(Base):
    """A signed-in browser: the cookie's hash, revoked at logout, expiring here too.

    The cookie alone (signed, with its own expiry) would stay valid after
    logout; this row is what makes logout and expiry hold on every replica.
    """

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()


class LoginThrottle(Base):
    """Failed logins per account (``user:<name>``) or address (``addr:<ip>``).

    Kept in the database so a lockout holds across replicas and restarts.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column()
    locked_until: Mapped[dt.datetime | None] = mapped_column()


class PacingSlot(Base):
    """The next free instant of a rate shared by every replica (the account's CPS).

    See ``scheduler.pacing``: one row per carrier account, moved on by one
    atomic statement per call.
    """

    __tablename__ = "pacing_slots"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_at: Mapped[dt.datetime] = mapped_column()
