"""Status and AMD callbacks: signed, sequenced, and as disorderly as asked."""

from __future__ import annotations

import pytest
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from ivr.sandbox.app import Sandbox
from ivr.sandbox.callee import CallbackFaults, CalleeScript
from ivr.sandbox.config import SandboxConfig
from ivr.sandbox.testkit import ServiceStub
from tests.support.sandbox import FROM, place

ALL_EVENTS = ["initiated", "ringing", "answered", "completed"]
SAY_AND_END = "<Response><Say>Bom dia</Say></Response>"


@pytest.fixture(autouse=True)
def say_and_end(service: ServiceStub) -> None:
    """Every call here greets and ends; the callbacks are what is tested."""
    service.reply("/voice", SAY_AND_END)


async def test_all_events_arrive_signed_in_order(client, service, sandbox):
    call = await place(client, service, "+5511999991001", status_callback_event=ALL_EVENTS)
    await sandbox.wait_for_call_end(call.sid)
    received = service.at("/status")
    assert [r.params["CallStatus"] for r in received] == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert [r.params["SequenceNumber"] for r in received] == ["0", "1", "2", "3"]
    assert all(r.signature_valid for r in received)
    validator = RequestValidator(sandbox.auth_token)
    for r in received:
        # Independent check of the same signature, as the service would do it.
        assert validator.validate(
            service.url + "/status", r.params, r.headers["X-Twilio-Signature"]
        )
        assert r.params["CallSid"] == call.sid
        assert r.params["AccountSid"] == sandbox.account_sid
        assert r.params["From"] == FROM
        assert r.params["To"] == "+5511999991001"
        assert r.params["Direction"] == "outbound-api"
        assert r.params["ApiVersion"] == "2010-04-01"
        assert r.params["CallbackSource"] == "call-progress-events"
        assert r.params["Timestamp"].endswith("+0000")
    assert "CallDuration" not in received[2].params
    assert int(received[3].params["CallDuration"]) >= 0


async def test_default_is_completed_only(client, service, sandbox):
    call = await place(client, service, "+5511999991002")
    await sandbox.wait_for_call_end(call.sid)
    (only,) = service.at("/status")
    assert only.params["CallStatus"] == "completed"
    assert only.params["SequenceNumber"] == "0"


async def test_a_tampered_signature_would_not_validate(client, service, sandbox):
    call = await place(client, service, "+5511999991003")
    await sandbox.wait_for_call_end(call.sid)
    (cb,) = service.at("/status")
    validator = RequestValidator(sandbox.auth_token)
    forged = dict(cb.params, CallStatus="busy")
    assert not validator.validate(service.url + "/status", forged, cb.headers["X-Twilio-Signature"])
    assert not RequestValidator("another-token").validate(
        service.url + "/status", cb.params, cb.headers["X-Twilio-Signature"]
    )


async def test_busy_sends_busy_as_the_completed_event(client, service, sandbox):
    sandbox.add_callee("+5511999991004", CalleeScript(answer="busy", ring_seconds=0.2))
    call = await place(client, service, "+5511999991004", status_callback_event=ALL_EVENTS)
    await sandbox.wait_for_call_end(call.sid)
    statuses = [r.params["CallStatus"] for r in service.at("/status")]
    assert statuses == ["initiated", "ringing", "busy"]
    assert service.at("/status")[-1].params["CallDuration"] == "0"


async def test_reverse_order_on_request(client, service, sandbox):
    sandbox.add_callee("+5511999991005", CalleeScript(callbacks=CallbackFaults(order="reverse")))
    call = await place(client, service, "+5511999991005", status_callback_event=ALL_EVENTS)
    await sandbox.wait_for_call_end(call.sid)
    received = service.at("/status")
    assert [r.params["CallStatus"] for r in received] == [
        "completed",
        "in-progress",
        "ringing",
        "initiated",
    ]
    assert [r.params["SequenceNumber"] for r in received] == ["3", "2", "1", "0"]


async def test_shuffled_and_duplicated_globally(service):
    config = SandboxConfig(speed=20.0, callbacks=CallbackFaults("shuffle", duplicate=True, seed=7))
    async with Sandbox(config) as sb:
        stub = ServiceStub(sb.auth_token)
        async with stub:
            stub.reply("/voice", SAY_AND_END)
            http = AsyncTwilioHttpClient()
            client = Client(sb.account_sid, sb.auth_token, http_client=http)
            client.api.base_url = sb.url
            try:
                call = await place(client, stub, "+5511999991006", status_callback_event=ALL_EVENTS)
            finally:
                await http.close()
            await sb.wait_for_call_end(call.sid)
            seqs = [r.params["SequenceNumber"] for r in stub.at("/status")]
    assert sorted(seqs) == ["0", "0", "1", "1", "2", "2", "3", "3"]
    assert seqs[::2] != ["0", "1", "2", "3"]  # not in order
    assert seqs[::2] == seqs[1::2]  # each one twice in a row


async def test_async_amd_callback_for_a_machine(client, service, sandbox):
    sandbox.add_callee("+5511999991007", CalleeScript(answer="voicemail"))
    service.reply("/voice", '<Response><Pause length="6"/></Response>')
    call = await place(
        client,
        service,
        "+5511999991007",
        machine_detection="Enable",
        async_amd=True,
        async_amd_status_callback=service.url + "/amd",
        async_amd_status_callback_method="POST",
    )
    (amd,) = await service.wait_for("/amd")
    assert amd.signature_valid
    assert amd.params["AnsweredBy"] == "machine_start"
    assert amd.params["CallSid"] == call.sid
    assert amd.params["AccountSid"] == sandbox.account_sid
    assert int(amd.params["MachineDetectionDuration"]) > 0
    voice = service.at("/voice")[0]
    assert "AnsweredBy" not in voice.params  # async: the call did not wait for detection
    await sandbox.wait_for_call_end(call.sid)
    fetched = await client.calls(call.sid).fetch_async()
    assert fetched.answered_by == "machine_start"


async def test_sync_amd_puts_answered_by_on_the_webhook(client, service, sandbox):
    sandbox.add_callee("+5511999991008", CalleeScript(answer="human"))
    call = await place(
        client,
        service,
        "+5511999991008",
        machine_detection="DetectMessageEnd",
        status_callback_event=["answered", "completed"],
    )
    await sandbox.wait_for_call_end(call.sid)
    (voice,) = service.at("/voice")
    assert voice.params["AnsweredBy"] == "human"
    assert "MachineDetectionDuration" in voice.params
    completed = service.at("/status")[-1]
    assert completed.params["AnsweredBy"] == "human"


async def test_detect_message_end_reports_the_beep(client, service, sandbox):
    sandbox.add_callee("+5511999991009", CalleeScript(answer="voicemail", amd_ms=500))
    call = await place(client, service, "+5511999991009", machine_detection="DetectMessageEnd")
    await sandbox.wait_for_call_end(call.sid)
    (voice,) = service.at("/voice")
    assert voice.params["AnsweredBy"] == "machine_end_beep"
    assert voice.params["MachineDetectionDuration"] == "500"
