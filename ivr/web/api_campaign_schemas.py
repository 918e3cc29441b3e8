"""Request and response models of the campaign endpoints (pydantic v2).

Apart from :mod:`ivr.web.api_schemas` (the shared base classes and the small
models) because campaigns carry most of the rules: call windows, caps, the
retry plan, locale, country and phone checks.

Call windows are wall-clock ranges in the debtor's local time; ``end`` is
exclusive and ``00:00`` (or ``24:00``) as an ``end`` means midnight, the end
of the day. Any other ``end`` must be after ``start``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

import phonenumbers
from pydantic import Field, field_validator

from ivr.vocab.debts import ClosedDayPromise
from ivr.vocab.locales import Locale
from ivr.vocab.verification import INBOUND_DEFAULT, OUTBOUND_DEFAULT, VerificationPolicy
from ivr.web.api_schemas import Input, Output, check_locale
from ivr.web.api_types import Day
from scheduler.zones import COUNTRY_ZONES

MIDNIGHT = dt.time(0, 0)
COUNTRIES: tuple[str, ...] = tuple(sorted(COUNTRY_ZONES))


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
VERIFICATION_DOC = (
    "what a call must hear before it says what it is about: `name` (a clear yes to "
    "'is this {first_name}?') or `name_and_factor` (then the birth year, else the last "
    "four digits of the document imported with the debtor; three failed tries end the call)"
)
COMPANY_DOC = (
    "spoken in the greeting, before anyone is verified: a name that says 'cobrança', "
    "'collections', 'recovery'... is accepted with a warning"
)
RETRY_PLAN_DOC = (
    "minutes to wait after the 1st, 2nd, ... busy, no-answer or failed attempt in a row "
    "(the last repeats), e.g. [30, 120]; windows and caps still apply; empty: no plan"
)
RECORD_CALLS_DOC = (
    "record the calls at the carrier and tell the debtor so; recordings are deleted at "
    "the carrier after the retention period. Off: no recording, and no call mentions one"
)
INBOUND_TODAY_DOC = (
    "a verified conversation on a call the debtor placed to us suppresses our calls to them "
    "for the rest of their local day (a callback they asked for is still made)"
)

CLOSED_DAY_DOC = (
    "a promise to pay on a weekend or holiday of the debtor's calendar: 'accept' keeps it "
    "(read back with its weekday), 'next_business_day' moves it to the next business day "
    "and tells the debtor so"
)
MAX_INSTALMENTS_DOC = "the most instalments a payment plan may have (call, wrap-up or API)"
MAX_PLAN_DAYS_DOC = "the most days from a plan's first instalment to its last"
INBOUND_VERIFICATION_DOC = (
    "the policy for calls the debtor places to us: caller ID can be forged, so "
    "`name_and_factor` by default"
)
SMS_CAP_DOC = "at most this many SMS to a debtor on one local day (0: none)"
REMINDER_DOC = "days before a promised date or instalment to send its reminder SMS (0: none)"
FOLLOWUP_DOC = (
    "days after a promise or instalment broke (the day after its date) before the debtor "
    "may be called about it again; 0: at once"
)


class _CampaignFields(Input):
    """Settings shared by create and update (update makes each optional)."""

    @field_validator("locale", check_fields=False, mode="before")
    @classmethod
    def _locale(cls, value: Any) -> Any:
        return check_locale(value)

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
    locale: Locale = Locale.PT_BR
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
    max_instalments: int = Field(default=6, ge=1, le=60, description=MAX_INSTALMENTS_DOC)
    max_plan_days: int = Field(default=180, ge=0, le=1830, description=MAX_PLAN_DAYS_DOC)
    followup_after_broken_days: int = Field(default=2, ge=0, le=30, description=FOLLOWUP_DOC)
    promise_on_closed_day: ClosedDayPromise = Field(
        default=ClosedDayPromise.NEXT_BUSINESS_DAY, description=CLOSED_DAY_DOC
    )
    retry_delays_minutes: list[RetryDelay] = Field(
        default_factory=list, max_length=MAX_RETRY_STEPS, description=RETRY_PLAN_DOC
    )
    blocked_dates: list[Day] = Field(default_factory=list, max_length=1000)
    company_name: str = Field(
        default="Central de Atendimento", min_length=1, max_length=120, description=COMPANY_DOC
    )
    callback_number: str = Field(default="", max_length=20)
    verification_policy: VerificationPolicy = Field(
        default=OUTBOUND_DEFAULT, description=VERIFICATION_DOC
    )
    inbound_verification_policy: VerificationPolicy = Field(
        default=INBOUND_DEFAULT, description=INBOUND_VERIFICATION_DOC
    )
    record_calls: bool = Field(default=True, description=RECORD_CALLS_DOC)
    inbound_suppresses_today: bool = Field(default=True, description=INBOUND_TODAY_DOC)
    sms_daily_cap: int = Field(default=1, ge=0, le=10, description=SMS_CAP_DOC)
    reminder_days_before: int = Field(default=1, ge=0, le=30, description=REMINDER_DOC)
    active: bool = True


class CampaignUpdate(_CampaignFields):
    """Only the fields present change; null is not a value here."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    locale: Locale | None = None
    country: str | None = None
    daily_cap: int | None = Field(default=None, ge=1, le=20)
    weekly_cap: int | None = Field(default=None, ge=1, le=100)
    min_gap_minutes: int | None = Field(default=None, ge=0, le=7 * 24 * 60)
    quiet_days_after_rpc: int | None = Field(default=None, ge=0, le=90)
    paid_pause_business_days: int | None = Field(default=None, ge=0, le=30)
    max_concurrent_calls: int | None = Field(default=None, ge=1, le=1000)
    max_promise_days: int | None = Field(default=None, ge=1, le=365)
    max_instalments: int | None = Field(default=None, ge=1, le=60, description=MAX_INSTALMENTS_DOC)
    max_plan_days: int | None = Field(default=None, ge=0, le=1830, description=MAX_PLAN_DAYS_DOC)
    followup_after_broken_days: int | None = Field(
        default=None, ge=0, le=30, description=FOLLOWUP_DOC
    )
    promise_on_closed_day: ClosedDayPromise | None = Field(default=None, description=CLOSED_DAY_DOC)
    retry_delays_minutes: list[RetryDelay] | None = Field(
        default=None, max_length=MAX_RETRY_STEPS, description=RETRY_PLAN_DOC
    )
    company_name: str | None = Field(
        default=None, min_length=1, max_length=120, description=COMPANY_DOC
    )
    callback_number: str | None = Field(default=None, max_length=20)
    verification_policy: VerificationPolicy | None = Field(
        default=None, description=VERIFICATION_DOC
    )
    inbound_verification_policy: VerificationPolicy | None = Field(
        default=None, description=INBOUND_VERIFICATION_DOC
    )
    record_calls: bool | None = Field(default=None, description=RECORD_CALLS_DOC)
    inbound_suppresses_today: bool | None = Field(default=None, description=INBOUND_TODAY_DOC)
    sms_daily_cap: int | None = Field(default=None, ge=0, le=10, description=SMS_CAP_DOC)
    reminder_days_before: int | None = Field(default=None, ge=0, le=30, description=REMINDER_DOC)


