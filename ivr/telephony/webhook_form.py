"""The fields of a signed Twilio webhook, read with their documented types.

:func:`ivr.telephony.signature.signed_form` builds a :class:`TwilioForm` from
exactly what arrived and was signed (one value per field: a repeated field is
refused before this). Handlers read nothing else, and every getter answers
400 naming the field and the reason for a value Twilio would never send, so
an absurd callback can neither reach the database nor raise a 5xx.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from aiohttp import web

from ivr.store.ids import MAX_ROW_ID, parse_row_id

CALL_STATUSES = frozenset(
    {
        "queued",
        "initiated",
        "ringing",
        "in-progress",
        "completed",
        "busy",
        "failed",
        "no-answer",
        "canceled",
    }
)
ANSWERED_BY = frozenset(
    {
        "human",
        "machine_start",
        "machine_end_beep",
        "machine_end_silence",
        "machine_end_other",
        "fax",
        "unknown",
    }
)
DIAL_CALL_STATUSES = frozenset({"completed", "answered", "busy", "no-answer", "failed", "canceled"})
QUEUE_RESULTS = frozenset(
    {
        "bridged",
        "bridging-in-process",
        "error",
        "hangup",
        "leave",
        "redirected",
        "redirected-from-bridged",
        "queue-full",
        "system-error",
    }
)
RECORDING_SOURCES = frozenset(
    {
        "OutboundAPI",
        "DialVerb",
        "Conference",
        "Trunking",
        "RecordVerb",
        "StartCallRecordingAPI",
        "StartConferenceRecordingAPI",
    }
)
MAX_CALL_SECONDS = 24 * 3600  # Twilio ends every call after at most 24 hours
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# What carriers send for a withheld caller ID (Twilio: "anonymous", "+266696687").
_WITHHELD = frozenset({"anonymous", "restricted", "unknown", "unavailable", "+266696687"})
DIRECTIONS = frozenset({"inbound", "outbound-api", "outbound-dial", "trunking-originating"})
_CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
_RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
_DIGITS = re.compile(r"[0-9*#w]{0,64}")
_MAX_TEXT = 2000
_OLDEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_NEWEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


def bad_field(name: str, reason: str) -> web.HTTPBadRequest:
    """400 with the field and the reason, in the API's error shape."""
    return web.HTTPBadRequest(
        text=json.dumps({"errors": [{"field": name, "reason": reason}]}),
        content_type="application/json",
    )


@dataclass(frozen=True)
class TwilioForm(Mapping[str, str]):
    """A signed webhook's form fields (and query parameters), one value each."""

    fields: Mapping[str, str]
    query: Mapping[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.fields[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    # ------------------------------------------------------------ typed getters

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.fields.get(name)
        if value is None or value == "":
            if required:
                raise bad_field(name, "is required")
            return None
        if len(value) > _MAX_TEXT:
            raise bad_field(name, f"is longer than {_MAX_TEXT} characters")
        return value

    def call_sid(self, *, required: bool = True) -> str | None:
        value = self.text("CallSid", required=required)
        if value is not None and not _CALL_SID.fullmatch(value):
            raise bad_field("CallSid", "must be CA followed by 32 hexadecimal digits")
        return value

    def recording_sid(self) -> str:
        value = self.text("RecordingSid", required=True)
        assert value is not None
        if not _RECORDING_SID.fullmatch(value):
            raise bad_field("RecordingSid", "must be RE followed by 32 hexadecimal digits")
        return value

    def url(self, name: str) -> str | None:
        """An absolute http(s) URL (where the carrier keeps a recording)."""
        value = self.text(name)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
            raise bad_field(name, "must be an absolute http(s) URL")
        return value

    def choice(self, name: str, allowed: frozenset[str], *, required: bool = False) -> str | None:
        value = self.text(name, required=required)
        if value is not None and value not in allowed:
            raise bad_field(name, f"must be one of {', '.join(sorted(allowed))}")
        return value

    def integer(
        self, name: str, *, low: int = 0, high: int = MAX_ROW_ID, required: bool = False
    ) -> int | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        if len(value) > 12 or not (value.isascii() and value.isdigit()):
            raise bad_field(name, "must be a whole number written in digits 0-9")
        number = int(value)
        if not low <= number <= high:
            raise bad_field(name, f"must be between {low} and {high}")
        return number

    def timestamp(self, name: str = "Timestamp") -> dt.datetime | None:
        """An RFC 2822 date as Twilio sends it (``Mon, 23 Nov 2026 12:00:00 +0000``)."""
        value = self.text(name)
        if value is None:
            return None
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            raise bad_field(name, "must be an RFC 2822 date") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        if not _OLDEST <= when < _NEWEST:
            raise bad_field(name, "is out of range")
        return when.astimezone(dt.UTC)

    def digits(self, name: str = "Digits") -> str | None:
        value = self.text(name)
        if value is not None and not _DIGITS.fullmatch(value):
            raise bad_field(name, "must be keypad digits")
        return value

    def phone_number(self, name: str, *, required: bool = False) -> str | None:
        """An E.164 number (spaces, dashes and dots removed); None when the
        caller ID is withheld. Anything else is 400: the field is not a number."""
        value = self.text(name, required=required)
        if value is None or value.strip().lower() in _WITHHELD:
            return None
        number = "".join(ch for ch in value if ch not in " -.()")
        if not _E164.fullmatch(number):
            raise bad_field(name, "not an E.164 phone number")
        return number

    def query_id(self, name: str, *, required: bool = False) -> int | None:
        """A row id from the query string we gave the carrier (``?attempt=ID``)."""
        raw = self.query.get(name)
        if raw is None or raw == "":
            if required:
                raise bad_field(name, "is required")
            return None
        value = parse_row_id(raw)
        if value is None:
            raise bad_field(name, f"must be a whole number from 1 to {MAX_ROW_ID}")
        return value
