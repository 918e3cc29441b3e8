"""Twilio Media Streams wire format: shapes, round trips, strictness, fuzzing, ordering."""

from __future__ import annotations

import base64
import copy
import json
import os
import re
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.audio import mulaw
from ivr.telephony.media_codec import (
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
    OutClear,
    OutMark,
    OutMedia,
    ProtocolError,
    Start,
    Stop,
    StreamSequence,
    encode_inbound,
    encode_outbound,
    new_account_sid,
    new_call_sid,
    new_stream_sid,
    parse_inbound,
    parse_outbound,
    parse_outbound_with_sid,
)

SID = "MZ" + "a" * 32
CALL = "CA" + "b" * 32
ACCOUNT = "AC" + "c" * 32
FRAME = bytes(range(160))

# The opening of a real stream as Twilio logged it (github.com/twilio/media-streams,
# node/connect-basic/output.txt); that stream predates "MZ" sids.
CAPTURE_SID = "9e7ee906-377b-408f-a852-eebfb834422a"
CAPTURE_PAYLOAD = (
    "6/jk2NbZ3uXj5Oz+bmhiYnD07+XWy8bIzdjg6mpNPzk3Nzc2Njg/UXXl2s7Cu7u+xcnLzdr7aGp98/94++PTztXc3NfV"
    "3PRnYGNhXVtfe9vMxcXJzM/X81JAOjY0MjEwMzlDVX3dzsK6tre8wsfK0OxdVFtx/nZw89fMzNLb3NPS3v5kYXZvXl5q"
    "3snBvb3BxsrYakY3Ly0sKysrLjZCZA=="
)
CAPTURE = [
    {"event": "connected", "protocol": "Call", "version": "1.0.0"},
    {
        "event": "start",
        "sequenceNumber": "1",
        "start": {
            "accountSid": "AC18fbd524d33614fba208030751dffdca",
            "streamSid": CAPTURE_SID,
            "callSid": "CA3c95a2a6bba5fde93a5dea01e388e8fb",
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": {"aCutomParameter": "aCustomValue that was set in TwiML"},
        },
        "streamSid": CAPTURE_SID,
    },
    {
        "event": "media",
        "sequenceNumber": "2",
        "media": {"track": "inbound", "chunk": "1", "timestamp": "52", "payload": CAPTURE_PAYLOAD},
        "streamSid": CAPTURE_SID,
    },
]


def media(seq: int, chunk: int | None = None, payload: bytes = FRAME, sid: str = SID) -> Media:
    chunk = seq - 1 if chunk is None else chunk
    return Media(
        stream_sid=sid,
        sequence_number=seq,
        chunk=chunk,
        timestamp=20 * (chunk - 1),
        payload=payload,
    )


def start(seq: int = 1, sid: str = SID, tracks: tuple[str, ...] = ("inbound",)) -> Start:
    return Start(
        stream_sid=sid,
        sequence_number=seq,
        account_sid=ACCOUNT,
        call_sid=CALL,
        tracks=tracks,
        custom_parameters={"attempt": "42", "locale": "pt-BR", "nome": "João"},
    )


SAMPLES: list[InboundMessage] = [
    Connected(),
    start(),
    media(2),
    Dtmf(stream_sid=SID, sequence_number=3, digit="#"),
    Mark(stream_sid=SID, sequence_number=4, name="prompt-7"),
    Stop(stream_sid=SID, sequence_number=5, account_sid=ACCOUNT, call_sid=CALL),
]


# --------------------------------------------------------------------------- wire shapes


def test_connected_wire_shape() -> None:
    assert json.loads(encode_inbound(Connected())) == {
        "event": "connected",
        "protocol": "Call",
        "version": "1.0.0",
    }


