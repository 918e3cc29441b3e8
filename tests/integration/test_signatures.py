"""Every Twilio endpoint accepts what twilio-python's RequestValidator signs and
answers 403 to a missing or wrong signature, the WebSocket upgrade included."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from twilio.request_validator import RequestValidator

from ivr.sandbox.app import Sandbox
from tests import twilio_vector as vector
from tests.e2e.harness import PUBLIC, running_service

ENDPOINTS = ["/twilio/voice", "/twilio/status", "/twilio/amd", "/twilio/recording"]
PARAMS = {
    "CallSid": "CA" + "0" * 32,
    "AccountSid": "AC" + "0" * 32,
    "CallStatus": "ringing",
    "SequenceNumber": "1",
    "AnsweredBy": "human",
    "RecordingSid": "RE" + "0" * 32,
    "RecordingStatus": "completed",
    "RecordingDuration": "3",
}


def test_twilio_reference_vector() -> None:
    """The published test vector, computed by the library the service uses."""
    v = RequestValidator(vector.AUTH_TOKEN)
    assert v.compute_signature(vector.URL, vector.PARAMS) == vector.SIGNATURE


@pytest.fixture
async def service(db_url: str, tts_cache_dir: Path):
    async with Sandbox() as sb, running_service(db_url, sb, tts_cache_dir) as svc:
        yield sb, svc


@pytest.fixture(scope="session")
def tts_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tts-sig")


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_form_endpoints(service, path: str) -> None:
    sb, svc = service
    validator = RequestValidator(sb.auth_token)
    base = f"http://127.0.0.1:{svc.port}"
    good = validator.compute_signature(PUBLIC + path, PARAMS)
    async with aiohttp.ClientSession() as http:
        async with http.post(base + path, data=PARAMS) as r:
            assert r.status == 403, "missing signature"
        async with http.post(
            base + path, data=PARAMS, headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
        ) as r:
            assert r.status == 403, "wrong signature"
        tampered = dict(PARAMS, CallStatus="completed")
        async with http.post(base + path, data=tampered, headers={"X-Twilio-Signature": good}) as r:
            assert r.status == 403, "signature of other parameters"
        # Signed over the proxy's URL instead of the public one: refused.
        local = validator.compute_signature(base + path, PARAMS)
        async with http.post(base + path, data=PARAMS, headers={"X-Twilio-Signature": local}) as r:
            assert r.status == 403, "signature over the internal URL"
        async with http.post(base + path, data=PARAMS, headers={"X-Twilio-Signature": good}) as r:
            assert r.status in (200, 204), await r.text()


async def test_media_websocket_upgrade(service) -> None:
    sb, svc = service
    validator = RequestValidator(sb.auth_token)
    url = f"http://127.0.0.1:{svc.port}/twilio/media"
    good = validator.compute_signature("wss://ivr.test/twilio/media", {})
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"X-Twilio-Signature": "d3Jvbmc="}):
            with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
                await http.ws_connect(url, headers=headers)
            assert exc.value.status == 403
        ws = await http.ws_connect(url, headers={"X-Twilio-Signature": good})
        # Accepted: a malformed first message then ends the call politely.
        await ws.send_str("not json")
        msg = await ws.receive(timeout=10)
        assert msg.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.CLOSING,
        )
        await ws.close()
