"""SMS settings of the sandbox carrier: numbers, Messaging Services, failing destinations.

On Twilio each phone number of the account has a Messaging URL (where an
inbound SMS is POSTed); here that is :attr:`SmsConfig.messaging_urls`. Which
destinations cannot be reached is the carrier's knowledge, so tests mark them
(:meth:`SmsConfig.mark`): ``undelivered`` with 30003 (unreachable handset),
30005 (unknown destination) or 30006 (landline); ``failed`` with 30007
(filtered) or another code. Numbers that libphonenumber knows as fixed lines
are landlines (30006) unless ``landlines_undelivered`` is turned off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SmsFinal = Literal["undelivered", "failed"]
CallbackOrder = Literal["in-order", "reverse", "shuffle"]

CARRIER_ERRORS: dict[int, str] = {
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
    21610: "Attempt to send to unsubscribed recipient",
}
"""Twilio's delivery error codes and their descriptions (``error_message``)."""


@dataclass(frozen=True)
class SmsOutcome:
    """How a message to one destination ends instead of ``delivered``."""

    status: SmsFinal
    error_code: int

    @property
    def error_message(self) -> str:
        return CARRIER_ERRORS.get(self.error_code, "Unknown error")


@dataclass
class SmsConfig:
    """Everything about messaging in one sandbox.

    ``senders``: the account's SMS-capable numbers; a ``From`` outside them is
    refused with 21606. Empty means any valid number is accepted (the numbers
    with a Messaging URL always are). ``messaging_services``: Messaging Service
    sid (``MG`` + 32 hex) -> its sender pool; an unknown service is refused
    with 21701. ``step_s``: call-time seconds between two status changes
    (divided by the sandbox's clock speed, so a fast sandbox is fast here too).
    ``callback_order``: ``reverse``/``shuffle`` hold a message's status
    callbacks until it is final and deliver them out of order (Twilio does not
    guarantee their order).
    """

    messaging_urls: dict[str, str] = field(default_factory=dict)
    messaging_methods: dict[str, str] = field(default_factory=dict)
    senders: set[str] = field(default_factory=set)
    messaging_services: dict[str, list[str]] = field(default_factory=dict)
    outcomes: dict[str, SmsOutcome] = field(default_factory=dict)
    landlines_undelivered: bool = True
    step_s: float = 1.0
    callback_order: CallbackOrder = "in-order"
    seed: int | None = None

    def mark(self, number: str, error_code: int, status: SmsFinal | None = None) -> None:
        """Make messages to ``number`` end ``status`` with ``error_code``.

        Without ``status``: 30003/30005/30006 are ``undelivered`` (the network
        could not deliver), anything else ``failed``.
        """
        if status is None:
            status = "undelivered" if error_code in (30003, 30005, 30006) else "failed"
        self.outcomes[number] = SmsOutcome(status, error_code)

    def set_messaging_url(self, number: str, url: str, method: str = "POST") -> None:
        """Where Twilio POSTs (or GETs) an SMS arriving at ``number``."""
        self.messaging_urls[number] = url
        self.messaging_methods[number] = method.upper()
