"""The sandbox's Recordings: made for ``Record=true`` calls, as Twilio makes them.

Driven by the real twilio-python client: the recording is created when the
call is answered, its status callbacks are signed and come in order after the
call's own, it can be fetched and listed (by account and by call), its media
is a WAV of the call's audio, and a deleted one is gone (204, then 404 20404).
"""

from __future__ import annotations

import io
import re
import wave

import aiohttp
import numpy as np
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from ivr.sandbox.callee import CalleeScript, Speak
from ivr.sandbox.testkit import ServiceStub
from tests.support.sandbox import place, tone

PAUSE = '<Response><Pause length="2"/></Response>'
RE_SID = re.compile(r"RE[0-9a-f]{32}")


@pytest.fixture(autouse=True)
def pause_and_end(service: ServiceStub) -> None:
    service.reply("/voice", PAUSE)


async def recorded_call(client, service, sandbox, to, **kwargs):
    """A recorded call whose callee says something for a second, then its end."""
    sandbox.add_callee(to, CalleeScript(steps=[Speak(tone(1.0))]))
    call = await place(
        client,
        service,
        to,
        record=True,
        recording_status_callback=service.url + "/recording",
        **kwargs,
    )
    return await sandbox.wait_for_call_end(call.sid)


async def test_callbacks_are_signed_in_order_and_after_the_call_ended(client, service, sandbox):
    call = await recorded_call(
        client,
        service,
        sandbox,
        "+5511999995001",
        recording_status_callback_event=["in-progress", "completed"],
    )
    received = service.at("/recording")
    assert [r.params["RecordingStatus"] for r in received] == ["in-progress", "completed"]
    validator = RequestValidator(sandbox.auth_token)
    for r in received:
        assert r.signature_valid
        assert validator.validate(
            service.url + "/recording", r.params, r.headers["X-Twilio-Signature"]
        )
    started, done = (r.params for r in received)
    (sid,) = call.recording_sids
    assert RE_SID.fullmatch(sid)
    for params in (started, done):
        assert params["AccountSid"] == sandbox.account_sid
        assert params["CallSid"] == call.sid
        assert params["RecordingSid"] == sid
        assert params["RecordingUrl"] == (
            f"{sandbox.url}/2010-04-01/Accounts/{sandbox.account_sid}/Recordings/{sid}"
        )
        assert params["RecordingChannels"] == "1"
        assert params["RecordingSource"] == "OutboundAPI"
        assert params["RecordingStartTime"].endswith("+0000")
        assert params["ErrorCode"] == "0"
    assert "RecordingDuration" not in started
    assert int(done["RecordingDuration"]) == call.duration >= 2
    # The recording is processed once the call is over: its callback comes last.
    kinds = [
        (cb.kind, cb.params.get("CallStatus") or cb.params.get("RecordingStatus"))
        for cb in call.callbacks
    ]
    assert kinds.index(("status", "completed")) < kinds.index(("recording", "completed"))


async def test_completed_is_the_default_event(client, service, sandbox):
    await recorded_call(client, service, sandbox, "+5511999995002")
    assert [r.params["RecordingStatus"] for r in service.at("/recording")] == ["completed"]


async def test_fetch_and_list_by_account_and_by_call(client, service, sandbox):
    call = await recorded_call(client, service, sandbox, "+5511999995003")
    (sid,) = call.recording_sids
    fetched = await client.recordings(sid).fetch_async()
    assert fetched.sid == sid and fetched.call_sid == call.sid
    assert fetched.account_sid == sandbox.account_sid
    assert fetched.status == "completed"
    assert int(fetched.duration) == call.duration
    assert fetched.channels == 1 and fetched.source == "OutboundAPI"
    assert fetched.start_time is not None and fetched.error_code is None
    assert fetched.uri == f"/2010-04-01/Accounts/{sandbox.account_sid}/Recordings/{sid}.json"
    under_call = await client.calls(call.sid).recordings(sid).fetch_async()
    assert under_call.sid == sid
    assert [r.sid for r in await client.calls(call.sid).recordings.list_async()] == [sid]
    assert [r.sid for r in await client.recordings.list_async(call_sid=call.sid)] == [sid]
    other = await recorded_call(client, service, sandbox, "+5511999995013")
    every = {r.sid for r in await client.recordings.list_async()}
    assert every == {sid, *other.recording_sids}


