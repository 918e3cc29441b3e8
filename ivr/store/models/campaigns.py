"""A campaign: what a supervisor sets for a portfolio, and its call windows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Time, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ivr.store.models.base import Base, string_enum, utcnow
from ivr.vocab.debts import ClosedDayPromise
from ivr.vocab.locales import DEFAULT_LOCALE, Locale
from ivr.vocab.verification import INBOUND_DEFAULT, OUTBOUND_DEFAULT, VerificationPolicy


class Campaign(Base):
    """What a supervisor sets: windows, caps, pacing and locale for a portfolio."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    locale: Mapped[Locale] = mapped_column(string_enum(Locale, length=10), default=DEFAULT_LOCALE)
    country: Mapped[str] = mapped_column(String(2), default="BR")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    daily_cap: Mapped[int] = mapped_column(Integer, default=2)
    weekly_cap: Mapped[int] = mapped_column(Integer, default=7)
    min_gap_minutes: Mapped[int] = mapped_column(Integer, default=240)
    quiet_days_after_rpc: Mapped[int] = mapped_column(Integer, default=0)
    paid_pause_business_days: Mapped[int] = mapped_column(Integer, default=2)
    max_concurrent_calls: Mapped[int] = mapped_column(Integer, default=5)
    max_promise_days: Mapped[int] = mapped_column(Integer, default=30)
    # A payment plan: at most this many instalments, the last at most this
    # many days after the first.
    max_instalments: Mapped[int] = mapped_column(Integer, default=6, server_default="6")
    max_plan_days: Mapped[int] = mapped_column(Integer, default=180, server_default="180")
    # After a broken promise or instalment, this many days before the debtor
    # may be called about it again (a late payment often arrives meanwhile).
    followup_after_broken_days: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    # A promise for a weekend or holiday: kept as said, or moved to the next business day.
    promise_on_closed_day: Mapped[ClosedDayPromise] = mapped_column(
        string_enum(ClosedDayPromise, length=20),
        default=ClosedDayPromise.NEXT_BUSINESS_DAY,
        server_default=ClosedDayPromise.NEXT_BUSINESS_DAY.value,
    )
    blocked_dates: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Minutes to wait after the 1st, 2nd, ... busy / no-answer / failed attempt
    # in a row (the last repeats); empty: only the caps and min gap apply.
    retry_delays_minutes: Mapped[list[int]] = mapped_column(JSON, default=list, server_default="[]")
    company_name: Mapped[str] = mapped_column(String(120), default="Central de Atendimento")
    # What the call must hear before it says what it is about (ivr.vocab.verification).
    verification_policy: Mapped[VerificationPolicy] = mapped_column(
        string_enum(VerificationPolicy), default=OUTBOUND_DEFAULT, server_default="name"
    )
    # The policy for calls the person places to us: caller ID can be forged,
    # so a factor is asked by default (ivr.vocab.verification.INBOUND_DEFAULT).
    inbound_verification_policy: Mapped[VerificationPolicy] = mapped_column(
        string_enum(VerificationPolicy),
        default=INBOUND_DEFAULT,
        server_default=INBOUND_DEFAULT.value,
    )
    # A conversation today with the verified person, on a call they placed,
    # suppresses our calls to them for the rest of their local day.
    inbound_suppresses_today: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    callback_number: Mapped[str] = mapped_column(String(20), default="")
    # Record the calls at the carrier (and say so in the call); kept for the
    # retention period (IVR_RECORDING_RETENTION_DAYS), then deleted there.
    # SMS: at most this many messages to a debtor on one local day (payment
    # details asked for in a call included; opt-out confirmations not), and
    # reminders this many days before a promised date or instalment (0: none).
    sms_daily_cap: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    reminder_days_before: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    record_calls: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
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