def test_start_wire_shape() -> None:
    assert json.loads(encode_inbound(start())) == {
        "event": "start",
        "sequenceNumber": "1",
        "streamSid": SID,
        "start": {
            "accountSid": ACCOUNT,
            "streamSid": SID,
            "callSid": CALL,
            "tracks": ["inbound"],
            "customParameters": {"attempt": "42", "locale": "pt-BR", "nome": "João"},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
    }


def test_media_wire_shape_uses_strings_for_numbers() -> None:
    msg = Media(stream_sid=SID, sequence_number=3, chunk=2, timestamp=20, payload=b"\xff\x7f")
    assert json.loads(encode_inbound(msg)) == {
        "event": "media",
        "sequenceNumber": "3",
        "streamSid": SID,
        "media": {"track": "inbound", "chunk": "2", "timestamp": "20", "payload": "/38="},
    }


def test_dtmf_mark_stop_wire_shapes() -> None:
    dtmf, mark, stop = SAMPLES[3], SAMPLES[4], SAMPLES[5]
    assert json.loads(encode_inbound(dtmf)) == {
        "event": "dtmf",
        "sequenceNumber": "3",
        "streamSid": SID,
        "dtmf": {"track": "inbound_track", "digit": "#"},
    }
    assert json.loads(encode_inbound(mark)) == {
        "event": "mark",
        "sequenceNumber": "4",
        "streamSid": SID,
        "mark": {"name": "prompt-7"},
    }
    assert json.loads(encode_inbound(stop)) == {
        "event": "stop",
        "sequenceNumber": "5",
        "streamSid": SID,
        "stop": {"accountSid": ACCOUNT, "callSid": CALL},
    }


def test_outbound_wire_shapes() -> None:
    assert json.loads(encode_outbound(SID, OutMedia(payload=b"\xff" * 3))) == {
        "event": "media",
        "streamSid": SID,
        "media": {"payload": "////"},
    }
    assert json.loads(encode_outbound(SID, OutMark(name="m1"))) == {
        "event": "mark",
        "streamSid": SID,
        "mark": {"name": "m1"},
    }
    assert json.loads(encode_outbound(SID, OutClear())) == {"event": "clear", "streamSid": SID}


def test_encoders_reject_foreign_objects() -> None:
    with pytest.raises(TypeError):
        encode_inbound(OutClear())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        encode_outbound(SID, Connected())  # type: ignore[arg-type]


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda m: type(m).__name__)
def test_inbound_round_trip(msg: InboundMessage) -> None:
    assert parse_inbound(encode_inbound(msg)) == msg


@pytest.mark.parametrize(
    "msg",
    [OutMedia(payload=FRAME), OutMark(name="fim"), OutClear()],
    ids=lambda m: type(m).__name__,
)
def test_outbound_round_trip(msg: Any) -> None:
    text = encode_outbound(SID, msg)
    assert parse_outbound(text) == msg
    assert parse_outbound(text, expected_stream_sid=SID) == msg
    assert parse_outbound_with_sid(text) == (SID, msg)


def test_outbound_for_another_stream_is_malformed() -> None:
    text = encode_outbound(SID, OutClear())
    with pytest.raises(MalformedMessage) as info:
        parse_outbound(text, expected_stream_sid="MZ" + "0" * 32)
    assert info.value.code == ERROR_MALFORMED


def test_parsed_numbers_are_ints_and_payload_is_raw_mulaw() -> None:
    msg = parse_inbound(json.dumps(CAPTURE[2]))
    assert isinstance(msg, Media)
    assert (msg.sequence_number, msg.chunk, msg.timestamp) == (2, 1, 52)
    assert len(msg.payload) == mulaw.FRAME_BYTES
    assert msg.payload == base64.b64decode(CAPTURE_PAYLOAD)


def test_real_capture_sequence() -> None:
    seq = StreamSequence()
    parsed = [seq.feed_text(json.dumps(frame)) for frame in CAPTURE]
    assert parsed[0] == Connected()
    first = parsed[1]
    assert isinstance(first, Start)
    assert first.stream_sid == CAPTURE_SID
    assert first.custom_parameters == {"aCutomParameter": "aCustomValue that was set in TwiML"}
    assert first.media_format == MediaFormat()
    assert first.tracks == ("inbound",)
    assert seq.stream_sid == CAPTURE_SID
    assert not seq.missing_connected
    # The capture then shows 50 media frames per second and echoed marks at 103, 154, 205.
    number = 2
    for chunk in range(2, 102):
        number += 1
        seq.feed(media(number, chunk=chunk, sid=CAPTURE_SID))
    assert number == 102
    echoed = seq.feed_text(
        json.dumps(
            {
                "event": "mark",
                "sequenceNumber": "103",
                "streamSid": CAPTURE_SID,
                "mark": {"name": "Repeat message 0"},
            }
        )
    )
    assert echoed == Mark(stream_sid=CAPTURE_SID, sequence_number=103, name="Repeat message 0")
    stop = Stop(
        stream_sid=CAPTURE_SID,
        sequence_number=104,
        account_sid=first.account_sid,
        call_sid=first.call_sid,
    )
    seq.feed_text(encode_inbound(stop))
    assert seq.state == "stopped"
    assert seq.sequence_gaps == 0