async def test_media_is_a_wav_of_the_calls_audio(client, service, sandbox):
    call = await recorded_call(client, service, sandbox, "+5511999995004")
    (done,) = service.at("/recording")
    url = done.params["RecordingUrl"]
    async with aiohttp.ClientSession() as http:  # media needs no credentials, as on Twilio
        for suffix in (".wav", ""):
            async with http.get(url + suffix) as response:
                assert response.status == 200
                assert response.content_type == "audio/x-wav"
                body = await response.read()
            with wave.open(io.BytesIO(body)) as w:
                assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
                assert round(w.getnframes() / 8000) == call.duration
                samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
            # The callee's second of tone is in it, and so is the silence after it.
            loud = np.abs(samples.astype(np.int32)) > 3000
            assert 0.3 < loud.mean() < 0.7, loud.mean()
        async with http.get(url + ".mp3") as response:
            if response.status != 501:  # 501: no sox on this machine
                assert response.status == 200 and response.content_type == "audio/mpeg"
                assert len(await response.read()) > 1000


async def test_dual_channels_keep_the_parties_apart(client, service, sandbox):
    call = await recorded_call(
        client, service, sandbox, "+5511999995005", recording_channels="dual"
    )
    (sid,) = call.recording_sids
    assert (await client.recordings(sid).fetch_async()).channels == 2
    (done,) = service.at("/recording")
    assert done.params["RecordingChannels"] == "2"
    async with aiohttp.ClientSession() as http, http.get(done.params["RecordingUrl"]) as resp:
        body = await resp.read()
    with wave.open(io.BytesIO(body)) as w:
        assert w.getnchannels() == 2
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    callee, heard = np.abs(frames.astype(np.int32)).max(axis=0)
    assert callee > 3000 and heard < 100  # the service said nothing: a <Pause>


async def test_delete_answers_204_then_the_recording_is_gone(client, service, sandbox):
    call = await recorded_call(client, service, sandbox, "+5511999995006")
    (sid,) = call.recording_sids
    path = f"/2010-04-01/Accounts/{sandbox.account_sid}/Recordings/{sid}"
    auth = {"Authorization": aiohttp.encode_basic_auth(sandbox.account_sid, sandbox.auth_token)}
    async with aiohttp.ClientSession() as http:
        async with http.delete(sandbox.url + path + ".json", headers=auth) as response:
            assert response.status == 204
        async with http.delete(sandbox.url + path + ".json", headers=auth) as response:
            assert response.status == 404
            assert (await response.json())["code"] == 20404
        async with http.get(sandbox.url + path + ".wav") as response:
            assert response.status == 404
    with pytest.raises(TwilioRestException) as info:
        await client.recordings(sid).fetch_async()
    assert info.value.status == 404 and info.value.code == 20404
    assert await client.calls(call.sid).recordings.list_async() == []


async def test_the_twilio_client_deletes(client, service, sandbox):
    call = await recorded_call(client, service, sandbox, "+5511999995007")
    (sid,) = call.recording_sids
    assert await client.recordings(sid).delete_async() is True
    with pytest.raises(TwilioRestException) as info:
        await client.recordings(sid).delete_async()
    assert info.value.status == 404 and info.value.code == 20404


async def test_no_record_no_recording(client, service, sandbox):
    sandbox.add_callee("+5511999995008", CalleeScript(steps=[Speak(tone(0.5))]))
    call = await place(
        client, service, "+5511999995008", recording_status_callback=service.url + "/recording"
    )
    ended = await sandbox.wait_for_call_end(call.sid)
    assert ended.recording is None and ended.recording_sids == []
    assert await client.recordings.list_async() == []
    assert service.at("/recording") == []


async def test_an_unanswered_call_is_not_recorded(client, service, sandbox):
    sandbox.add_callee("+5511999995009", CalleeScript(answer="busy", ring_seconds=0.2))
    call = await place(
        client,
        service,
        "+5511999995009",
        record=True,
        recording_status_callback=service.url + "/recording",
    )
    ended = await sandbox.wait_for_call_end(call.sid)
    assert ended.status == "busy" and ended.recording_sids == []
    assert service.at("/recording") == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"recording_channels": "stereo"}, "RecordingChannels"),
        ({"recording_status_callback_event": ["started"]}, "RecordingStatusCallbackEvent"),
    ],
)
async def test_invalid_recording_parameters_are_refused(client, service, params, message):
    with pytest.raises(TwilioRestException) as info:
        await place(client, service, "+5511999995010", record=True, **params)
    assert info.value.status == 400 and message in info.value.msg


async def test_an_invalid_callback_url_records_without_callbacks(client, service, sandbox):
    sandbox.add_callee("+5511999995011", CalleeScript(steps=[Speak(tone(0.5))]))
    call = await place(
        client, service, "+5511999995011", record=True, recording_status_callback="not a url"
    )
    ended = await sandbox.wait_for_call_end(call.sid)
    assert len(ended.recording_sids) == 1
    assert [code for code, _ in ended.errors] == [13256]
    assert ended.callbacks_of("recording") == []
