"""Small ports the call session talks to, so agents/ can plug in later."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ivr.messaging.payment_sms import PaymentDetailsResult


class TransferPort(Protocol):
    async def request(self, *, attempt_id: int, call_sid: str, reason: str, locale: str) -> bool:
        """Hand the call to a person; True when the call was redirected to agents."""
        ...


class PaymentDetailsPort(Protocol):
    async def request(
        self,
        *,
        attempt_id: int,
        debtor_id: int,
        debt_id: int | None,
        to_number: str,
        locale: str,
        promises: tuple[tuple[dt.date, int], ...] = (),
    ) -> PaymentDetailsResult:
        """The verified caller agreed to get the payment details by SMS at
        ``to_number`` (this call's number): about ``promises`` (date, cents)
        made in this call, else the open debt. Decides whether it may go,
        sends it, and says what happened; never raises for a refusal."""
        ...
