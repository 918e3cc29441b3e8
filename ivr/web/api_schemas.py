"""Request and response models of the JSON API (pydantic v2).

The same classes validate input and feed the OpenAPI document, so what the
document promises is what the server checks. Inputs forbid unknown fields: a
typo in a cap's name is an error, never a silently ignored change.

Call windows are wall-clock ranges in the debtor's local time; ``end`` is
exclusive and ``00:00`` (or ``24:00``) as an ``end`` means midnight, the end
of the day. Any other ``end`` must be after ``start``.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ivr.dialog.prompts import LOCALES
from ivr.web.api_types import Day, DbId, Instant
from scheduler.zones import COUNTRY_ZONES, valid_zone

MIDNIGHT = dt.time(0, 0)
COUNTRIES: tuple[str, ...] = tuple(sorted(COUNTRY_ZONES))


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- campaigns ---------------------------------------------------------------


class WindowIn(Input):
    """One allowed range on one weekday (0 = Monday ... 6 = Sunday)."""

    weekday: int = Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday")
    start: dt.time = Field(description="local time, HH:MM")
    end: dt.time = Field(description="local time, HH:MM, exclusive; 00:00 or 24:00 = midnight")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _midnight(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip()
        if value in ("24:00", "24:00:00"):
            return "00:00"
        return f"0{value}" if re.fullmatch(r"\d:\d{2}(:\d{2})?", value) else value

    @field_validator("start", "end")
    @classmethod
    def _naive(cls, value: dt.time) -> dt.time:
        if value.tzinfo is not None:
            raise ValueError("a window is local wall-clock time: give no zone offset")
        return value

    @field_validator("end")
    @classmethod
    def _after_start(cls, value: dt.time, info: Any) -> dt.time:
        start = info.data.get("start")
        if start is not None and value != MIDNIGHT and value <= start:
            raise ValueError("end must be after start (00:00 or 24:00 means midnight)")
        return value


class WindowOut(Output):
    weekday: int
    start: str
    end: str


def _check_locale(value: str) -> str:
    if value not in LOCALES:
        raise ValueError(f"unknown locale {value!r}: one of {', '.join(LOCALES)}")
    return value


def _check_country(value: str) -> str:
    value = value.upper()
    if value not in COUNTRIES:
        raise ValueError(f"unknown country {value!r}: one of {', '.join(COUNTRIES)}")
    return value


def _check_phone(value: str) -> str:
    value = value.strip()
    if not value:
        return value
    try:
        parsed = phonenumbers.parse(value)
    except phonenumbers.NumberParseException:
        raise ValueError("must be an E.164 number such as +5511987654321") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# The retry plan: minutes to wait after the 1st, 2nd, ... busy, no-answer or
# failed attempt in a row (the last repeats), at most a week each.
MAX_RETRY_STEPS = 10
RetryDelay = Annotated[int, Field(ge=1, le=7 * 24 * 60)]
RETRY_PLAN_DOC = (
    "minutes to wait after the 1st, 2nd, ... busy, no-answer or failed attempt in a row "
    "(the last repeats), e.g. [30, 120]; windows and caps still apply; empty: no plan"
)


class _CampaignFields(Input):
    """Settings shared by create and update (update makes each optional)."""

    @field_validator("locale", check_fields=False)
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        return None if value is None else _check_locale(value)

    @field_validator("country", check_fields=False)
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return None if value is None else _check_country(value)

    @field_validator("callback_number", check_fields=False)
    @classmethod
    def _callback(cls, value: str | None) -> str | None:
        return None if value is None else _check_phone(value)


class CampaignCreate(_CampaignFields):
    name: str = Field(min_length=1, max_length=120)
    locale: str = "pt-BR"
    country: str = "BR"
    windows: list[WindowIn] | None = Field(
        default=None, description="omitted: the country's default calling hours"
    )
    allow_outside_defaults: bool = Field(
        default=False,
        description="windows outside the country's default calling hours need this, on purpose",
    )
    daily_cap: int = Field(default=2, ge=1, le=20)
    weekly_cap: int = Field(default=7, ge=1, le=100)
    min_gap_minutes: int = Field(default=240, ge=0, le=7 * 24 * 60)
    quiet_days_after_rpc: int = Field(default=0, ge=0, le=90)
    paid_pause_business_days: int = Field(default=2, ge=0, le=30)
    max_concurrent_calls: int = Field(default=5, ge=1, le=1000)
    max_promise_days: int = Field(default=30, ge=1, le=365)
    retry_delays_minutes: list[RetryDelay] = Field(
        default_factory=list, max_length=MAX_RETRY_STEPS, description=RETRY_PLAN_DOC
    )
    blocked_dates: list[Day] = Field(default_factory=list, max_length=1000)
    company_name: str = Field(default="Central de Atendimento", min_length=1, max_length=120)
    callback_number: str = Field(default="", max_length=20)
    active: bool = True


class CampaignUpdate(_CampaignFields):
    """Only the fields present change; null is not a value here."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    locale: str | None = None
    country: str | None = None
    daily_cap: int | None = Field(default=None, ge=1, le=20)
    weekly_cap: int | None = Field(default=None, ge=1, le=100)
    min_gap_minutes: int | None = Field(default=None, ge=0, le=7 * 24 * 60)
    quiet_days_after_rpc: int | None = Field(default=None, ge=0, le=90)
    paid_pause_business_days: int | None = Field(default=None, ge=0, le=30)
    max_concurrent_calls: int | None = Field(default=None, ge=1, le=1000)
    max_promise_days: int | None = Field(default=None, ge=1, le=365)
    retry_delays_minutes: list[RetryDelay] | None = Field(
        default=None, max_length=MAX_RETRY_STEPS, description=RETRY_PLAN_DOC
    )
    company_name: str | None = Field(default=None, min_length=1, max_length=120)
    callback_number: str | None = Field(default=None, max_length=20)


