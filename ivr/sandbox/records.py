"""What the sandbox remembers about each call, for tests to assert on.

A :class:`SandboxCall` is both the REST Call resource (its JSON comes from
here) and the observation log of the far end: every status change, every
webhook and callback with its parameters and the service's answer, the text
of each ``<Say>``, the stream audio actually played to the callee, marks,
clears, digits pressed, and errors Twilio would have logged.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from ivr import clock

API_VERSION = "2010-04-01"
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
RECORDING_EVENTS = frozenset({"in-progress", "completed", "absent"})


def rfc2822(moment: datetime | None) -> str | None:
    """Twilio's date format in JSON and callbacks: ``Tue, 31 Aug 2010 20:36:28 +0000``."""
    if moment is None:
        return None
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0))


def utcnow() -> datetime:
    # The carrier shares the service's clock (and its test offset, ivr.clock).
    return clock.utcnow()


@dataclass
class StatusChange:
    status: str
    at: datetime


@dataclass
class CallbackRecord:
    """One HTTP request the sandbox made to the service on behalf of a call."""

    # status | amd | voice | fallback | action | redirect | wait | whisper | stream-status
    kind: str
    url: str
    method: str
    params: dict[str, str]
    status: int | None = None
    body: str = ""
    error: str | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class CallEvent:
    """One entry of the call's ordered event log."""

    kind: str
    detail: dict[str, Any]
    media_ms: int
    at: float = field(default_factory=time.monotonic)


@dataclass
class MediaChunk:
    """One outbound ``media`` payload the service sent, with the call time it arrived."""

    media_ms: int
    payload: bytes


@dataclass(frozen=True)
class RecordingRequest:
    """The recording parameters of ``POST Calls.json`` with ``Record=true``."""

    channels: int = 1  # RecordingChannels: mono -> 1, dual -> 2
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: tuple[str, ...] = ("completed",)


@dataclass
class SandboxCall:
    """A call as the carrier sees it; mutated only by the sandbox engine."""

    sid: str
    account_sid: str
    to: str
    from_: str
    direction: str = "outbound-api"
    parent_call_sid: str | None = None
    status: str = "queued"
    answered_by: str | None = None
    date_created: datetime = field(default_factory=utcnow)
    date_updated: datetime = field(default_factory=utcnow)
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration: int | None = None
    queue_time_ms: int = 0
    # What the call was asked to do (REST create parameters).
    url: str | None = None
    method: str = "POST"
    twiml: str | None = None
    fallback_url: str | None = None
    fallback_method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: tuple[str, ...] = ("completed",)
    timeout_s: int = 60
    machine_detection: str | None = None
    async_amd: bool = False
    async_amd_status_callback: str | None = None
    async_amd_status_callback_method: str = "POST"
    time_limit_s: int | None = None
    recording: RecordingRequest | None = None  # set by Record=true
    request_params: dict[str, list[str]] = field(default_factory=dict)  # of the REST create
    # What happened.
    status_history: list[StatusChange] = field(default_factory=list)
    callbacks: list[CallbackRecord] = field(default_factory=list)
    events: list[CallEvent] = field(default_factory=list)
    heard_text: list[str] = field(default_factory=list)
    played_urls: list[str] = field(default_factory=list)
    heard: bytearray = field(default_factory=bytearray)
    received_media: list[MediaChunk] = field(default_factory=list)
    marks_received: list[str] = field(default_factory=list)
    marks_echoed: list[str] = field(default_factory=list)
    clears: list[int] = field(default_factory=list)
    digits_sent: list[str] = field(default_factory=list)
    stream_messages_in: list[str] = field(default_factory=list)
    stream_messages_out: list[str] = field(default_factory=list)
    stream_sids: list[str] = field(default_factory=list)
    stream_parameters: list[dict[str, str]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    child_call_sids: list[str] = field(default_factory=list)
    recording_sids: list[str] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    answered_at: float | None = None
    media_ms: int = 0

    # ------------------------------------------------------------------ views

    @property
    def statuses(self) -> list[str]:
        """Status names in the order the call went through them."""
        return [change.status for change in self.status_history]

    @property
    def status_callbacks(self) -> list[CallbackRecord]:
        return [cb for cb in self.callbacks if cb.kind == "status"]

    def callbacks_of(self, kind: str) -> list[CallbackRecord]:
        return [cb for cb in self.callbacks if cb.kind == kind]

    def events_of(self, kind: str) -> list[CallEvent]:
        return [ev for ev in self.events if ev.kind == kind]

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    # ------------------------------------------------------------------ mutation

    def log(self, kind: str, **detail: Any) -> None:
        self.events.append(CallEvent(kind=kind, detail=detail, media_ms=self.media_ms))

    def error(self, code: int, message: str) -> None:
        """Record an error the real carrier would show in its debugger."""
        self.errors.append((code, message))
        self.log("error", code=code, message=message)

    def set_status(self, status: str) -> None:
        now = utcnow()
        self.status = status
        self.date_updated = now
        self.status_history.append(StatusChange(status, now))
        self.log("status", status=status)

    # ------------------------------------------------------------------ REST view

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}.json"

    def to_json(self) -> dict[str, Any]:
        """The Call resource exactly as Twilio's API returns it."""
        base = self.uri.removesuffix(".json")
        subresources = (
            "notifications",
            "recordings",
            "payments",
            "events",
            "siprec",
            "streams",
            "transcriptions",
            "user_defined_message_subscriptions",
            "user_defined_messages",
        )
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": self.answered_by,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "direction": self.direction,
            "duration": None if self.duration is None else str(self.duration),
            "end_time": rfc2822(self.end_time),
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": self.from_,
            "group_sid": None,
            "parent_call_sid": self.parent_call_sid,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": str(self.queue_time_ms),
            "sid": self.sid,
            "start_time": rfc2822(self.start_time),
            "status": self.status,
            "subresource_uris": {
                name: f"{base}/{name.title().replace('_', '')}.json" for name in subresources
            },
            "to": self.to,
            "to_formatted": self.to,
            "trunk_sid": None,
            "uri": self.uri,
        }
