"""Response models (and the two queries) of the debtor and attempt endpoints.

Apart from :mod:`ivr.web.api_schemas` because a debtor's view is the largest
answer of the API: phones, debts, promises, callbacks, attempts with their
events, and the scheduler's verdict with its reasons.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from ivr.store.payment_columns import PaymentDetailInvalid, check_payment_detail
from ivr.vocab.attempts import AttemptDirection, AttemptStatus
from ivr.vocab.debtors import DebtorStatus, ReviewKind
from ivr.vocab.debts import CallbackStatus, DebtStatus, PromiseStatus
from ivr.vocab.locales import Locale
from ivr.vocab.outcomes import Outcome
from ivr.vocab.recordings import RecordingStatus
from ivr.web.api_schemas import Input, Output
from ivr.web.api_types import DbId, Instant
from scheduler.zones import valid_zone


class PhoneOut(Output):
    e164: str
    position: int
    wrong_number_at: dt.datetime | None
    opted_out_at: dt.datetime | None = Field(
        default=None,
        description="someone at this number asked not to be called there, before verification",
    )


class DebtOut(Output):
    id: int
    creditor: str
    amount_cents: int
    paid_cents: int
    currency: str
    due_date: dt.date
    status: DebtStatus
    campaign_id: int | None
    paused_until: dt.datetime | None
    paid_at: dt.datetime | None
    payment_url: str | None = None
    pix_code: str | None = None
    boleto_line: str | None = None


_PAYMENT_DOCS = {
    "payment_url": "the creditor's payment page, https:// only, up to 500 characters",
    "pix_code": 'a Pix "copia e cola"; its CRC and fields are checked',
    "boleto_line": "the boleto's 47-digit line (spaces and dots allowed); check digits checked",
}


class DebtPaymentIn(Input):
    """A debt's payment details, all three replaced (left out or null: none)."""

    payment_url: str | None = Field(
        default=None, max_length=600, description=_PAYMENT_DOCS["payment_url"]
    )
    pix_code: str | None = Field(
        default=None, max_length=600, description=_PAYMENT_DOCS["pix_code"]
    )
    boleto_line: str | None = Field(
        default=None, max_length=100, description=_PAYMENT_DOCS["boleto_line"]
    )

    @field_validator("payment_url", "pix_code", "boleto_line")
    @classmethod
    def _checked(cls, value: str | None, info: ValidationInfo) -> str | None:
        try:
            return check_payment_detail(str(info.field_name), value)
        except PaymentDetailInvalid as exc:
            raise ValueError(exc.reason) from None


class DebtPaymentOut(Output):
    debt_id: int
    payment_url: str | None
    pix_code: str | None
    boleto_line: str | None


class PromiseOut(Output):
    id: int
    debt_id: int
    promised_date: dt.date
    amount_cents: int
    status: PromiseStatus
    source: str
    created_at: dt.datetime


class CallbackOut(Output):
    id: int
    debt_id: int | None
    due_at: dt.datetime
    status: CallbackStatus
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


class RecordingOut(Output):
    """The call's recording at the carrier: whether it exists, not where (personal data)."""

    sid: str
    status: RecordingStatus | None = Field(
        description="in-progress, completed, absent, failed; deleted once the retention "
        "period ended and the carrier deleted it"
    )
    duration_s: int | None
    started_at: dt.datetime | None
    deleted_at: dt.datetime | None


class AttemptOut(Output):
    id: int
    debtor_ref: str
    debt_id: int | None
    campaign_id: int | None
    to_number: str
    direction: AttemptDirection = AttemptDirection.OUTBOUND
    status: AttemptStatus
    outcome: Outcome | None
    answered_by: str | None
    duration_s: int | None
    claimed_at: dt.datetime
    placed_at: dt.datetime | None
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    error: str | None
    override: OverrideOut | None = None
    recording: RecordingOut | None = Field(
        default=None, description="null: the call was not recorded"
    )
    events: EventsSummary


class AttemptList(Output):
    items: list[AttemptOut]


class DebtorOut(Output):
    external_ref: str
    name: str
    status: DebtorStatus = Field(
        description="`deceased_review`: reported dead on a call; no contact until reviewed"
    )
    locale: Locale
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


class SmsExplainOut(Output):
    """Whether an SMS we would send first (a reminder) may go now, and why not."""

    allowed: bool
    purpose: str
    reasons: list[ReasonOut]
    to_number: str | None
    sent_today: int = Field(description="SMS counted by the cap on the debtor's local day")
    daily_cap: int
    next_at: dt.datetime | None = Field(
        description="the earliest instant it may go; null when a reason never clears by itself"
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
    sms: SmsExplainOut | None = None


class ReviewsQuery(Input):
    limit: int = Field(default=200, ge=1, le=1000)


class ReviewOut(Output):
    """A case waiting for a supervisor, and who reported it: the call and the number."""

    id: int
    kind: ReviewKind
    debtor_ref: str
    debtor_name: str
    debtor_status: DebtorStatus
    attempt_id: int | None = Field(description="the call on which it was reported")
    reported_on: str | None = Field(description="the number that call reached, E.164")
    reported_at: dt.datetime


class ReviewList(Output):
    items: list[ReviewOut]
