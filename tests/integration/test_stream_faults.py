"""A malformed stream message ends that call politely; the process keeps serving."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
from sqlalchemy import select

from ivr.sandbox.app import Sandbox
from ivr.store.models import CallAttempt, CallEvent
from ivr.telephony import media_codec as mc
from tests.e2e.harness import callable_instant, import_rows, running_service
from tests.support.media_stream import answer_parameters, open_media_socket, send_start


async def _attempt_id(svc, tmp_path: Path) -> int:
    from ivr.calls.dialer import claim_manual_attempt

    await import_rows(
        svc, tmp_path, ["F-1,Maria Souza,+5511987654321,10.00,2026-11-01,Loja,pt-BR,SP,,"]
    )
    at = await callable_instant(svc.sessions, "F-1")
    attempt_id, _ = await claim_manual_attempt(svc.sessions, "F-1", now=at)
    return attempt_id


async def test_garbage_mid_call_ends_it_politely(db_url: str, tmp_path: Path, tts_cache: Path):
    async with Sandbox() as sb, running_service(db_url, sb, tts_cache) as svc:
        attempt_id = await _attempt_id(svc, tmp_path)
        stream_sid, call_sid = mc.new_stream_sid(), mc.new_call_sid()
        async with aiohttp.ClientSession() as http:
            # The carrier fetches the answer TwiML first: its <Parameter>s bind the stream.
            parameters = await answer_parameters(
                http, svc, sb.auth_token, str(attempt_id), call_sid
            )
            ws = await open_media_socket(http, svc, sb.auth_token)
            await send_start(ws, call_sid, parameters, stream_sid)
            # The greeting starts; then a message Twilio would never send.
            first = json.loads((await ws.receive(timeout=20)).data)
            assert first["event"] == "media"
            await ws.send_str('{"event": "media", "sequenceNumber": 3}')
            audio = bytearray()
            async with asyncio.timeout(30):
                while True:
                    msg = await ws.receive()
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        break
                    out = mc.parse_outbound(msg.data, expected_stream_sid=stream_sid)
                    if isinstance(out, mc.OutMedia):
                        audio += out.payload
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert len(audio) > 8000, "a spoken apology, not a silent hang-up"
            await ws.close()
            # The process still serves: the health check and a new socket work.
            async with http.get(f"http://127.0.0.1:{svc.port}/healthz") as r:
                assert r.status == 200
            ws2 = await open_media_socket(http, svc, sb.auth_token)
            await ws2.send_bytes(b"\x00\x01")  # binary frames are an error too
            msg = await ws2.receive(timeout=10)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            await ws2.close()
        async with svc.sessions() as s:
            errors = (
                await s.scalars(
                    select(CallEvent).where(
                        CallEvent.attempt_id == attempt_id, CallEvent.kind == "stream_error"
                    )
                )
            ).all()
            assert [e.data["code"] for e in errors] == [31924]
            attempt = await s.get(CallAttempt, attempt_id)
            assert attempt is not None
