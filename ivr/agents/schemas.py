"""Request and response models of the agents API (the same rules as ``api_schemas``).

A wrong type, an unknown locale or a promise dated 1900 is a 422 naming the
field, like everywhere else in ``/api/v1``; these classes also feed the
OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, Field, field_validator

from ivr.store.models import utcnow
from ivr.vocab.locales import LOCALES, Locale
from ivr.vocab.staff import Presence
from ivr.vocab.transfers import TransferOutcome
from ivr.web.api_schemas import Input, InstalmentIn, Output, check_locale
from ivr.web.api_types import DbId, Instant

#: What an agent sets by hand (``busy`` comes and goes with calls).
ManualPresence = Literal[Presence.AVAILABLE, Presence.AWAY, Presence.OFFLINE]
ENDPOINT_RE = re.compile(r"^(client:[A-Za-z0-9_.@-]{1,100}|sip:\S{3,190}|\+[1-9]\d{6,14})$")
MAX_NOTES = 4000
PROMISE_HORIZON_DAYS = 366
"""How far ahead an agent may record a promise to pay (one year, and a leap day)."""
MAX_PROMISE_CENTS = 10**12


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _decimal_comma(value: Any) -> Any:
    """``150,00`` as typed on a Brazilian keyboard means 150.00."""
    value = _blank_is_none(value)
    return value.strip().replace(",", ".") if isinstance(value, str) else value


Skill = Annotated[str, Field(min_length=1, max_length=40)]


class PresenceIn(Input):
    presence: ManualPresence = Field(
        description="available, away or offline (busy is set by calls)"
    )

    @field_validator("presence", mode="before")
    @classmethod
    def _manual(cls, value: Any) -> Any:
        if value == "busy":
            raise ValueError("busy is set by calls, not by hand")
        if not isinstance(value, str) or value not in get_args(ManualPresence):
            raise ValueError("must be available, away or offline")
        return value


class WrapupIn(Input):
    """The agent's notes after the call; a promise needs both date and amount."""

    outcome: TransferOutcome
    notes: str | None = Field(default=None, max_length=MAX_NOTES)
    promise_date: Annotated[dt.date | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, description="YYYY-MM-DD, from today to one year ahead"
    )
    promise_amount: Annotated[Decimal | None, BeforeValidator(_decimal_comma)] = Field(
        default=None, gt=0, max_digits=12, decimal_places=2, description="e.g. 150.00 or 150,00"
    )
    promise_amount_cents: Annotated[int | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, ge=1, le=MAX_PROMISE_CENTS
    )
    plan: list[InstalmentIn] | None = Field(
        default=None,
        min_length=1,
        max_length=60,
        description=(
            "a payment plan agreed on the call, instead of a single promise: dated amounts"
            " in date order, within the campaign's limits"
        ),
    )

    @field_validator("promise_date")
    @classmethod
    def _window(cls, value: dt.date | None) -> dt.date | None:
        if value is None:
            return value
        now = utcnow()
        # "Today" somewhere on Earth: the debtor may live at UTC-12.
        earliest = (now - dt.timedelta(hours=12)).date()
        latest = now.date() + dt.timedelta(days=PROMISE_HORIZON_DAYS)
        if not earliest <= value <= latest:
            raise ValueError(f"must be between {earliest} and {latest}")
        return value

    def promise_cents(self) -> int | None:
        if self.promise_amount_cents is not None:
            return self.promise_amount_cents
        if self.promise_amount is not None:
            return int(self.promise_amount * 100)
        return None


class AgentCreate(Input):
    """A new agent: a new user (username, optional password) or an existing ``user_id``."""

    endpoint: str = Field(
        max_length=200, description="client:NAME, sip:URI or an E.164 number to ring"
    )
    username: str | None = Field(default=None, min_length=1, max_length=80)
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    user_id: DbId | None = None
    display_name: str | None = Field(default=None, min_length=1, max_length=120)
    languages: list[Locale] | None = Field(
        default=None, min_length=1, max_length=len(LOCALES), description="default: the service's"
    )
    skills: list[Skill] = Field(default_factory=list, max_length=20)

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        value = value.strip()
        if not ENDPOINT_RE.match(value):
            raise ValueError("must be client:NAME, sip:URI or an E.164 number")
        return value

    @field_validator("languages", mode="before")
    @classmethod
    def _languages(cls, value: Any) -> Any:
        for item in value if isinstance(value, list) else []:
            check_locale(item)
        return value


class TransfersQuery(Input):
    since: Instant | None = Field(default=None, description="ISO 8601 date or instant")
    until: Instant | None = Field(default=None, description="ISO 8601 date or instant")


class AgentOut(Output):
    id: int
    user_id: int
    display_name: str
    endpoint: str
    languages: list[str]
    skills: list[str]
    presence: Presence
    presence_since: dt.datetime
    wrapup_until: dt.datetime | None


class AgentList(Output):
    agents: list[AgentOut]


class AgentCreated(Output):
    agent: AgentOut
    api_key: str | None = Field(description="shown once: only its hash is kept")


class AgentState(Output):
    type: str
    agent: AgentOut
    active: dict[str, Any] | None = Field(description="the screen pop of the call in progress")
    wrapup: dict[str, Any] | None = Field(description="a finished call still to wrap up")


class CurrentTransfer(Output):
    active: dict[str, Any] | None
    wrapup: dict[str, Any] | None


class TransferOut(Output):
    id: int
    attempt_id: int
    agent_id: int | None
    reason: str
    status: str
    requested_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    queue_wait_s: float | None
    outcome: str | None
    notes: str | None
    tried_agent_ids: list[int]


class WrapupOut(TransferOut):
    promise_id: int | None = Field(description="the promise recorded with the wrap-up, if any")
    plan_id: int | None = Field(
        default=None, description="the payment plan recorded with the wrap-up, if any"
    )


class TransferStatsOut(Output):
    """Transfers requested in the period (see ``ivr.agents.reports`` for the definitions)."""

    requested: int
    answered: int = Field(description="an agent picked up")
    abandoned: int = Field(description="the caller hung up before an agent answered")
    callbacks: int = Field(description="left the queue for a callback")
    failed: int
    open: int = Field(description="still ringing, queued or connected")
    abandonment_rate: float = Field(description="abandoned / requested (0.0 with none)")
    avg_wait_s: float | None = Field(description="mean wait of the answered transfers")
    max_wait_s: float | None