def test_whole_call_survives_a_full_round_trip() -> None:
    prompt = mulaw.encode(bytes(3200))  # 100 ms of PCM silence
    frames = list(mulaw.frames(prompt))
    messages: list[InboundMessage] = [Connected(), start()]
    messages += [media(2 + i, payload=f) for i, f in enumerate(frames)]
    last = 2 + len(frames)
    messages.append(Stop(stream_sid=SID, sequence_number=last, account_sid=ACCOUNT, call_sid=CALL))
    seq = StreamSequence()
    assert [seq.feed_text(encode_inbound(m)) for m in messages] == messages


# --------------------------------------------------------------------------- strictness


def _valid(event: str) -> dict[str, Any]:
    by_event = {type(m).__name__.lower(): m for m in SAMPLES}
    data: dict[str, Any] = json.loads(encode_inbound(by_event[event]))
    return data


def _mutate(event: str, path: str, value: Any = ...) -> str:
    """The valid message for ``event`` with ``path`` (dotted) set to ``value`` or deleted."""
    data = _valid(event)
    *parents, leaf = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    if value is ...:
        del node[leaf]
    else:
        node[leaf] = value
    return json.dumps(data)


MALFORMED_CASES = [
    ("not json", "{nope"),
    ("json array", "[1, 2]"),
    ("json string", '"media"'),
    ("NaN constant", '{"event": "media", "x": NaN}'),
    ("empty text", ""),
    ("no event", '{"streamSid": "MZ1"}'),
    ("event not a string", '{"event": 3}'),
    ("unknown event", '{"event": "hello", "streamSid": "MZ1", "sequenceNumber": "1"}'),
    ("outbound clear sent inbound", encode_outbound(SID, OutClear())),
    ("connected without version", _mutate("connected", "version")),
    ("start without sequenceNumber", _mutate("start", "sequenceNumber")),
    ("start with numeric sequenceNumber", _mutate("start", "sequenceNumber", 1)),
    ("start without streamSid", _mutate("start", "streamSid")),
    ("start with empty streamSid", _mutate("start", "streamSid", "")),
    ("start nested sid differs", _mutate("start", "start.streamSid", "MZother")),
    ("start without nested object", _mutate("start", "start")),
    ("start nested is a list", _mutate("start", "start", [])),
    ("start without callSid", _mutate("start", "start.callSid")),
    ("start without accountSid", _mutate("start", "start.accountSid")),
    ("start tracks not a list", _mutate("start", "start.tracks", "inbound")),
    ("start tracks empty", _mutate("start", "start.tracks", [])),
    ("start unknown track", _mutate("start", "start.tracks", ["sideways"])),
    ("start track not a string", _mutate("start", "start.tracks", [["inbound"]])),
    ("start params not object", _mutate("start", "start.customParameters", ["a"])),
    ("start param not string", _mutate("start", "start.customParameters.attempt", 42)),
    ("start without mediaFormat", _mutate("start", "start.mediaFormat")),
    ("start sampleRate as bool", _mutate("start", "start.mediaFormat.sampleRate", True)),
    ("start sampleRate as float", _mutate("start", "start.mediaFormat.sampleRate", 8000.0)),
    ("start channels zero", _mutate("start", "start.mediaFormat.channels", 0)),
    ("media without payload", _mutate("media", "media.payload")),
    ("media bad base64", _mutate("media", "media.payload", "!!!not base64")),
    ("media unpadded base64", _mutate("media", "media.payload", "/38")),
    ("media non-ascii payload", _mutate("media", "media.payload", "ÿÿÿÿ")),
    ("media numeric chunk", _mutate("media", "media.chunk", 2)),
    ("media numeric timestamp", _mutate("media", "media.timestamp", 20)),
    ("media negative chunk", _mutate("media", "media.chunk", "-2")),
    ("media spaced chunk", _mutate("media", "media.chunk", " 2")),
    ("media underscored timestamp", _mutate("media", "media.timestamp", "1_000")),
    ("media non-ascii digits", _mutate("media", "media.chunk", "٣")),
    ("media huge number", _mutate("media", "media.timestamp", "9" * 40)),
    ("media unknown track", _mutate("media", "media.track", "inbound_track")),
    ("media payload at top level", _mutate("media", "media", "/38=")),
    ("media numeric sequenceNumber", _mutate("media", "sequenceNumber", 2)),
    ("media float sequenceNumber", _mutate("media", "sequenceNumber", "2.0")),
    ("media null streamSid", _mutate("media", "streamSid", None)),
    ("dtmf without digit", _mutate("dtmf", "dtmf.digit")),
    ("dtmf two digits", _mutate("dtmf", "dtmf.digit", "12")),
    ("dtmf letter", _mutate("dtmf", "dtmf.digit", "x")),
    ("dtmf numeric digit", _mutate("dtmf", "dtmf.digit", 1)),
    ("dtmf without track", _mutate("dtmf", "dtmf.track")),
    ("mark without name", _mutate("mark", "mark.name")),
    ("mark empty name", _mutate("mark", "mark.name", "")),
    ("mark object missing", _mutate("mark", "mark")),
    ("stop without callSid", _mutate("stop", "stop.callSid")),
    ("stop without accountSid", _mutate("stop", "stop.accountSid")),
    ("stop fields at top level", _mutate("stop", "stop", ACCOUNT)),
]


