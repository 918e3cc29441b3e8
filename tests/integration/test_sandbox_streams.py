"""The sandbox's Media Streams client against small WebSocket servers written here.

Each server plays the service's part: it checks the signature on the upgrade,
validates every inbound frame with the codec's strict parser and ordering
checker, and sends prompts, marks and clears the way the service will.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import WSMsgType, web
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from ivr.sandbox.app import Sandbox
from ivr.sandbox.callee import CalleeScript, HangUp, Press, Silence, Speak, WaitForPrompt
from ivr.sandbox.config import FaultConfig, SandboxConfig
from ivr.sandbox.testkit import ServiceStub
from ivr.telephony.media_codec import (
    Dtmf,
    Mark,
    Media,
    OutClear,
    OutMark,
    OutMedia,
    Start,
    Stop,
    StreamSequence,
    encode_outbound,
)
from tests.support.sandbox import FROM, tone


def connect_twiml(ws_url: str, after: str = "<Say>depois</Say>", **params: str) -> str:
    parameters = "".join(f'<Parameter name="{k}" value="{v}"/>' for k, v in params.items())
    return (
        f'<Response><Connect><Stream url="{ws_url}">{parameters}</Stream></Connect>'
        f"{after}</Response>"
    )


class StreamServer:
    """The service's side of one stream: collects what arrives, in order, strictly parsed."""

    def __init__(self) -> None:
        self.raw: list[dict] = []
        self.parsed: list[object] = []
        self.sequence = StreamSequence()
        self.start: Start | None = None
        self.closed_by_peer = asyncio.Event()

    def feed(self, text: str) -> object:
        self.raw.append(json.loads(text))
        msg = self.sequence.feed_text(text)
        self.parsed.append(msg)
        if isinstance(msg, Start):
            self.start = msg
        return msg

    async def until(self, ws: web.WebSocketResponse, predicate) -> object:
        """Read frames until one satisfies ``predicate``; returns it."""
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            parsed = self.feed(msg.data)
            if predicate(parsed):
                return parsed
        self.closed_by_peer.set()
        return None

    async def drain(self, ws: web.WebSocketResponse) -> None:
        await self.until(ws, lambda m: False)

    def of(self, kind: type) -> list:
        return [m for m in self.parsed if isinstance(m, kind)]

    async def send(self, ws: web.WebSocketResponse, msg: OutMedia | OutMark | OutClear) -> None:
        assert self.start is not None
        await ws.send_str(encode_outbound(self.start.stream_sid, msg))


async def call(client, service, to: str):
    return await client.calls.create_async(to=to, from_=FROM, url=service.url + "/voice")


