"""Twilio Media Streams messages as typed values, and the stream's error codes.

Plain frozen dataclasses with no JSON in sight: the call session and the
sandbox build and inspect these, while :mod:`ivr.telephony.media_parsing`
reads them off the wire and :mod:`ivr.telephony.media_codec` writes them (and
re-exports everything here, so callers import one module). Kept apart so that
what a message *is* can be read without wading through how it is parsed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "ERROR_BINARY_FRAME",
    "ERROR_HANDSHAKE",
    "ERROR_MALFORMED",
    "Connected",
    "Dtmf",
    "InboundMessage",
    "MalformedMessage",
    "Mark",
    "Media",
    "MediaFormat",
    "OutClear",
    "OutMark",
    "OutMedia",
    "OutboundMessage",
    "ProtocolError",
    "Start",
    "Stop",
    "StreamEvent",
    "new_account_sid",
    "new_call_sid",
    "new_stream_sid",
]

ERROR_HANDSHAKE: Final = 31920
"""Twilio error code for a failed WebSocket handshake ("Stream - WebSocket - Handshake Error")."""
ERROR_MALFORMED: Final = 31924
"""Twilio error code for a malformed Media Streams message."""
ERROR_BINARY_FRAME: Final = 31950
"""Twilio error code for a binary WebSocket frame (only text frames are allowed)."""


class MalformedMessage(Exception):
    """A Media Streams message that does not follow the wire format.

    ``code`` is the Twilio error code (:data:`ERROR_MALFORMED`,
    :data:`ERROR_BINARY_FRAME`), ``reason`` a human-readable explanation for logs.
    """

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"


class ProtocolError(MalformedMessage):
    """A well-formed message that arrives out of order (see ``StreamSequence``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(ERROR_MALFORMED, reason)


# --------------------------------------------------------------------------- inbound


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaFormat:
    """``start.mediaFormat``; Twilio always sends 8 kHz mono mu-law."""

    encoding: str = "audio/x-mulaw"
    sample_rate: int = 8000
    channels: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Connected:
    """First message of every stream; carries no sequence number or stream sid."""

    protocol: str = "Call"
    version: str = "1.0.0"


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamEvent:
    """What every inbound message after ``connected`` carries: its stream and its place in it."""

    stream_sid: str
    sequence_number: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Start(StreamEvent):
    """Stream metadata, sent once. ``custom_parameters`` come from TwiML ``<Parameter>``."""

    account_sid: str
    call_sid: str
    tracks: tuple[str, ...] = ("inbound",)
    custom_parameters: dict[str, str] = field(default_factory=dict)
    media_format: MediaFormat = field(default_factory=MediaFormat)


@dataclass(frozen=True, slots=True, kw_only=True)
class Media(StreamEvent):
    """One chunk of caller audio: ``payload`` is raw 8 kHz mu-law (already base64-decoded)."""

    chunk: int
    timestamp: int
    payload: bytes
    track: str = "inbound"


@dataclass(frozen=True, slots=True, kw_only=True)
class Dtmf(StreamEvent):
    """A keypad digit pressed by the caller (bidirectional streams only)."""

    digit: str
    track: str = "inbound_track"


@dataclass(frozen=True, slots=True, kw_only=True)
class Mark(StreamEvent):
    """Twilio echoing a mark we sent: the audio queued before it has played (or was cleared)."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Stop(StreamEvent):
    """The stream ended (hang-up or the call left ``<Connect>``)."""

    account_sid: str
    call_sid: str


InboundMessage = Connected | Start | Media | Dtmf | Mark | Stop


# --------------------------------------------------------------------------- outbound


@dataclass(frozen=True, slots=True, kw_only=True)
class OutMedia:
    """Audio to play to the caller: raw 8 kHz mu-law (base64-encoded on the wire)."""

    payload: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class OutMark:
    """Ask Twilio to echo ``name`` back once the audio queued before it has played."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OutClear:
    """Empty Twilio's playback buffer (barge-in); pending marks come back at once."""


OutboundMessage = OutMedia | OutMark | OutClear


# --------------------------------------------------------------------------- identifiers


def _new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def new_stream_sid() -> str:
    """A fresh Media Stream sid: ``MZ`` + 32 lowercase hex digits."""
    return _new_sid("MZ")


def new_call_sid() -> str:
    """A fresh Call sid: ``CA`` + 32 lowercase hex digits."""
    return _new_sid("CA")


def new_recording_sid() -> str:
    """A fresh Recording sid: ``RE`` + 32 lowercase hex digits."""
    return _new_sid("RE")


def new_account_sid() -> str:
    """A fresh Account sid: ``AC`` + 32 lowercase hex digits."""
    return _new_sid("AC")