class WindowsIn(Input):
    windows: list[WindowIn] = Field(min_length=1, max_length=70)
    allow_outside_defaults: bool = False


class BlockedDatesIn(Input):
    dates: list[Day] = Field(max_length=1000)


class CampaignWarning(Output):
    """Accepted, but worth a second look (e.g. a company name that reveals a debt)."""

    field: str
    message: str


class CampaignOut(Output):
    id: int
    name: str
    locale: Locale
    country: str
    active: bool
    daily_cap: int
    weekly_cap: int
    min_gap_minutes: int
    quiet_days_after_rpc: int
    paid_pause_business_days: int
    max_concurrent_calls: int
    max_promise_days: int
    max_instalments: int = Field(description=MAX_INSTALMENTS_DOC)
    max_plan_days: int = Field(description=MAX_PLAN_DAYS_DOC)
    followup_after_broken_days: int = Field(description=FOLLOWUP_DOC)
    promise_on_closed_day: ClosedDayPromise = Field(description=CLOSED_DAY_DOC)
    retry_delays_minutes: list[int] = Field(description=RETRY_PLAN_DOC)
    blocked_dates: list[dt.date]
    company_name: str
    callback_number: str
    verification_policy: VerificationPolicy = Field(description=VERIFICATION_DOC)
    inbound_verification_policy: VerificationPolicy = Field(description=INBOUND_VERIFICATION_DOC)
    record_calls: bool = Field(description=RECORD_CALLS_DOC)
    inbound_suppresses_today: bool = Field(description=INBOUND_TODAY_DOC)
    sms_daily_cap: int = Field(description=SMS_CAP_DOC)
    reminder_days_before: int = Field(description=REMINDER_DOC)
    windows: list[WindowOut]
    created_at: dt.datetime
    warnings: list[CampaignWarning] = Field(
        default_factory=list, description="settings accepted that deserve a second look"
    )


class CampaignListItem(CampaignOut):
    attempts_today: int = Field(description="calls placed since 00:00 UTC today")


class CampaignList(Output):
    items: list[CampaignListItem]
    account_cps: float = Field(
        description="calls per second the carrier account allows, shared by every campaign "
        "(the service's IVR_ACCOUNT_CPS setting)"
    )