async def test_prompt_mark_dtmf_and_close(client, service, sandbox):
    prompt = tone(1.0)
    server = StreamServer()

    async def handler(ws: web.WebSocketResponse, request: web.Request) -> None:
        await server.until(ws, lambda m: isinstance(m, Start))
        await server.send(ws, OutMedia(payload=prompt[:3000]))
        await server.send(ws, OutMedia(payload=prompt[3000:]))  # chunks of any size
        await server.send(ws, OutMark(name="prompt-end"))
        await server.until(ws, lambda m: isinstance(m, Mark))
        await server.until(ws, lambda m: isinstance(m, Dtmf))
        await ws.close()

    service.websocket("/media", handler)
    service.reply("/voice", connect_twiml(service.ws_url + "/media", debtor="42", locale="pt-BR"))
    sandbox.add_callee(
        "+5511999992001",
        CalleeScript(steps=[WaitForPrompt(min_audible_ms=500, then_silence_ms=2000), Press("1")]),
    )
    created = await call(client, service, "+5511999992001")
    record = await sandbox.wait_for_call_end(created.sid)

    assert service.ws_signatures == [True]
    first = server.raw[0]
    assert first == {"event": "connected", "protocol": "Call", "version": "1.0.0"}
    start_raw = server.raw[1]
    assert start_raw["event"] == "start"
    assert start_raw["sequenceNumber"] == "1"
    assert start_raw["start"]["customParameters"] == {"debtor": "42", "locale": "pt-BR"}
    assert start_raw["start"]["callSid"] == created.sid
    assert start_raw["start"]["accountSid"] == sandbox.account_sid
    assert start_raw["start"]["tracks"] == ["inbound"]
    assert start_raw["start"]["mediaFormat"] == {
        "encoding": "audio/x-mulaw",
        "sampleRate": 8000,
        "channels": 1,
    }
    assert start_raw["streamSid"].startswith("MZ") and len(start_raw["streamSid"]) == 34
    media_raw = [m for m in server.raw if m["event"] == "media"]
    assert media_raw[0]["media"]["chunk"] == "1"
    for m in media_raw:
        assert isinstance(m["sequenceNumber"], str)
        assert isinstance(m["media"]["timestamp"], str)
        assert m["media"]["track"] == "inbound"
    media = server.of(Media)
    assert all(len(m.payload) == 160 for m in media)
    assert [m.chunk for m in media] == list(range(1, len(media) + 1))
    assert all(m.payload == bytes([0xFF]) * 160 for m in media)  # the callee said nothing
    # The mark came back only after the whole prompt had played (50 frames).
    mark = server.of(Mark)[0]
    assert mark.name == "prompt-end"
    frames_before_mark = [m for m in media if m.sequence_number < mark.sequence_number]
    assert len(frames_before_mark) >= len(prompt) // 160
    (dtmf,) = server.of(Dtmf)
    assert dtmf.digit == "1" and dtmf.track == "inbound_track"
    assert dtmf.sequence_number > mark.sequence_number
    # What the callee heard is the prompt, byte for byte.
    assert bytes(record.heard) == prompt
    assert record.marks_received == ["prompt-end"]
    assert record.marks_echoed == ["prompt-end"]
    assert record.digits_sent == ["1"]
    assert record.stream_parameters == [{"debtor": "42", "locale": "pt-BR"}]
    # The service closed the socket: Twilio goes on with the verbs after <Connect>.
    assert record.heard_text == ["depois"]
    assert record.status == "completed"
    assert not server.of(Stop)


async def test_callee_speech_arrives_as_media_frames(client, service, sandbox):
    speech = tone(0.5, freq=300.0, level=0.5)
    server = StreamServer()

    async def handler(ws, request):
        await server.until(ws, lambda m: isinstance(m, Start))
        await server.send(ws, OutMedia(payload=tone(0.4)))
        await server.send(ws, OutMark(name="asked"))
        await server.drain(ws)

    service.websocket("/media", handler)
    service.reply("/voice", connect_twiml(service.ws_url + "/media"))
    sandbox.add_callee(
        "+5511999992002",
        CalleeScript(steps=[WaitForPrompt(min_audible_ms=300), Speak(speech), HangUp()]),
    )
    created = await call(client, service, "+5511999992002")
    record = await sandbox.wait_for_call_end(created.sid)
    inbound = b"".join(m.payload for m in server.of(Media))
    assert speech in inbound
    assert inbound.index(speech) % 160 == 0  # frames start where the speech starts
    # The callee hung up: Twilio sends stop with the call's identity.
    (stop,) = server.of(Stop)
    assert stop.call_sid == created.sid and stop.account_sid == sandbox.account_sid
    assert server.parsed[-1] == stop
    assert record.heard_text == []  # a hang-up does not run the verbs after <Connect>
    assert record.events_of("hangup")[0].detail["by"] == "callee-hangup"


