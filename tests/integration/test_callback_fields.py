"""Twilio callbacks: signed over exactly what arrived, and 4xx for absurd values.

A field sent twice is refused with 400 naming it (the check and the handler
can no longer read different values); values Twilio never sends get 400
naming the field, never a 5xx; status callbacks without SequenceNumber still
end the attempt with its final status, whatever the order.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlalchemy import func, select, update
from twilio.request_validator import RequestValidator

from ivr.sandbox.app import Sandbox
from ivr.store.models import AttemptStatus, CallAttempt, CallEvent
from ivr.telephony import media_codec as mc
from tests.e2e.harness import PUBLIC, callable_instant, import_rows, running_service

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def live(db_url: str, tmp_path: Path, tts_cache: Path):
    """A running service with one ringing attempt whose CallSid is known."""
    from ivr.calls.dialer import claim_manual_attempt

    async with Sandbox() as sb, running_service(db_url, sb, tts_cache) as svc:
        await import_rows(
            svc, tmp_path, ["CF-1,Maria Souza,+5511987654321,10.00,2026-11-01,Loja,pt-BR,SP,,"]
        )
        at = await callable_instant(svc.sessions, "CF-1")
        attempt_id, _ = await claim_manual_attempt(svc.sessions, "CF-1", now=at)
        sid = mc.new_call_sid()
        async with svc.sessions() as s, s.begin():
            await s.execute(
                update(CallAttempt)
                .where(CallAttempt.id == attempt_id)
                .values(call_sid=sid, status=AttemptStatus.RINGING)
            )
        async with aiohttp.ClientSession() as http:
            yield sb, svc, http, attempt_id, sid


async def _post(http, svc, token: str, path: str, pairs: list[tuple[str, str]], signed=None):
    """POST ``pairs`` (repeats allowed) signed over ``signed`` pairs (default: all of them)."""
    validator = RequestValidator(token)
    signed_params: dict[str, str] = dict(signed if signed is not None else pairs)
    sig = validator.compute_signature(PUBLIC + path, signed_params)
    async with http.post(
        f"http://127.0.0.1:{svc.port}{path}",
        data=urlencode(pairs),
        headers={"X-Twilio-Signature": sig, "Content-Type": FORM},
    ) as r:
        return r.status, await r.text()


async def _status_of(svc, attempt_id: int) -> AttemptStatus:
    async with svc.sessions() as s:
        attempt = await s.get(CallAttempt, attempt_id)
        assert attempt is not None
        return attempt.status


@pytest.mark.parametrize(
    ("path", "field", "forged"),
    [
        ("/twilio/status", "CallStatus", "completed"),
        ("/twilio/status", "AnsweredBy", "machine_start"),
        ("/twilio/status", "CallSid", "CA" + "f" * 32),
        ("/twilio/amd", "AnsweredBy", "machine_start"),
        ("/twilio/amd", "CallSid", "CA" + "f" * 32),
        ("/twilio/voice", "CallSid", "CA" + "f" * 32),
    ],
)
async def test_prepended_duplicate_is_refused(live, path, field, forged) -> None:
    """The captured, validly signed callback with a forged copy of a field in front."""
    sb, svc, http, attempt_id, sid = live
    genuine = [
        ("CallSid", sid),
        ("AccountSid", sb.account_sid),
        ("CallStatus", "ringing"),
        ("SequenceNumber", "1"),
        ("AnsweredBy", "human"),
    ]
    url = f"{path}?attempt={attempt_id}"
    forged_pairs = [(field, forged), ("SequenceNumber", "1000"), *genuine]
    status, body = await _post(http, svc, sb.auth_token, url, forged_pairs, signed=genuine)
    assert status == 400, body
    assert json.loads(body)["errors"][0]["field"] in (field, "SequenceNumber")
    assert await _status_of(svc, attempt_id) is AttemptStatus.RINGING
    async with svc.sessions() as s:
        attempt = await s.get(CallAttempt, attempt_id)
        assert attempt is not None and attempt.answered_by is None
    # The genuine callback itself still works.
    status, body = await _post(http, svc, sb.auth_token, url, genuine)
    assert status in (200, 204), body


@pytest.mark.parametrize(
    ("path", "changes", "field"),
    [
        ("/twilio/status", {"SequenceNumber": str(2**31)}, "SequenceNumber"),
        ("/twilio/status", {"SequenceNumber": "x1"}, "SequenceNumber"),
        ("/twilio/status", {"SequenceNumber": "١"}, "SequenceNumber"),
        ("/twilio/status", {"CallDuration": "-5"}, "CallDuration"),
        ("/twilio/status", {"CallDuration": "9" * 25}, "CallDuration"),
        ("/twilio/status", {"AnsweredBy": "robot" * 20}, "AnsweredBy"),
        ("/twilio/status", {"CallStatus": "exploded"}, "CallStatus"),
        ("/twilio/status", {"CallSid": "CA" + "x" * 300}, "CallSid"),
        ("/twilio/status", {"Timestamp": "yesterday-ish"}, "Timestamp"),
        ("/twilio/amd", {"AnsweredBy": "alien"}, "AnsweredBy"),
        ("/twilio/status?attempt=%C2%B2", {}, "attempt"),
        ("/twilio/status?attempt=" + "9" * 30, {}, "attempt"),
        ("/twilio/status?attempt=" + str(2**31), {}, "attempt"),
        ("/twilio/amd?attempt=%C2%B2", {}, "attempt"),
        ("/twilio/voice?attempt=" + str(2**31), {}, "attempt"),
    ],
)
async def test_absurd_values_get_400_naming_the_field(live, path, changes, field) -> None:
    sb, svc, http, attempt_id, sid = live
    params = {
        "CallSid": sid,
        "AccountSid": sb.account_sid,
        "CallStatus": "completed",
        "SequenceNumber": "3",
        "CallDuration": "12",
        **changes,
    }
    url = path if "?" in path else f"{path}?attempt={attempt_id}"
    status, body = await _post(http, svc, sb.auth_token, url, list(params.items()))
    assert status == 400, body
    assert json.loads(body)["errors"][0]["field"] == field
    assert await _status_of(svc, attempt_id) is AttemptStatus.RINGING


@pytest.mark.parametrize(
    "order", [["ringing", "in-progress", "completed"], ["completed", "in-progress", "ringing"]]
)
async def test_without_sequence_number_the_final_status_wins(live, order) -> None:
    sb, svc, http, attempt_id, sid = live
    url = f"/twilio/status?attempt={attempt_id}"
    stamps = {
        "ringing": "Mon, 23 Nov 2026 12:00:00 +0000",
        "in-progress": "Mon, 23 Nov 2026 12:00:05 +0000",
        "completed": "Mon, 23 Nov 2026 12:01:05 +0000",
    }
    for call_status in [*order, order[0]]:  # the first one once more: a retry
        params = {"CallSid": sid, "CallStatus": call_status, "Timestamp": stamps[call_status]}
        if call_status == "completed":
            params["CallDuration"] = "60"
        status, body = await _post(http, svc, sb.auth_token, url, list(params.items()))
        assert status == 204, body
    async with svc.sessions() as s:
        attempt = await s.get(CallAttempt, attempt_id)
        assert attempt is not None
        assert attempt.status is AttemptStatus.COMPLETED
        assert attempt.duration_s == 60
        events = (
            await s.scalars(
                select(CallEvent).where(
                    CallEvent.attempt_id == attempt_id, CallEvent.kind == "status"
                )
            )
        ).all()
        assert sorted(e.data["status"] for e in events) == ["completed", "in-progress", "ringing"]


def _recording_params(sb, sid: str, status: str, **changes: str) -> dict[str, str]:
    """A recording status callback as Twilio sends it."""
    params = {
        "AccountSid": sb.account_sid,
        "CallSid": sid,
        "RecordingSid": "RE" + "a" * 32,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{sb.account_sid}"
        f"/Recordings/RE{'a' * 32}",
        "RecordingStatus": status,
        "RecordingChannels": "1",
        "RecordingSource": "OutboundAPI",
        "RecordingStartTime": "Mon, 23 Nov 2026 12:00:05 +0000",
        "ErrorCode": "0",
    }
    if status != "in-progress":
        params["RecordingDuration"] = "42"
    return params | changes


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"RecordingSid": "CA" + "a" * 32}, "RecordingSid"),
        ({"RecordingSid": ""}, "RecordingSid"),
        ({"RecordingStatus": "deleted"}, "RecordingStatus"),  # only ever ours
        ({"RecordingStatus": "paused"}, "RecordingStatus"),
        ({"RecordingDuration": "-1"}, "RecordingDuration"),
        ({"RecordingDuration": str(10**9)}, "RecordingDuration"),
        ({"RecordingUrl": "javascript:alert(1)"}, "RecordingUrl"),
        ({"RecordingChannels": "3"}, "RecordingChannels"),
        ({"RecordingSource": "Telepathy"}, "RecordingSource"),
        ({"RecordingStartTime": "soon"}, "RecordingStartTime"),
        ({"ErrorCode": "x"}, "ErrorCode"),
        ({"CallSid": "CA123"}, "CallSid"),
    ],
)
async def test_absurd_recording_values_get_400_naming_the_field(live, changes, field) -> None:
    sb, svc, http, attempt_id, sid = live
    params = _recording_params(sb, sid, "completed", **changes)
    url = f"/twilio/recording?attempt={attempt_id}"
    status, body = await _post(http, svc, sb.auth_token, url, list(params.items()))
    assert status == 400, body
    assert json.loads(body)["errors"][0]["field"] == field
    async with svc.sessions() as s:
        attempt = await s.get(CallAttempt, attempt_id)
        assert attempt is not None and attempt.recording_sid is None


@pytest.mark.parametrize("order", [["in-progress", "completed"], ["completed", "in-progress"]])
async def test_recording_callbacks_in_any_order_and_twice(live, order) -> None:
    sb, svc, http, attempt_id, sid = live
    url = f"/twilio/recording?attempt={attempt_id}"
    for rec_status in [*order, order[0]]:  # the first one once more: a retry
        params = _recording_params(sb, sid, rec_status)
        status, body = await _post(http, svc, sb.auth_token, url, list(params.items()))
        assert status == 204, body
    async with svc.sessions() as s:
        attempt = await s.get(CallAttempt, attempt_id)
        assert attempt is not None
        assert attempt.recording_sid == "RE" + "a" * 32
        assert attempt.recording_status == "completed"
        assert attempt.recording_duration_s == 42
        assert attempt.recording_url is not None and attempt.recording_url.endswith("a" * 32)
        assert attempt.recording_started_at is not None
        assert attempt.recording_started_at.isoformat().startswith("2026-11-23T12:00:05")
        events = (
            await s.scalars(
                select(CallEvent).where(
                    CallEvent.attempt_id == attempt_id, CallEvent.kind == "recording_status"
                )
            )
        ).all()
        assert sorted(e.data["status"] for e in events) == ["completed", "in-progress"]
    # A second recording of the same call is not stored over the first.
    other = _recording_params(sb, sid, "completed", RecordingSid="RE" + "b" * 32)
    status, body = await _post(http, svc, sb.auth_token, url, list(other.items()))
    assert status == 204, body
    async with svc.sessions() as s:
        attempt = await s.get(CallAttempt, attempt_id)
        assert attempt is not None and attempt.recording_sid == "RE" + "a" * 32


async def test_a_recording_of_an_unknown_call_is_ignored(live) -> None:
    sb, svc, http, _attempt_id, _sid = live
    params = _recording_params(sb, mc.new_call_sid(), "completed")
    status, body = await _post(http, svc, sb.auth_token, "/twilio/recording", list(params.items()))
    assert status == 204, body
    status, body = await _post(
        http, svc, sb.auth_token, "/twilio/recording?attempt=999999", list(params.items())
    )
    assert status == 204, body


async def test_a_status_of_an_unknown_attempt_or_call_is_ignored(live) -> None:
    """204 and nothing written: an attempt id that does not exist (the foreign
    key refuses the event), or no id and a CallSid nobody placed."""
    sb, svc, http, attempt_id, sid = live
    params = [("CallSid", sid), ("CallStatus", "completed"), ("SequenceNumber", "3")]
    status, body = await _post(http, svc, sb.auth_token, "/twilio/status?attempt=999999", params)
    assert status == 204, body
    stranger = [("CallSid", mc.new_call_sid()), ("CallStatus", "completed")]
    status, body = await _post(http, svc, sb.auth_token, "/twilio/status", stranger)
    assert status == 204, body
    async with svc.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(CallEvent)) == 0
    assert await _status_of(svc, attempt_id) is AttemptStatus.RINGING


@pytest.mark.parametrize(
    ("path", "pairs", "field"),
    [
        ("/agents/dial-status?transfer=1", [("DialCallStatus", "completed")] * 2, "DialCallStatus"),
        (
            "/agents/queue-result?transfer=1",
            [("QueueResult", "hangup"), ("QueueResult", "bridged")],
            "QueueResult",
        ),
        ("/agents/queue-wait?transfer=%C2%B2", [("QueuePosition", "1")], "transfer"),
        ("/agents/queue-wait?transfer=1", [("QueuePosition", str(2**40))], "QueuePosition"),
        ("/agents/queue-offer?transfer=1", [("Digits", "1; DROP")], "Digits"),
        ("/agents/whisper?transfer=1&transfer=2", [("CallSid", "CA" + "0" * 32)], "transfer"),
        ("/agents/dial-status?transfer=1", [("DialCallStatus", "maybe")], "DialCallStatus"),
        ("/agents/dial-status?transfer=1&agent=-2", [("DialCallStatus", "busy")], "agent"),
        ("/agents/whisper?transfer=1&agent=1&agent=2", [("CallSid", "CA" + "0" * 32)], "agent"),
    ],
)
async def test_agent_callbacks_use_the_same_check(live, path, pairs, field) -> None:
    sb, svc, http, _attempt_id, _sid = live
    status, body = await _post(http, svc, sb.auth_token, path, pairs)
    assert status == 400, body
    assert json.loads(body)["errors"][0]["field"] == field
    # Unsigned: 403 before anything else.
    async with http.post(f"http://127.0.0.1:{svc.port}{path}", data=pairs) as r:
        assert r.status == 403
