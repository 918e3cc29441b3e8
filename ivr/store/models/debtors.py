"""A debtor and what hangs off them: phones, debts, promises, callbacks, opt-outs,
payments, and the cases a supervisor must review.

An opt-out binds the *person* (``Debtor.opted_out_at`` and an ``opt_outs`` row)
when the verified debtor asked; it binds only the *number* (a
``number_opt_outs`` row, whichever debtors list it) when someone asked before
we knew who they were.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
    text,
    true,
)
from sqlalchemy.engine.interfaces import ExecutionContext
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ivr.number_facts import ZONES_MAX, stored_facts
from ivr.store.models.base import Base, string_enum, utcnow
from ivr.store.models.creditors import PAYMENT_URL_MAX, PIX_CODE_MAX
from ivr.store.name_key import fold_name
from ivr.vocab.debtors import DebtorStatus, ReviewKind
from ivr.vocab.debts import CallbackStatus, DebtStatus, PlanSource, PlanStatus, PromiseStatus
from ivr.vocab.locales import DEFAULT_LOCALE, Locale
from ivr.vocab.messages import Channel


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
    # The name folded for search (ivr.store.name_key): kept in step by the
    # listeners below and by the importer's bulk writes. No index: the search
    # matches a word anywhere in it (LIKE '% word%'), which no B-tree serves,
    # and every write of a person (each planner hint) would pay for one.
    name_key: Mapped[str] = mapped_column(String(200), default="", server_default="")
    locale: Mapped[Locale] = mapped_column(string_enum(Locale, length=10), default=DEFAULT_LOCALE)
    country: Mapped[str] = mapped_column(String(2), default="BR")
    region: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str | None] = mapped_column(String(64))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    # A salted hash of the document number's last digits (ivr.document_digits);
    # the whole number is never stored.
    document_digits: Mapped[str | None] = mapped_column(String(100))
    # Not ``active`` (e.g. reported dead): no contact at all, whatever else holds.
    status: Mapped[DebtorStatus] = mapped_column(
        string_enum(DebtorStatus), default=DebtorStatus.ACTIVE, server_default="active"
    )
    opted_out_at: Mapped[dt.datetime | None] = mapped_column()
    # SAIR / PARAR / STOP by SMS (or the carrier refusing: unsubscribed): no
    # more SMS; calls are a separate choice (``opted_out_at``).
    sms_opted_out_at: Mapped[dt.datetime | None] = mapped_column()
    # What the creditor's file or the debtor allowed; both default to allowed.
    calls_allowed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    sms_allowed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    preferred_channel: Mapped[Channel | None] = mapped_column(string_enum(Channel))
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


@event.listens_for(Debtor, "before_insert")
@event.listens_for(Debtor, "before_update")
def _keep_name_key(_mapper: object, _conn: object, debtor: Debtor) -> None:
    debtor.name_key = fold_name(debtor.name or "")


def _row_e164(ctx: ExecutionContext) -> str | None:
    e164 = ctx.get_current_parameters().get("e164")  # type: ignore[attr-defined]
    return e164 if isinstance(e164, str) else None


def _fact_country(ctx: ExecutionContext) -> str | None:
    e164 = _row_e164(ctx)
    return stored_facts(e164)[0] if e164 is not None else None


def _fact_zones(ctx: ExecutionContext) -> str | None:
    e164 = _row_e164(ctx)
    return stored_facts(e164)[1] if e164 is not None else None


class Phone(Base):
    __tablename__ = "phones"
    # The unique (debtor_id, e164) index serves every lookup by person (its
    # leading column) and the cascade from debtors: no index on debtor_id alone.
    __table_args__ = (UniqueConstraint("debtor_id", "e164"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    e164: Mapped[str] = mapped_column(String(20), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    wrong_number_at: Mapped[dt.datetime | None] = mapped_column()
    # What the rule book reads of the number, derived once when the row is
    # written (ivr.number_facts): its country ("" unknown) and the time zones
    # its prefix spans (space-separated). NULL: not derived, readers parse.
    number_country: Mapped[str | None] = mapped_column(String(2), default=_fact_country)
    number_zones: Mapped[str | None] = mapped_column(String(ZONES_MAX), default=_fact_zones)

    debtor: Mapped[Debtor] = relationship(back_populates="phones")

    @validates("e164")
    def _derive_facts(self, _key: str, e164: str) -> str:
        """A number set or changed on a row object carries its own facts (Core
        inserts get them from the column defaults)."""
        if isinstance(e164, str):
            self.number_country, self.number_zones = stored_facts(e164)
        return e164


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
    status: Mapped[DebtStatus] = mapped_column(string_enum(DebtStatus), default=DebtStatus.OPEN)
    paused_until: Mapped[dt.datetime | None] = mapped_column()
    paid_at: Mapped[dt.datetime | None] = mapped_column()
    # How to pay, as the creditor gave it with the debt (checked on the way in,
    # ivr.store.payment_columns): relayed to the verified debtor who asks.
    payment_url: Mapped[str | None] = mapped_column(String(PAYMENT_URL_MAX))
    pix_code: Mapped[str | None] = mapped_column(String(PIX_CODE_MAX))
    boleto_line: Mapped[str | None] = mapped_column(String(47))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)  # roll-ups

    debtor: Mapped[Debtor] = relationship(back_populates="debts")


class PaymentPlan(Base):
    """Instalments agreed together: the promises with this ``plan_id``, in
    ``sequence`` order. Payments on the debt fill them in that order, so the
    second instalment is kept only by money beyond the first
    (``scheduler.plan_allocation``). A single promise has no plan."""

    __tablename__ = "payment_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    debt_id: Mapped[int] = mapped_column(ForeignKey("debts.id", ondelete="CASCADE"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_attempts.id", ondelete="SET NULL")
    )
    source: Mapped[PlanSource] = mapped_column(string_enum(PlanSource))
    status: Mapped[PlanStatus] = mapped_column(
        string_enum(PlanStatus), default=PlanStatus.OPEN, server_default="open"
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Promise(Base):
    __tablename__ = "promises"
    __table_args__ = (
        Index("ix_promises_status_date", "status", "promised_date"),
        # The roll-ups count the promises falling due on a day, whatever their status.
        Index("ix_promises_promised_date", "promised_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    debt_id: Mapped[int] = mapped_column(ForeignKey("debts.id", ondelete="CASCADE"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_attempts.id", ondelete="SET NULL")
    )
    promised_date: Mapped[dt.date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[PromiseStatus] = mapped_column(
        string_enum(PromiseStatus), default=PromiseStatus.OPEN
    )
    source: Mapped[str] = mapped_column(String(20), default="ivr")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # An instalment of a plan (1..N in date order); both NULL for a single promise.
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_plans.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[int | None] = mapped_column(Integer)


class Callback(Base):
    """A debtor asked to be called at a given time (kept inside the windows)."""

    __tablename__ = "callbacks"
    __table_args__ = (Index("ix_callbacks_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    debt_id: Mapped[int | None] = mapped_column(ForeignKey("debts.id", ondelete="SET NULL"))
    due_at: Mapped[dt.datetime] = mapped_column()
    status: Mapped[CallbackStatus] = mapped_column(
        string_enum(CallbackStatus), default=CallbackStatus.PENDING
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
    paid_on: Mapped[dt.date] = mapped_column(Date, index=True)  # the roll-ups' day
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NumberOptOut(Base):
    """Someone who answered asked not to be called before saying who they were:
    this number is never dialed again, for any debtor who lists it."""

    __tablename__ = "number_opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(20), unique=True)
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_attempts.id", ondelete="SET NULL")
    )
    source: Mapped[str] = mapped_column(String(20), default="ivr")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DebtorReview(Base):
    """A case in a supervisor's review list: what was reported (``kind``), on
    which call and number, and when."""

    __tablename__ = "debtor_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ReviewKind] = mapped_column(string_enum(ReviewKind))
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_attempts.id", ondelete="SET NULL")
    )
    e164: Mapped[str | None] = mapped_column(String(20))  # the number it was reported on
    reported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column()