async def test_clear_drops_unplayed_audio_and_returns_marks(client, service, sandbox):
    long_prompt = tone(5.0)
    server = StreamServer()
    marks_after_clear: list[str] = []

    async def handler(ws, request):
        await server.until(ws, lambda m: isinstance(m, Start))
        await server.send(ws, OutMedia(payload=long_prompt))
        await server.send(ws, OutMark(name="long-end"))
        count = 0

        def ten_frames(m):
            nonlocal count
            count += isinstance(m, Media)
            return count >= 10

        await server.until(ws, ten_frames)
        await server.send(ws, OutClear())
        echoed = await server.until(ws, lambda m: isinstance(m, Mark))
        assert isinstance(echoed, Mark)
        marks_after_clear.append(echoed.name)
        await ws.close()

    service.websocket("/media", handler)
    service.reply("/voice", connect_twiml(service.ws_url + "/media", after=""))
    created = await call(client, service, "+5511999992003")
    record = await sandbox.wait_for_call_end(created.sid)
    assert marks_after_clear == ["long-end"]
    assert len(record.clears) == 1
    assert 0 < len(record.heard) < len(long_prompt) // 2
    assert bytes(record.heard) == long_prompt[: len(record.heard)]


async def test_malformed_message_is_31924_and_ends_the_stream(client, service, sandbox):
    server = StreamServer()

    async def handler(ws, request):
        await server.until(ws, lambda m: isinstance(m, Start))
        await ws.send_str('{"event":"media","streamSid":"MZnope","media":{"payload":"AAAA"}}')
        await server.drain(ws)

    service.websocket("/media", handler)
    service.reply("/voice", connect_twiml(service.ws_url + "/media"))
    created = await call(client, service, "+5511999992004")
    record = await sandbox.wait_for_call_end(created.sid)
    assert [code for code, _ in record.errors] == [31924]
    assert server.closed_by_peer.is_set()
    assert record.heard_text == ["depois"]


async def test_binary_frame_is_31950(client, service, sandbox):
    server = StreamServer()

    async def handler(ws, request):
        await server.until(ws, lambda m: isinstance(m, Start))
        await ws.send_bytes(b"\xff" * 160)
        await server.drain(ws)

    service.websocket("/media", handler)
    service.reply("/voice", connect_twiml(service.ws_url + "/media"))
    created = await call(client, service, "+5511999992005")
    record = await sandbox.wait_for_call_end(created.sid)
    assert [code for code, _ in record.errors] == [31950]


async def test_rest_redirect_closes_the_stream_with_stop(client, service, sandbox):
    server = StreamServer()
    started = asyncio.Event()

    async def handler(ws, request):
        await server.until(ws, lambda m: isinstance(m, Start))
        started.set()
        await server.drain(ws)

    service.websocket("/media", handler)
    service.reply("/voice", connect_twiml(service.ws_url + "/media"))
    created = await call(client, service, "+5511999992006")
    await asyncio.wait_for(started.wait(), 10)
    await client.calls(created.sid).update_async(twiml="<Response><Say>agente</Say></Response>")
    record = await sandbox.wait_for_call_end(created.sid)
    assert isinstance(server.parsed[-1], Stop)
    assert record.heard_text == ["agente"]


async def test_public_wss_url_is_rewritten_and_signed_over_the_public_url():
    config = SandboxConfig(speed=20.0)
    async with Sandbox(config) as sb:
        stub = ServiceStub(sb.auth_token, public_base="https://public.example")
        async with stub:
            config.rewrite_stream_base = stub.ws_url
            config.rewrite_base["https://public.example"] = stub.url
            server = StreamServer()

            async def handler(ws, request):
                await server.until(ws, lambda m: isinstance(m, Start))
                await ws.close()

            stub.websocket("/twilio/media", handler)
            stub.reply("/voice", connect_twiml("wss://public.example/twilio/media", after=""))
            http = AsyncTwilioHttpClient()
            client = Client(sb.account_sid, sb.auth_token, http_client=http)
            client.api.base_url = sb.url
            try:
                created = await client.calls.create_async(
                    to="+5511999992007", from_=FROM, url="https://public.example/voice"
                )
            finally:
                await http.close()
            record = await sb.wait_for_call_end(created.sid)
    assert stub.at("/voice")[0].signature_valid  # signed over https://public.example/voice
    assert stub.ws_signatures == [True]  # signed over wss://public.example/twilio/media
    assert record.stream_sids and server.start is not None


