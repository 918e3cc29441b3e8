"""Small ports the call session talks to, so agents/ can plug in later."""

from __future__ import annotations

from typing import Protocol


class TransferPort(Protocol):
    async def request(self, *, attempt_id: int, call_sid: str, reason: str, locale: str) -> bool:
        """Hand the call to a person; True when the call was redirected to agents."""
        ...


class PaymentDetailsPort(Protocol):
    async def request(
        self, *, attempt_id: int, debtor_id: int, debt_id: int | None, to_number: str, locale: str
    ) -> None:
        """The verified caller asked for the payment details in writing: send them
        (by SMS to ``to_number``, the caller's number). The call has already
        recorded the request as a ``payment_details_requested`` event."""
        ...