@pytest.mark.parametrize(("case", "text"), MALFORMED_CASES, ids=[c for c, _ in MALFORMED_CASES])
def test_malformed_inbound_is_31924(case: str, text: str) -> None:
    with pytest.raises(MalformedMessage) as info:
        parse_inbound(text)
    assert info.value.code == ERROR_MALFORMED, case
    assert info.value.reason


def test_error_codes_are_twilios() -> None:
    assert (ERROR_HANDSHAKE, ERROR_MALFORMED, ERROR_BINARY_FRAME) == (31920, 31924, 31950)


@pytest.mark.parametrize(
    "frame",
    [b"", b"\xff\xfe", encode_inbound(media(2)).encode(), bytearray(b"{}"), memoryview(b"{}")],
)
def test_binary_frames_are_31950(frame: Any) -> None:
    with pytest.raises(MalformedMessage) as info:
        parse_inbound(frame)
    assert info.value.code == ERROR_BINARY_FRAME
    with pytest.raises(MalformedMessage) as out_info:
        parse_outbound(frame)
    assert out_info.value.code == ERROR_BINARY_FRAME


def test_non_text_objects_are_malformed() -> None:
    with pytest.raises(MalformedMessage) as info:
        parse_inbound(None)  # type: ignore[arg-type]
    assert info.value.code == ERROR_MALFORMED


def test_deeply_nested_json_is_malformed_not_a_crash() -> None:
    with pytest.raises(MalformedMessage):
        parse_inbound("[" * 100_000 + "]" * 100_000)


def test_unknown_extra_keys_are_ignored() -> None:
    data = _valid("media")
    data["future"] = {"x": 1}
    data["media"]["extra"] = "y"
    assert parse_inbound(json.dumps(data)) == SAMPLES[2]


def test_sampleRate_other_than_8000_is_reported_not_hidden() -> None:
    data = _valid("start")
    data["start"]["mediaFormat"]["sampleRate"] = 16000
    parsed = parse_inbound(json.dumps(data))
    assert isinstance(parsed, Start)
    assert parsed.media_format.sample_rate == 16000


OUTBOUND_MALFORMED = [
    ("no streamSid", {"event": "clear"}),
    ("numeric streamSid", {"event": "clear", "streamSid": 7}),
    ("unknown event", {"event": "stop", "streamSid": SID}),
    ("media without object", {"event": "media", "streamSid": SID}),
    ("media bad payload", {"event": "media", "streamSid": SID, "media": {"payload": "@"}}),
    ("media payload not a string", {"event": "media", "streamSid": SID, "media": {"payload": 1}}),
    ("mark without name", {"event": "mark", "streamSid": SID, "mark": {}}),
    ("mark numeric name", {"event": "mark", "streamSid": SID, "mark": {"name": 5}}),
    ("not an object", []),
]