class WindowsIn(Input):
    windows: list[WindowIn] = Field(min_length=1, max_length=70)
    allow_outside_defaults: bool = False


class BlockedDatesIn(Input):
    dates: list[Day] = Field(max_length=1000)


class CampaignOut(Output):
    id: int
    name: str
    locale: str
    country: str
    active: bool
    daily_cap: int
    weekly_cap: int
    min_gap_minutes: int
    quiet_days_after_rpc: int
    paid_pause_business_days: int
    max_concurrent_calls: int
    max_promise_days: int
    retry_delays_minutes: list[int] = Field(description=RETRY_PLAN_DOC)
    blocked_dates: list[dt.date]
    company_name: str
    callback_number: str
    windows: list[WindowOut]
    created_at: dt.datetime


class CampaignList(Output):
    items: list[CampaignOut]


# --- debtors and attempts ----------------------------------------------------


class PhoneOut(Output):
    e164: str
    position: int
    wrong_number_at: dt.datetime | None


class DebtOut(Output):
    id: int
    creditor: str
    amount_cents: int
    paid_cents: int
    currency: str
    due_date: dt.date
    status: str
    campaign_id: int | None
    paused_until: dt.datetime | None
    paid_at: dt.datetime | None


class PromiseOut(Output):
    id: int
    debt_id: int
    promised_date: dt.date
    amount_cents: int
    status: str
    source: str
    created_at: dt.datetime


class CallbackOut(Output):
    id: int
    debt_id: int | None
    due_at: dt.datetime
    status: str
    reason: str


class EventsSummary(Output):
    count: int
    kinds: dict[str, int]
    first_at: dt.datetime | None
    last_at: dt.datetime | None


class OverrideOut(Output):
    """A supervisor's override of the frequency limits for this attempt."""

    by: str
    reason: str
    waived: list[str] = Field(
        description="the limits it set aside (daily_cap, weekly_cap, min_gap)"
    )
    at: dt.datetime


