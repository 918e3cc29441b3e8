"""Base classes and the small request and response models of the JSON API (pydantic v2).

The same classes validate input and feed the OpenAPI document, so what the
document promises is what the server checks. Inputs forbid unknown fields: a
typo in a cap's name is an error, never a silently ignored change.

The models of the larger subjects live beside this module, on the same base
classes: campaigns in :mod:`ivr.web.api_campaign_schemas`, debtors and
attempts in :mod:`ivr.web.api_debtor_schemas`, agents in
:mod:`ivr.agents.schemas`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ivr.vocab.debts import DebtStatus
from ivr.vocab.locales import LOCALES, Locale
from ivr.vocab.staff import Role
from ivr.web.api_types import Day


def check_locale(value: Any) -> Any:
    """Before a ``Locale`` field: an unknown tag is named, with the ones there are."""
    if isinstance(value, str) and value not in LOCALES:
        raise ValueError(f"unknown locale {value!r}: one of {', '.join(LOCALES)}")
    return value


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- payments ----------------------------------------------------------------


class InstalmentIn(Input):
    """One instalment of a payment plan (the API's and the agent's wrap-up)."""

    date: dt.date = Field(description="YYYY-MM-DD, after the previous instalment's")
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2, description="e.g. 150.00")

    def cents(self) -> int:
        return int(self.amount * 100)


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
    debt_status: DebtStatus
    duplicate: bool
    debt_paid: bool
    promises_kept: int
    promises_broken: int
    callbacks_cancelled: int
    attempts_cancelled: int


# --- reports -----------------------------------------------------------------


# --- auth --------------------------------------------------------------------


class LoginIn(Input):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=1024)


class UserOut(Output):
    id: int
    username: str
    role: Role
    locale: Locale | None = Field(
        default=None, description="the pages' language; null: the browser's (Accept-Language)"
    )


class MeIn(Input):
    """What a signed-in user may change about themselves."""

    locale: Locale | None = Field(description="pt-BR or en-US; null: follow the browser")

    @field_validator("locale", mode="before")
    @classmethod
    def _locale(cls, value: Any) -> Any:
        return check_locale(value)


class Ok(Output):
    ok: bool = True
