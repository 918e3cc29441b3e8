"""Strict reading of Twilio Media Streams frames: one frame at a time, then in order.

:func:`parse_inbound` (what Twilio sends the service) and :func:`parse_outbound`
(what the service sends Twilio, read back by the sandbox and the tests) turn
one WebSocket frame into a message of :mod:`ivr.telephony.media_messages`;
:class:`StreamSequence` then checks that frame's place along its stream.
Everything here rejects; nothing here writes (:mod:`ivr.telephony.media_codec`
does), so the policy below is in one place.

Parsing policy: strict about what we read (required keys present, right JSON
types, digit-only numeric strings, valid base64, known events), lenient about
keys we do not read (ignored), so that a field Twilio adds tomorrow does not
drop a live call. Every failure is a :class:`MalformedMessage`
(:data:`ERROR_MALFORMED`, or :data:`ERROR_BINARY_FRAME` for a binary frame);
no other exception type escapes the parsers.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from typing import Final, Literal, NoReturn

from ivr.telephony.media_messages import (
    ERROR_BINARY_FRAME,
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
)

__all__ = [
    "DTMF_DIGITS",
    "MEDIA_TRACKS",
    "StreamSequence",
    "parse_inbound",
    "parse_outbound",
    "parse_outbound_with_sid",
]

DTMF_DIGITS: Final = frozenset("0123456789*#ABCD")
MEDIA_TRACKS: Final = frozenset({"inbound", "outbound"})

_DIGITS_RE: Final = re.compile(r"[0-9]{1,18}")  # ASCII only; fits int64; no sign/space/_


# --------------------------------------------------------------------------- field readers


def _fail(reason: str) -> NoReturn:
    raise MalformedMessage(ERROR_MALFORMED, reason)


def _load(text: object) -> Mapping[str, object]:
    """Decode one WebSocket frame into a JSON object, mapping every failure to MalformedMessage."""
    if isinstance(text, bytes | bytearray | memoryview):
        raise MalformedMessage(ERROR_BINARY_FRAME, "binary frames are not allowed")
    if not isinstance(text, str):
        _fail(f"expected a text frame, got {type(text).__name__}")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise MalformedMessage(ERROR_MALFORMED, f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        _fail(f"expected a JSON object, got {type(data).__name__}")
    return data


def _load_event(text: object) -> tuple[Mapping[str, object], str]:
    """Decode one frame and read its ``event``, which every message has, in and out."""
    data = _load(text)
    event = data.get("event")
    if not isinstance(event, str):
        _fail("event must be a string")
    return data, event


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _obj(data: Mapping[str, object], key: str, where: str) -> Mapping[str, object]:
    value = data.get(key)
    if not isinstance(value, dict):
        _fail(f"{where}{key} must be an object")
    return value


def _string(data: Mapping[str, object], key: str, where: str, kind: str) -> str:
    """The JSON string at ``key``; anything else is malformed, naming the ``kind`` expected."""
    value = data.get(key)
    if not isinstance(value, str):
        _fail(f"{where}{key} must be {kind}")
    return value


def _str(data: Mapping[str, object], key: str, where: str, *, nonempty: bool = True) -> str:
    value = _string(data, key, where, "a string")
    if nonempty and not value:
        _fail(f"{where}{key} must not be empty")
    return value


def _numeric_str(data: Mapping[str, object], key: str, where: str) -> int:
    """Twilio sends counters as decimal strings ("3"); a JSON number is malformed."""
    value = _string(data, key, where, "a decimal string")
    if not _DIGITS_RE.fullmatch(value):
        _fail(f"{where}{key} must be a decimal string, got {value[:20]!r}")
    return int(value)


def _json_int(data: Mapping[str, object], key: str, where: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        _fail(f"{where}{key} must be a positive integer")
    return value


def _b64(data: Mapping[str, object], key: str, where: str) -> bytes:
    value = _string(data, key, where, "a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        _fail(f"{where}{key} is not valid base64")


# --------------------------------------------------------------------------- inbound


def parse_inbound(text: str | bytes) -> InboundMessage:
    """Parse one frame Twilio sent; raises :class:`MalformedMessage` on any flaw."""
    data, event = _load_event(text)
    if event == "connected":
        return Connected(protocol=_str(data, "protocol", ""), version=_str(data, "version", ""))
    parser = _INBOUND_PARSERS.get(event)
    if parser is None:
        _fail(f"unknown event {event[:40]!r}")
    stream_sid = _str(data, "streamSid", "")
    sequence_number = _numeric_str(data, "sequenceNumber", "")
    return parser(data, stream_sid, sequence_number)


def _parse_start(data: Mapping[str, object], stream_sid: str, seq: int) -> Start:
    start = _obj(data, "start", "")
    nested_sid = _str(start, "streamSid", "start.")
    if nested_sid != stream_sid:
        _fail("start.streamSid does not match streamSid")
    tracks = start.get("tracks")
    if not isinstance(tracks, list) or not tracks:
        _fail("start.tracks must be a non-empty list")
    for track in tracks:
        if not isinstance(track, str) or track not in MEDIA_TRACKS:
            _fail(f"start.tracks has an unknown track {str(track)[:20]!r}")
    params: dict[str, str] = {}
    raw_params = start.get("customParameters", {})
    if not isinstance(raw_params, dict):
        _fail("start.customParameters must be an object")
    for name, value in raw_params.items():
        if not isinstance(value, str):
            _fail(f"start.customParameters.{name[:40]} must be a string")
        params[name] = value
    fmt = _obj(start, "mediaFormat", "start.")
    return Start(
        stream_sid=stream_sid,
        sequence_number=seq,
        account_sid=_str(start, "accountSid", "start."),
        call_sid=_str(start, "callSid", "start."),
        tracks=tuple(str(t) for t in tracks),
        custom_parameters=params,
        media_format=MediaFormat(
            encoding=_str(fmt, "encoding", "start.mediaFormat."),
            sample_rate=_json_int(fmt, "sampleRate", "start.mediaFormat."),
            channels=_json_int(fmt, "channels", "start.mediaFormat."),
        ),
    )


def _parse_media(data: Mapping[str, object], stream_sid: str, seq: int) -> Media:
    media = _obj(data, "media", "")
    track = _str(media, "track", "media.")
    if track not in MEDIA_TRACKS:
        _fail(f"media.track must be inbound or outbound, got {track[:20]!r}")
    return Media(
        stream_sid=stream_sid,
        sequence_number=seq,
        chunk=_numeric_str(media, "chunk", "media."),
        timestamp=_numeric_str(media, "timestamp", "media."),
        payload=_b64(media, "payload", "media."),
        track=track,
    )


def _parse_dtmf(data: Mapping[str, object], stream_sid: str, seq: int) -> Dtmf:
    dtmf = _obj(data, "dtmf", "")
    digit = _str(dtmf, "digit", "dtmf.")
    if digit not in DTMF_DIGITS:
        _fail(f"dtmf.digit must be one of 0-9 * # A-D, got {digit[:20]!r}")
    return Dtmf(
        stream_sid=stream_sid,
        sequence_number=seq,
        digit=digit,
        track=_str(dtmf, "track", "dtmf."),
    )


def _parse_mark(data: Mapping[str, object], stream_sid: str, seq: int) -> Mark:
    mark = _obj(data, "mark", "")
    return Mark(stream_sid=stream_sid, sequence_number=seq, name=_str(mark, "name", "mark."))


def _parse_stop(data: Mapping[str, object], stream_sid: str, seq: int) -> Stop:
    stop = _obj(data, "stop", "")
    return Stop(
        stream_sid=stream_sid,
        sequence_number=seq,
        account_sid=_str(stop, "accountSid", "stop."),
        call_sid=_str(stop, "callSid", "stop."),
    )


_INBOUND_PARSERS: Final[
    Mapping[str, Callable[[Mapping[str, object], str, int], InboundMessage]]
] = {
    "start": _parse_start,
    "media": _parse_media,
    "dtmf": _parse_dtmf,
    "mark": _parse_mark,
    "stop": _parse_stop,
}


# --------------------------------------------------------------------------- outbound


def parse_outbound_with_sid(text: str | bytes) -> tuple[str, OutboundMessage]:
    """Parse a service -> Twilio frame, returning its ``streamSid`` and the message."""
    data, event = _load_event(text)
    stream_sid = _str(data, "streamSid", "")
    msg: OutboundMessage
    if event == "media":
        msg = OutMedia(payload=_b64(_obj(data, "media", ""), "payload", "media."))
    elif event == "mark":
        msg = OutMark(name=_str(_obj(data, "mark", ""), "name", "mark."))
    elif event == "clear":
        msg = OutClear()
    else:
        _fail(f"unknown outbound event {event[:40]!r}")
    return stream_sid, msg


def parse_outbound(text: str | bytes, expected_stream_sid: str | None = None) -> OutboundMessage:
    """Parse a service -> Twilio frame.

    With ``expected_stream_sid``, a frame for any other stream is malformed.
    """
    stream_sid, msg = parse_outbound_with_sid(text)
    if expected_stream_sid is not None and stream_sid != expected_stream_sid:
        _fail(f"streamSid {stream_sid[:40]!r} does not match this stream")
    return msg


# --------------------------------------------------------------------------- ordering


StreamState = Literal["new", "connected", "started", "stopped"]


class StreamSequence:
    """Checks the order of inbound messages on one stream; no I/O.

    Enforced: ``connected`` at most once and only first; ``start`` exactly once
    before any ``media``/``dtmf``/``mark``/``stop``; nothing after ``stop``;
    ``sequenceNumber`` strictly increasing; ``streamSid`` equal to the one in
    ``start``; media tracks among those ``start`` announced. A violation raises
    :class:`ProtocolError` and leaves the state unchanged.

    Lenient on purpose: a stream that begins with ``start`` (no ``connected``)
    is accepted, with :attr:`missing_connected` set so that the transport can log
    it; the ``connected`` frame carries nothing the call needs, and refusing a
    live call over it would hurt the caller, not the bug. Gaps in
    ``sequenceNumber`` are accepted and counted in :attr:`sequence_gaps` for the
    same reason. ``chunk``/``timestamp`` are not checked.
    """

    def __init__(self) -> None:
        self.state: StreamState = "new"
        self.start: Start | None = None
        self.missing_connected = False
        self.last_sequence_number: int | None = None
        self.sequence_gaps = 0

    @property
    def stream_sid(self) -> str | None:
        """The stream sid announced by ``start``, once it has arrived."""
        return None if self.start is None else self.start.stream_sid

    def feed_text(self, text: str | bytes) -> InboundMessage:
        """Parse one frame and check its place in the stream."""
        return self.feed(parse_inbound(text))

    def feed(self, msg: InboundMessage) -> InboundMessage:
        """Check one parsed message against the stream so far; returns it unchanged."""
        if isinstance(msg, Connected):
            if self.state != "new":
                raise ProtocolError(f"connected received in state {self.state}")
            self.state = "connected"
            return msg
        if isinstance(msg, Start):
            if self.state in ("started", "stopped"):
                raise ProtocolError("duplicate start")
            self._check_sequence(msg.sequence_number)
            self.missing_connected = self.state == "new"
            self.start = msg
            self.state = "started"
            self._advance(msg.sequence_number)
            return msg
        if self.state == "stopped":
            raise ProtocolError(f"{type(msg).__name__.lower()} after stop")
        if self.state != "started" or self.start is None:
            raise ProtocolError(f"{type(msg).__name__.lower()} before start")
        if msg.stream_sid != self.start.stream_sid:
            raise ProtocolError(f"streamSid {msg.stream_sid[:40]!r} does not match start")
        self._check_sequence(msg.sequence_number)
        if isinstance(msg, Media) and msg.track not in self.start.tracks:
            raise ProtocolError(f"media on track {msg.track!r} not announced in start")
        if isinstance(msg, Stop):
            self.state = "stopped"
        self._advance(msg.sequence_number)
        return msg

    def _check_sequence(self, seq: int) -> None:
        last = self.last_sequence_number
        if last is not None and seq <= last:
            raise ProtocolError(f"sequenceNumber {seq} is not after {last}")

    def _advance(self, seq: int) -> None:
        last = self.last_sequence_number
        if last is not None and seq > last + 1:
            self.sequence_gaps += 1
        self.last_sequence_number = seq
