"""Talking to the service's Media Stream endpoint as the carrier would (no tests here).

The stream tests (binding, faults, a failing call store) all need a live
attempt, the answer TwiML's ``<Parameter>``s that bind a stream to it, a
signed socket and a ``start`` message; these build them against a service
from tests/e2e/harness.py's ``running_service``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import aiohttp
from sqlalchemy import update
from twilio.request_validator import RequestValidator

from ivr.store.models import AttemptStatus, CallAttempt
from ivr.telephony import media_codec as mc
from tests.e2e.harness import PUBLIC, callable_instant, import_rows


async def claimed_attempt(svc, tmp_path: Path, call_sid: str, ref: str = "SB-1") -> int:
    """A live attempt whose call the carrier knows as ``call_sid``."""
    from ivr.calls.dialer import claim_manual_attempt

    await import_rows(
        svc, tmp_path, [f"{ref},Maria Souza,+5511987654321,10.00,2026-11-01,Loja,pt-BR,SP,,"]
    )
    at = await callable_instant(svc.sessions, ref)
    attempt_id, _ = await claim_manual_attempt(svc.sessions, ref, now=at)
    async with svc.sessions() as s, s.begin():
        await s.execute(
            update(CallAttempt)
            .where(CallAttempt.id == attempt_id)
            .values(call_sid=call_sid, status=AttemptStatus.IN_PROGRESS)
        )
    return attempt_id


async def answer_parameters(http, svc, token: str, attempt: str, call_sid: str) -> dict[str, str]:
    """The <Parameter>s of the answer TwiML, as the carrier would fetch it."""
    path = f"/twilio/voice?attempt={attempt}"
    params = {"CallSid": call_sid, "AccountSid": "AC" + "0" * 32, "CallStatus": "in-progress"}
    sig = RequestValidator(token).compute_signature(PUBLIC + path, params)
    async with http.post(
        f"http://127.0.0.1:{svc.port}{path}", data=params, headers={"X-Twilio-Signature": sig}
    ) as r:
        assert r.status == 200, await r.text()
        doc = ET.fromstring(await r.text())
    return {p.get("name", ""): p.get("value", "") for p in doc.iter("Parameter")}


async def open_media_socket(http, svc, token: str) -> aiohttp.ClientWebSocketResponse:
    """A media socket with a valid upgrade signature (the carrier's, or a replay of it)."""
    sig = RequestValidator(token).compute_signature("wss://ivr.test/twilio/media", {})
    return await http.ws_connect(
        f"http://127.0.0.1:{svc.port}/twilio/media", headers={"X-Twilio-Signature": sig}
    )


async def send_start(
    ws, call_sid: str, parameters: dict[str, str], stream_sid: str | None = None
) -> None:
    """``connected`` then ``start`` for ``call_sid``, with the answer's ``parameters``."""
    await ws.send_str(mc.encode_inbound(mc.Connected()))
    await ws.send_str(
        mc.encode_inbound(
            mc.Start(
                stream_sid=stream_sid or mc.new_stream_sid(),
                sequence_number=1,
                account_sid="AC" + "1" * 32,
                call_sid=call_sid,
                custom_parameters=parameters,
            )
        )
    )