@pytest.mark.parametrize(
    ("case", "value"), OUTBOUND_MALFORMED, ids=[c for c, _ in OUTBOUND_MALFORMED]
)
def test_malformed_outbound_is_31924(case: str, value: Any) -> None:
    with pytest.raises(MalformedMessage) as info:
        parse_outbound(json.dumps(value))
    assert info.value.code == ERROR_MALFORMED, case


# --------------------------------------------------------------------------- fuzzing

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
wire_keys = st.sampled_from(
    [
        "event",
        "sequenceNumber",
        "streamSid",
        "media",
        "start",
        "stop",
        "dtmf",
        "mark",
        "payload",
        "chunk",
        "timestamp",
        "track",
        "digit",
        "name",
        "tracks",
        "customParameters",
        "mediaFormat",
        "sampleRate",
        "channels",
        "accountSid",
        "callSid",
        "protocol",
        "version",
    ]
)
twilio_like = st.fixed_dictionaries(
    {"event": st.sampled_from(["connected", "start", "media", "dtmf", "mark", "stop", "clear"])},
    optional={
        "sequenceNumber": st.one_of(st.from_regex(r"-?[0-9]{0,4}", fullmatch=True), json_values),
        "streamSid": st.one_of(st.just(SID), json_values),
        "media": st.dictionaries(wire_keys, json_values, max_size=5),
        "start": st.dictionaries(wire_keys, json_values, max_size=6),
        "dtmf": st.dictionaries(wire_keys, json_values, max_size=3),
        "mark": st.dictionaries(wire_keys, json_values, max_size=2),
        "stop": st.dictionaries(wire_keys, json_values, max_size=3),
    },
)
# FUZZ_EXAMPLES=20000 runs a longer campaign locally.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _only_malformed(text: Any) -> None:
    for parse in (parse_inbound, parse_outbound):
        try:
            parse(text)
        except MalformedMessage as exc:
            assert exc.code in (ERROR_MALFORMED, ERROR_BINARY_FRAME)


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(data: bytes) -> None:
    _only_malformed(data)
    _only_malformed(data.decode("latin-1"))


@FUZZ
@given(st.text(max_size=300))
def test_fuzz_random_text(text: str) -> None:
    _only_malformed(text)


@FUZZ
@given(json_values)
def test_fuzz_random_json(value: Any) -> None:
    _only_malformed(json.dumps(value))


@FUZZ
@given(twilio_like)
def test_fuzz_twilio_shaped_json(value: dict[str, Any]) -> None:
    _only_malformed(json.dumps(value))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*prefix, index))
    return found


@FUZZ
@given(
    st.sampled_from([*SAMPLES, None]),
    st.data(),
)
def test_fuzz_mutated_valid_messages(sample: InboundMessage | None, data: st.DataObject) -> None:
    if sample is None:
        base: Any = json.loads(encode_outbound(SID, OutMedia(payload=FRAME)))
    else:
        base = json.loads(encode_inbound(sample))
    mutated = copy.deepcopy(base)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(mutated)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = mutated
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(json_values)
    _only_malformed(json.dumps(mutated))


sids = st.from_regex(r"MZ[0-9a-f]{32}", fullmatch=True)
counters = st.integers(min_value=0, max_value=10**12)
inbound_messages = st.one_of(
    st.builds(Connected, protocol=st.text(min_size=1), version=st.text(min_size=1)),
    st.builds(
        Start,
        stream_sid=sids,
        sequence_number=counters,
        account_sid=st.text(min_size=1),
        call_sid=st.text(min_size=1),
        tracks=st.lists(st.sampled_from(["inbound", "outbound"]), min_size=1, max_size=2).map(
            tuple
        ),
        custom_parameters=st.dictionaries(st.text(), st.text(), max_size=4),
        media_format=st.builds(
            MediaFormat,
            encoding=st.text(min_size=1),
            sample_rate=st.integers(1, 48000),
            channels=st.integers(1, 2),
        ),
    ),
    st.builds(
        Media,
        stream_sid=sids,
        sequence_number=counters,
        chunk=counters,
        timestamp=counters,
        payload=st.binary(max_size=400),
        track=st.sampled_from(["inbound", "outbound"]),
    ),
    st.builds(
        Dtmf,
        stream_sid=sids,
        sequence_number=counters,
        digit=st.sampled_from(list("0123456789*#ABCD")),
        track=st.text(min_size=1),
    ),
    st.builds(Mark, stream_sid=sids, sequence_number=counters, name=st.text(min_size=1)),
    st.builds(
        Stop,
        stream_sid=sids,
        sequence_number=counters,
        account_sid=st.text(min_size=1),
        call_sid=st.text(min_size=1),
    ),
)