async def test_dropped_socket_fault_ends_without_stop():
    config = SandboxConfig(speed=20.0, faults=FaultConfig(drop_stream_after_frames=20))
    async with Sandbox(config) as sb, ServiceStub(sb.auth_token) as stub:
        server = StreamServer()

        async def handler(ws, request):
            await server.drain(ws)

        stub.websocket("/media", handler)
        stub.reply("/voice", connect_twiml(stub.ws_url + "/media"))
        record = sb.start_inbound_call(from_="+5511999992008", to=FROM, url=stub.url + "/voice")
        await sb.wait_for_call_end(record.sid)
    assert server.closed_by_peer.is_set()
    assert len(server.of(Media)) <= 20
    assert not server.of(Stop)
    assert record.events_of("stream-dropped")
    assert record.heard_text == ["depois"]


async def test_wait_for_prompt_ignores_silence_before_the_prompt(client, service, sandbox):
    """The callee presses only after real audio played, not during leading silence."""
    server = StreamServer()

    async def handler(ws, request):
        await server.until(ws, lambda m: isinstance(m, Start))
        await server.send(ws, OutMedia(payload=bytes([0xFF]) * 8000))  # 1 s of silence
        await server.send(ws, OutMedia(payload=tone(0.6)))
        await server.until(ws, lambda m: isinstance(m, Dtmf))
        await ws.close()

    service.websocket("/media", handler)
    service.reply("/voice", connect_twiml(service.ws_url + "/media", after=""))
    sandbox.add_callee(
        "+5511999992009",
        CalleeScript(steps=[WaitForPrompt(min_audible_ms=400, then_silence_ms=300), Press("9")]),
    )
    created = await call(client, service, "+5511999992009")
    record = await sandbox.wait_for_call_end(created.sid)
    media_before_dtmf = [
        m for m in server.of(Media) if m.sequence_number < server.of(Dtmf)[0].sequence_number
    ]
    # 1 s silence + 0.6 s prompt + 0.3 s quiet = at least 95 frames before the key.
    assert len(media_before_dtmf) >= 95
    assert record.events_of("prompt-heard")


async def test_silence_step_then_hangup_sends_stop(client, service, sandbox):
    server = StreamServer()

    async def handler(ws, request):
        await server.drain(ws)

    service.websocket("/media", handler)
    service.reply("/voice", connect_twiml(service.ws_url + "/media"))
    sandbox.add_callee("+5511999992010", CalleeScript(steps=[Silence(3.0), HangUp()]))
    created = await call(client, service, "+5511999992010")
    record = await sandbox.wait_for_call_end(created.sid)
    assert isinstance(server.parsed[-1], Stop)
    # The callee's 3 s run from the answer; the stream saw the part after its start.
    assert 0 < len(server.of(Media)) <= 3 * 50
    assert record.duration == 3


async def test_no_stream_starts_on_a_call_the_callee_already_hung_up(client, service, sandbox):
    """Twilio never starts a Media Stream on a call that has ended: a callee who
    hangs up while the answer TwiML is still on its way gets no ``start``."""
    server = StreamServer()

    async def handler(ws, request):
        await server.drain(ws)

    async def slow_answer(_params):
        await asyncio.sleep(1.0)  # the callee hangs up meanwhile
        return connect_twiml(service.ws_url + "/media")

    service.websocket("/media", handler)
    service.reply("/voice", slow_answer)
    sandbox.add_callee("+5511999992011", CalleeScript(steps=[HangUp()]))
    created = await call(client, service, "+5511999992011")
    record = await sandbox.wait_for_call_end(created.sid)
    await asyncio.sleep(1.5)  # past the answer TwiML
    assert record.status == "completed"
    assert service.ws_signatures == [] and server.start is None
    assert record.stream_sids == []
