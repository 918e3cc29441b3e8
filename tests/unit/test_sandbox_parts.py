"""Sandbox parts without a network: URLs, signatures, records, TwiML parsing, the line."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from ivr.sandbox.__main__ import build_parser, config_from_args
from ivr.sandbox.callbacks import CallbackDispatcher
from ivr.sandbox.callee import CallbackFaults
from ivr.sandbox.config import FaultConfig, SandboxConfig
from ivr.sandbox.dial import parse_nouns
from ivr.sandbox.legs import parse_events
from ivr.sandbox.line import Line
from ivr.sandbox.records import CallbackRecord, SandboxCall, rfc2822
from ivr.sandbox.twiml import TwimlError, parse_twiml, to_websocket_url
from ivr.sandbox.webhooks import SignedPoster, rewrite_url
from tests import twilio_vector as vector

# ---------------------------------------------------------------------- URLs and signatures


@pytest.mark.parametrize(
    ("url", "rewrites", "stream_base", "expected"),
    [
        ("https://ivr.example/twilio/status", {}, None, "https://ivr.example/twilio/status"),
        (
            "https://ivr.example/twilio/status?x=1",
            {"https://ivr.example": "http://127.0.0.1:8080"},
            None,
            "http://127.0.0.1:8080/twilio/status?x=1",
        ),
        (
            "wss://ivr.example/twilio/media",
            {"https://ivr.example": "http://127.0.0.1:8080"},
            None,
            "ws://127.0.0.1:8080/twilio/media",
        ),
        (
            "wss://ivr.example/twilio/media",
            {},
            "ws://127.0.0.1:9000",
            "ws://127.0.0.1:9000/twilio/media",
        ),
        (
            "https://other.example/x",
            {"https://ivr.example": "http://127.0.0.1:8080"},
            None,
            "https://other.example/x",
        ),
        (
            "https://ivr.example/x",
            {"https://ivr.example": "http://127.0.0.1:8080/prefix/"},
            None,
            "http://127.0.0.1:8080/prefix/x",
        ),
    ],
)
def test_rewrite_url(url, rewrites, stream_base, expected):
    assert rewrite_url(url, rewrites, stream_base) == expected


def test_stream_base_applies_to_websockets_only():
    assert rewrite_url("https://a.example/v", {}, "ws://127.0.0.1:1") == "https://a.example/v"


def test_signature_matches_the_published_test_vector():
    poster = SignedPoster(session=None, auth_token=vector.AUTH_TOKEN, rewrites={}, timeout_s=1)  # type: ignore[arg-type]
    assert poster.sign(vector.URL, vector.PARAMS) == vector.SIGNATURE


def test_to_websocket_url():
    assert to_websocket_url("https://a.example/m") == "wss://a.example/m"
    assert to_websocket_url("http://a.example/m") == "ws://a.example/m"


# ---------------------------------------------------------------------- records and config


def test_call_json_has_twilio_fields_and_formats():
    call = SandboxCall(sid="CA" + "1" * 32, account_sid="AC" + "2" * 32, to="+1555", from_="+1666")
    call.start_time = datetime(2010, 8, 31, 20, 36, 29, tzinfo=UTC)
    data = call.to_json()
    for key in (
        "sid",
        "account_sid",
        "to",
        "from",
        "status",
        "direction",
        "start_time",
        "end_time",
        "duration",
        "answered_by",
        "parent_call_sid",
        "uri",
        "api_version",
        "date_created",
        "date_updated",
        "price",
        "price_unit",
        "subresource_uris",
    ):
        assert key in data
    assert data["start_time"] == "Tue, 31 Aug 2010 20:36:29 +0000"
    assert data["duration"] is None and data["price"] is None
    assert data["direction"] == "outbound-api"
    assert data["uri"].endswith(f"/Calls/{call.sid}.json")
    assert data["subresource_uris"]["recordings"].endswith(f"/Calls/{call.sid}/Recordings.json")


def test_rfc2822_converts_to_utc():
    from datetime import timedelta, timezone

    moment = datetime(2024, 1, 2, 12, 0, 0, tzinfo=timezone(timedelta(hours=-3)))
    assert rfc2822(moment) == "Tue, 02 Jan 2024 15:00:00 +0000"
    assert rfc2822(None) is None


def test_parse_events():
    assert parse_events([]) == ("completed",)
    assert parse_events(["initiated", "ringing answered"]) == ("initiated", "ringing", "answered")


def test_fault_config_counts_down():
    faults = FaultConfig()
    assert faults.take_rest_failure() is None
    faults.fail_next(2, status=503)
    assert [faults.take_rest_failure() for _ in range(3)] == [503, 503, None]


def test_clock_speed():
    assert SandboxConfig(speed=20.0).clock_speed == 20.0
    assert SandboxConfig(realtime=False).clock_speed == 100.0
    with pytest.raises(ValueError):
        _ = SandboxConfig(speed=0).clock_speed


def test_cli_config():
    args = build_parser().parse_args(
        ["--port", "9000", "--speed", "5", "--rewrite", "https://a.example=http://127.0.0.1:1"]
    )
    config = config_from_args(args)
    assert args.port == 9000
    assert config.speed == 5.0
    assert config.rewrite_base == {"https://a.example": "http://127.0.0.1:1"}


# ---------------------------------------------------------------------- TwiML


def test_parse_twiml_requires_response_root():
    assert parse_twiml(" <Response><Say>x</Say></Response> ").tag == "Response"
    with pytest.raises(TwimlError) as info:
        parse_twiml("<Foo/>")
    assert info.value.code == 12100
    with pytest.raises(TwimlError):
        parse_twiml("not xml")


def test_dial_nouns():
    el = ET.fromstring(
        "<Dial><Number url='/w'>+1555</Number><Client>ana</Client>"
        "<Client><Identity>bia</Identity></Client><Sip>sip:x@y.example</Sip><Queue>q</Queue></Dial>"
    )
    nouns = parse_nouns(el)
    assert [(n.kind, n.target) for n in nouns] == [
        ("Number", "+1555"),
        ("Client", "client:ana"),
        ("Client", "client:bia"),
        ("Sip", "sip:x@y.example"),
        ("Queue", "q"),
    ]
    assert nouns[0].attrs == {"url": "/w"}
    assert [(n.kind, n.target) for n in parse_nouns(ET.fromstring("<Dial>+1777</Dial>"))] == [
        ("Number", "+1777")
    ]


# ---------------------------------------------------------------------- callbacks


class FakePoster:
    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []

    async def send(self, kind, url, params, method="POST", records=None):
        self.sent.append(dict(params))
        record = CallbackRecord(kind=kind, url=url, method=method, params=dict(params), status=204)
        if records is not None:
            records.append(record)
        return record


def _call(events: tuple[str, ...]) -> SandboxCall:
    call = SandboxCall(sid="CA" + "3" * 32, account_sid="AC" + "4" * 32, to="+1", from_="+2")
    call.status_callback = "https://svc.example/status"
    call.status_callback_events = events
    return call


@pytest.mark.parametrize(
    ("faults", "expected"),
    [
        (CallbackFaults(), ["0", "1", "2"]),
        (CallbackFaults(order="reverse"), ["2", "1", "0"]),
        (CallbackFaults(duplicate=True), ["0", "0", "1", "1", "2", "2"]),
    ],
)
async def test_dispatcher_order(faults, expected):
    poster = FakePoster()
    call = _call(("initiated", "answered", "completed"))
    dispatcher = CallbackDispatcher(poster, call, faults)  # type: ignore[arg-type]
    for event, status in (
        ("initiated", "initiated"),
        ("ringing", "ringing"),
        ("answered", "in-progress"),
        ("completed", "completed"),
    ):
        dispatcher.emit(event, {"CallStatus": status})
    await dispatcher.flush()
    assert [p["SequenceNumber"] for p in poster.sent] == expected
    assert "ringing" not in [p["CallStatus"] for p in poster.sent]  # not requested
    assert len(call.status_callbacks) == len(expected)


async def test_dispatcher_without_callback_url_sends_nothing():
    poster = FakePoster()
    call = _call(("completed",))
    call.status_callback = None
    dispatcher = CallbackDispatcher(poster, call, CallbackFaults())  # type: ignore[arg-type]
    dispatcher.emit("completed", {"CallStatus": "completed"})
    await dispatcher.flush()
    assert poster.sent == []


# ---------------------------------------------------------------------- the line


class FakeStream:
    def __init__(self) -> None:
        self.log: list[tuple[str, object]] = []

    async def send_media(self, frame: bytes) -> None:
        self.log.append(("media", frame))

    async def send_mark(self, name: str) -> None:
        self.log.append(("mark", name))

    async def send_dtmf(self, digit: str) -> None:
        self.log.append(("dtmf", digit))


def loud(frames: int) -> bytes:
    return bytes([0x10, 0x90]) * (80 * frames)


@pytest.fixture
async def line():
    call = SandboxCall(sid="CA" + "5" * 32, account_sid="AC" + "6" * 32, to="+1", from_="+2")
    line = Line(call, speed=200.0, audible_threshold_dbfs=-45.0)
    line.stream = FakeStream()
    line.start()
    yield line
    await line.close()


async def test_mark_is_echoed_after_its_audio_played(line):
    stream = line.stream
    line.queue_audio(loud(5))
    line.queue_mark("end")
    assert await line.wait_until(lambda: line.call.marks_echoed == ["end"], 5)
    kinds = [k for k, _ in stream.log]
    assert kinds.index("mark") >= 5  # five frames of audio played first
    assert bytes(line.call.heard) == loud(5)
    assert line.audible_ms == 100


async def test_clear_echoes_pending_marks_at_once(line):
    line.queue_audio(loud(500))
    line.queue_mark("long")
    await line.wait_until(lambda: line.media_ms >= 100, 5)
    await line.clear()
    assert line.call.marks_echoed == ["long"]
    played = len(line.call.heard)
    await line.sleep(0.2)
    assert len(line.call.heard) == played  # nothing more plays after the clear
    assert line.playback_idle


async def test_speak_pads_the_last_frame_and_resolves(line):
    stream = line.stream
    await asyncio.wait_for(line.speak(b"\x00" * 200), 5)
    voiced = [f for k, f in stream.log if k == "media" and f != bytes([0xFF]) * 160]
    assert voiced == [b"\x00" * 160, b"\x00" * 40 + bytes([0xFF]) * 120]


async def test_clip_counts_as_audible_then_silence_runs(line):
    done = await asyncio.wait_for(line.play_clip(200), 5)
    assert done is True
    assert line.audible_ms == 200
    await line.sleep(0.1)
    assert line.silence_run_ms >= 100


async def test_closing_wakes_waiters(line):
    waiter = asyncio.create_task(line.wait_until(lambda: False, None))
    await asyncio.sleep(0.01)
    await line.close()
    assert await asyncio.wait_for(waiter, 1) is False