class AttemptOut(Output):
    id: int
    debtor_ref: str
    debt_id: int | None
    campaign_id: int | None
    to_number: str
    status: str
    outcome: str | None
    answered_by: str | None
    duration_s: int | None
    claimed_at: dt.datetime
    placed_at: dt.datetime | None
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    error: str | None
    override: OverrideOut | None = None
    events: EventsSummary


class AttemptList(Output):
    items: list[AttemptOut]


class DebtorOut(Output):
    external_ref: str
    name: str
    locale: str
    country: str
    region: str | None
    timezone: str | None
    opted_out_at: dt.datetime | None
    quiet_until: dt.datetime | None
    next_attempt_at: dt.datetime | None
    phones: list[PhoneOut]
    debts: list[DebtOut]
    promises: list[PromiseOut]
    callbacks: list[CallbackOut]
    recent_attempts: list[AttemptOut]


class AttemptsQuery(Input):
    debtor: str | None = Field(default=None, min_length=1, max_length=64)
    campaign: DbId | None = None
    limit: int = Field(default=50, ge=1, le=500)


class ExplainQuery(Input):
    at: Instant | None = Field(
        default=None, description="ISO 8601 instant for a what-if check (default: now)"
    )
    tz: str | None = Field(
        default=None,
        max_length=64,
        description="IANA zone for an `at` without an offset (default UTC)",
    )

    @field_validator("at", mode="before")
    @classmethod
    def _plus_sign(cls, value: Any) -> Any:
        # An unencoded "+03:00" in a query string arrives as " 03:00".
        if isinstance(value, str) and re.search(r"\d \d{2}(:?\d{2})?$", value):
            head, _, offset = value.rpartition(" ")
            return f"{head}+{offset}"
        return value

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and not valid_zone(value):
            raise ValueError(f"unknown time zone {value!r}")
        return value


class ReasonOut(Output):
    code: str
    message: str
    detail: dict[str, Any]
    until: dt.datetime | None = None
    overridable: bool = Field(
        default=False, description="a supervisor's `ivr call --override-caps` may pass it"
    )


class ExplainOut(Output):
    debtor: str
    at: dt.datetime
    callable: bool
    reasons: list[ReasonOut]
    zones: list[str]
    debt_id: int | None
    campaign_id: int | None
    to_number: str | None
    next_check_at: dt.datetime | None


# --- payments ----------------------------------------------------------------


class PaymentIn(Input):
    external_ref: str = Field(
        min_length=1, max_length=64, description="the debtor's external_ref, or debt:<id>"
    )
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2, description="e.g. 150.00")
    paid_on: Day
    payment_ref: str = Field(min_length=1, max_length=64, description="unique per payment")

    @field_validator("external_ref", "payment_ref")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value


class PaymentOut(Output):
    payment_id: int | None
    debt_id: int
    debt_status: str
    duplicate: bool
    debt_paid: bool
    promises_kept: int
    promises_broken: int
    callbacks_cancelled: int
    attempts_cancelled: int


# --- reports -----------------------------------------------------------------


class SummaryQuery(Input):
    campaign: DbId | None = None
    since: Instant | None = None
    until: Instant | None = None


class SummaryOut(Output):
    campaign_id: int | None
    since: dt.datetime | None
    until: dt.datetime | None
    attempts: int = Field(description="calls that reached the carrier")
    live_contacts: int = Field(description="attempts answered by a live person")
    right_party_contacts: int = Field(description="conversations with the verified debtor")
    promises: int
    promises_due: int
    promises_kept: int
    contact_rate: float | None = Field(description="live_contacts / attempts")
    rpc_rate: float | None = Field(description="right_party_contacts / attempts")
    ptp_rate: float | None = Field(description="promises / right_party_contacts")
    promise_kept_rate: float | None = Field(description="promises_kept / promises_due")


# --- auth --------------------------------------------------------------------


class LoginIn(Input):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=1024)


class UserOut(Output):
    id: int
    username: str
    role: Literal["supervisor", "agent"]


class Ok(Output):
    ok: bool = True
