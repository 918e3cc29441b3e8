"""Twilio Media Streams wire format: the one module callers import, and the encoders.

No I/O. The service's WebSocket transport parses what Twilio sends with
:func:`parse_inbound` and writes with :func:`encode_outbound`; the sandbox does
the mirror image with :func:`encode_inbound` and :func:`parse_outbound`, so both
ends of every test speak exactly the same bytes as Twilio.

Wire facts the codec follows: messages are JSON text frames (a binary frame is
Twilio error :data:`ERROR_BINARY_FRAME`, 31950); ``sequenceNumber``, ``chunk``
and ``timestamp`` travel as decimal *strings*; ``mediaFormat.sampleRate`` /
``channels`` are JSON numbers; payloads are base64 of raw 8 kHz mu-law.
Anything malformed is error :data:`ERROR_MALFORMED` (31924); a stream whose
WebSocket handshake fails is :data:`ERROR_HANDSHAKE` (31920).

The format is split in three modules along what each part does:
:mod:`ivr.telephony.media_messages` holds the typed messages and error codes,
:mod:`ivr.telephony.media_parsing` the strict reading (each frame, then their
order along a stream), and this module the writing. Everything is re-exported
here, so ``from ivr.telephony import media_codec`` is all a caller needs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

from ivr.telephony.media_messages import (
    ERROR_BINARY_FRAME,
    ERROR_HANDSHAKE,
    ERROR_MALFORMED,
    Connected,
    Dtmf,
    InboundMessage,
    MalformedMessage,
    Mark,
    Media,
    MediaFormat,
    OutboundMessage,
    OutClear,
    OutMark,
    OutMedia,
    ProtocolError,
    Start,
    Stop,
    StreamEvent,
    new_account_sid,
    new_call_sid,
    new_stream_sid,
)
from ivr.telephony.media_parsing import (
    DTMF_DIGITS,
    MEDIA_TRACKS,
    StreamSequence,
    parse_inbound,
    parse_outbound,
    parse_outbound_with_sid,
)

__all__ = [
    "DTMF_DIGITS",
    "ERROR_BINARY_FRAME",
    "ERROR_HANDSHAKE",
    "ERROR_MALFORMED",
    "MEDIA_TRACKS",
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
    "StreamSequence",
    "encode_inbound",
    "encode_outbound",
    "new_account_sid",
    "new_call_sid",
    "new_stream_sid",
    "parse_inbound",
    "parse_outbound",
    "parse_outbound_with_sid",
]


def _b64encode(payload: bytes) -> str:
    return base64.b64encode(payload).decode("ascii")


def _dumps(data: Mapping[str, object]) -> str:
    return json.dumps(data, separators=(",", ":"))


def encode_inbound(msg: InboundMessage) -> str:
    """Serialize a Twilio -> service message exactly as Twilio does (for the sandbox)."""
    data: dict[str, object]
    if isinstance(msg, Connected):
        return _dumps({"event": "connected", "protocol": msg.protocol, "version": msg.version})
    if isinstance(msg, Start):
        fmt = msg.media_format
        data = {
            "start": {
                "accountSid": msg.account_sid,
                "streamSid": msg.stream_sid,
                "callSid": msg.call_sid,
                "tracks": list(msg.tracks),
                "customParameters": dict(msg.custom_parameters),
                "mediaFormat": {
                    "encoding": fmt.encoding,
                    "sampleRate": fmt.sample_rate,
                    "channels": fmt.channels,
                },
            }
        }
    elif isinstance(msg, Media):
        data = {
            "media": {
                "track": msg.track,
                "chunk": str(msg.chunk),
                "timestamp": str(msg.timestamp),
                "payload": _b64encode(msg.payload),
            }
        }
    elif isinstance(msg, Dtmf):
        data = {"dtmf": {"track": msg.track, "digit": msg.digit}}
    elif isinstance(msg, Mark):
        data = {"mark": {"name": msg.name}}
    elif isinstance(msg, Stop):
        data = {"stop": {"accountSid": msg.account_sid, "callSid": msg.call_sid}}
    else:
        raise TypeError(f"not an inbound message: {type(msg).__name__}")
    event = next(iter(data))
    return _dumps(
        {
            "event": event,
            "sequenceNumber": str(msg.sequence_number),
            "streamSid": msg.stream_sid,
            **data,
        }
    )


def encode_outbound(stream_sid: str, msg: OutboundMessage) -> str:
    """Serialize a service -> Twilio message (``media``, ``mark`` or ``clear``)."""
    if isinstance(msg, OutMedia):
        return _dumps(
            {
                "event": "media",
                "streamSid": stream_sid,
                "media": {"payload": _b64encode(msg.payload)},
            }
        )
    if isinstance(msg, OutMark):
        return _dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": msg.name}})
    if isinstance(msg, OutClear):
        return _dumps({"event": "clear", "streamSid": stream_sid})
    raise TypeError(f"not an outbound message: {type(msg).__name__}")
