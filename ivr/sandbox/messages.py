"""What the sandbox remembers about each SMS, for REST and for tests.

A :class:`SandboxMessage` is both Twilio's Message resource (its JSON comes
from here) and the observation log of the carrier: each status it went
through, and every request the sandbox made for it (status callbacks for an
outbound message, the incoming-message webhook for an inbound one) with the
service's answer.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ivr.messaging.segments import count_segments
from ivr.sandbox.records import API_VERSION, CallbackRecord, StatusChange, rfc2822, utcnow
from ivr.vocab.messages import FINAL_SMS_STATUSES, SmsStatus


def new_message_sid() -> str:
    """A fresh SMS Message sid: ``SM`` + 32 lowercase hex digits."""
    return "SM" + secrets.token_hex(16)


@dataclass
class SandboxMessage:
    """One message as the carrier sees it; mutated only by the sandbox.

    ``direction`` is Twilio's: ``outbound-api`` (REST), ``outbound-reply``
    (TwiML ``<Message>`` answering an inbound one) or ``inbound``.
    """

    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    direction: str = "outbound-api"
    status: SmsStatus = SmsStatus.QUEUED
    messaging_service_sid: str | None = None
    status_callback: str | None = None
    status_callback_method: str = "POST"
    error_code: int | None = None
    error_message: str | None = None
    in_reply_to: str | None = None  # the inbound message an outbound-reply answers
    date_created: datetime = field(default_factory=utcnow)
    date_updated: datetime = field(default_factory=utcnow)
    date_sent: datetime | None = None
    request_params: dict[str, list[str]] = field(default_factory=dict)
    status_history: list[StatusChange] = field(default_factory=list)
    callbacks: list[CallbackRecord] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # the carrier's debugger
    final: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        if not self.status_history:
            self.status_history.append(StatusChange(self.status, self.date_created))

    # ------------------------------------------------------------------ views

    @property
    def num_segments(self) -> int:
        return count_segments(self.body).segments

    @property
    def encoding(self) -> str:
        return count_segments(self.body).encoding

    @property
    def statuses(self) -> list[str]:
        """Status names in the order the message went through them."""
        return [str(change.status) for change in self.status_history]

    @property
    def status_callbacks(self) -> list[CallbackRecord]:
        """The status callbacks delivered (or attempted), in the order they were sent."""
        return [cb for cb in self.callbacks if cb.kind == "status"]

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_SMS_STATUSES

    # ------------------------------------------------------------------ mutation

    def set_status(
        self, status: SmsStatus, error_code: int | None = None, error_message: str | None = None
    ) -> None:
        now = utcnow()
        self.status = status
        self.date_updated = now
        if status in (SmsStatus.SENT, SmsStatus.RECEIVED) and self.date_sent is None:
            self.date_sent = now
        if error_code is not None:
            self.error_code, self.error_message = error_code, error_message
        self.status_history.append(StatusChange(status, now))

    # ------------------------------------------------------------------ REST view

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def callback_params(self) -> dict[str, str]:
        """The form of a status callback for the current status, as Twilio sends it."""
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "From": self.from_ or "",
            "MessageSid": self.sid,
            "MessageStatus": str(self.status),
            "SmsSid": self.sid,
            "SmsStatus": str(self.status),
            "To": self.to,
        }
        if self.messaging_service_sid:
            params["MessagingServiceSid"] = self.messaging_service_sid
        if self.status in (SmsStatus.UNDELIVERED, SmsStatus.FAILED) and self.error_code:
            params["ErrorCode"] = str(self.error_code)
        return params

    def to_json(self) -> dict[str, Any]:
        """The Message resource exactly as Twilio's API returns it."""
        base = self.uri.removesuffix(".json")
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.date_created),
            "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.date_updated),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(self.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": str(self.status),
            "subresource_uris": {
                "media": f"{base}/Media.json",
                "feedback": f"{base}/Feedback.json",
            },
            "to": self.to,
            "uri": self.uri,
        }