@FUZZ
@given(inbound_messages)
def test_fuzz_inbound_round_trip(msg: InboundMessage) -> None:
    assert parse_inbound(encode_inbound(msg)) == msg


@FUZZ
@given(
    sids,
    st.one_of(
        st.builds(OutMedia, payload=st.binary(max_size=2000)),
        st.builds(OutMark, name=st.text(min_size=1)),
        st.just(OutClear()),
    ),
)
def test_fuzz_outbound_round_trip(sid: str, msg: Any) -> None:
    assert parse_outbound(encode_outbound(sid, msg), expected_stream_sid=sid) == msg


# --------------------------------------------------------------------------- ordering


def _fed(*messages: InboundMessage) -> StreamSequence:
    seq = StreamSequence()
    for msg in messages:
        seq.feed(msg)
    return seq


def test_sequence_happy_path() -> None:
    seq = _fed(*SAMPLES)
    assert seq.state == "stopped"
    assert seq.last_sequence_number == 5
    assert seq.start == SAMPLES[1]
    assert not seq.missing_connected


def test_sequence_accepts_start_without_connected_but_flags_it() -> None:
    seq = _fed(start(), media(2))
    assert seq.missing_connected
    assert seq.state == "started"


@pytest.mark.parametrize(
    ("before", "bad", "reason"),
    [
        ([Connected()], Connected(), "connected"),
        ([Connected(), start()], Connected(), "connected"),
        ([Connected(), start()], start(seq=2), "duplicate start"),
        ([Connected()], media(2), "before start"),
        ([], Mark(stream_sid=SID, sequence_number=1, name="m"), "before start"),
        ([Connected()], SAMPLES[5], "before start"),
        (SAMPLES, media(6), "after stop"),
        (SAMPLES, SAMPLES[5], "after stop"),
        ([Connected(), start(), media(2)], media(2), "not after"),
        ([Connected(), start(), media(3)], media(2), "not after"),
        (
            [Connected(), start(seq=5)],
            Dtmf(stream_sid=SID, sequence_number=5, digit="1"),
            "not after",
        ),
        ([Connected(), start()], media(2, sid="MZ" + "f" * 32), "does not match"),
        ([Connected(), start()], replace(media(2), track="outbound"), "track"),
    ],
)
def test_sequence_violations(
    before: list[InboundMessage], bad: InboundMessage, reason: str
) -> None:
    seq = _fed(*before)
    snapshot = (seq.state, seq.last_sequence_number, seq.start, seq.missing_connected)
    with pytest.raises(ProtocolError) as info:
        seq.feed(bad)
    assert reason in info.value.reason
    assert info.value.code == ERROR_MALFORMED
    assert isinstance(info.value, MalformedMessage)
    assert (seq.state, seq.last_sequence_number, seq.start, seq.missing_connected) == snapshot


def test_sequence_allows_both_tracks_when_announced() -> None:
    outbound = Media(
        stream_sid=SID, sequence_number=3, chunk=1, timestamp=0, payload=FRAME, track="outbound"
    )
    seq = _fed(Connected(), start(tracks=("inbound", "outbound")), media(2), outbound)
    assert seq.last_sequence_number == 3


def test_sequence_counts_gaps_without_failing() -> None:
    seq = _fed(Connected(), start(), media(2), media(5), media(6), media(9))
    assert seq.sequence_gaps == 2
    assert seq.last_sequence_number == 9


def test_sequence_feed_text_reports_malformed_frames() -> None:
    seq = StreamSequence()
    with pytest.raises(MalformedMessage) as info:
        seq.feed_text(b"\x00")
    assert info.value.code == ERROR_BINARY_FRAME
    assert seq.state == "new"


# --------------------------------------------------------------------------- identifiers


@pytest.mark.parametrize(
    ("factory", "prefix"), [(new_stream_sid, "MZ"), (new_call_sid, "CA"), (new_account_sid, "AC")]
)
def test_sid_helpers(factory: Any, prefix: str) -> None:
    made = {factory() for _ in range(50)}
    assert len(made) == 50
    assert all(re.fullmatch(prefix + "[0-9a-f]{32}", sid) for sid in made)
