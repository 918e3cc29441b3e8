"""The sandbox's Calls REST resource, driven by the real twilio-python client."""

from __future__ import annotations

import asyncio

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from ivr.sandbox.callee import CalleeScript, Silence

HOLD = '<Response><Pause length="30"/></Response>'


async def test_create_returns_a_queued_call_resource(client, service, sandbox):
    call = await client.calls.create_async(
        to="+5511999990001", from_="+5511333330000", url=service.url + "/voice"
    )
    assert call.sid.startswith("CA") and len(call.sid) == 34
    assert call.status == "queued"
    assert call.direction == "outbound-api"
    assert call.to == "+5511999990001"
    assert call._from == "+5511333330000"
    assert call.account_sid == sandbox.account_sid
    assert call.api_version == "2010-04-01"
    assert call.uri == f"/2010-04-01/Accounts/{sandbox.account_sid}/Calls/{call.sid}.json"
    assert call.date_created is not None
    assert call.price is None
    assert call.sid in sandbox.calls


async def test_fetch_follows_the_call_to_completion(client, service, sandbox):
    service.reply("/voice", "<Response><Say>Olá</Say><Hangup/></Response>")
    call = await client.calls.create_async(
        to="+5511999990002", from_="+5511333330000", url=service.url + "/voice"
    )
    await sandbox.wait_for_call_end(call.sid)
    fetched = await client.calls(call.sid).fetch_async()
    assert fetched.status == "completed"
    assert fetched.start_time is not None and fetched.end_time is not None
    assert fetched.duration is not None and int(fetched.duration) >= 0
    assert sandbox.calls[call.sid].statuses == [
        "queued",
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]


async def test_sync_client_works_too(sandbox, service):
    """The blocking client (requests) against the same sandbox, from a worker thread."""
    c = Client(sandbox.account_sid, sandbox.auth_token)
    c.api.base_url = sandbox.url
    call = await asyncio.to_thread(
        c.calls.create,
        to="+5511999990003",
        from_="+5511333330000",
        url=service.url + "/voice",
        status_callback_event=["initiated", "answered"],
        status_callback=service.url + "/status",
    )
    assert call.status == "queued"
    fetched = await asyncio.to_thread(c.calls(call.sid).fetch)
    assert fetched.sid == call.sid
    record = sandbox.calls[call.sid]
    assert record.status_callback_events == ("initiated", "answered")
    updated = await asyncio.to_thread(c.calls(call.sid).update, status="canceled")
    assert updated.sid == call.sid
    await sandbox.wait_for_call_end(call.sid)
    assert record.status in ("canceled", "completed")


async def test_wrong_token_is_401_with_twilio_error(sandbox):
    http = AsyncTwilioHttpClient()
    bad = Client(sandbox.account_sid, "wrong-token", http_client=http)
    bad.api.base_url = sandbox.url
    try:
        with pytest.raises(TwilioRestException) as info:
            await bad.calls.create_async(to="+5511999990004", from_="+1", url="http://x.test/v")
    finally:
        await http.close()
    assert info.value.status == 401
    assert info.value.code == 20003
    assert info.value.msg.endswith("Authenticate")
    assert not sandbox.calls


async def test_raw_401_body_is_twilio_shaped(sandbox):
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{sandbox.url}/2010-04-01/Accounts/{sandbox.account_sid}/Calls.json") as resp,
    ):
        body = await resp.json()
    assert resp.status == 401
    assert body == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"to": "", "from_": "+5511333330000", "url": "http://x.test/v"}, 21201),
        ({"to": "+5511999990005", "from_": "", "url": "http://x.test/v"}, 21213),
        ({"to": "+5511999990005", "from_": "+5511333330000"}, 21205),
    ],
)
async def test_missing_parameters_are_400(client, sandbox, kwargs, code):
    with pytest.raises(TwilioRestException) as info:
        await client.calls.create_async(**kwargs)
    assert info.value.status == 400
    assert info.value.code == code
    assert not sandbox.calls


async def test_fetch_unknown_call_is_404(client):
    with pytest.raises(TwilioRestException) as info:
        await client.calls("CA" + "0" * 32).fetch_async()
    assert info.value.status == 404
    assert info.value.code == 20404


async def test_list_filters_by_to(client, service, sandbox):
    for to in ("+5511999990010", "+5511999990011", "+5511999990010"):
        await client.calls.create_async(to=to, from_="+5511333330000", url=service.url + "/v")
    calls = await client.calls.list_async(to="+5511999990010")
    assert len(calls) == 2
    assert {c.to for c in calls} == {"+5511999990010"}
    everything = await client.calls.list_async(page_size=2)
    assert len(everything) == 3  # the client follows next_page_uri


async def test_update_with_twiml_redirects_a_live_call(client, service, sandbox):
    service.reply("/voice", HOLD)
    call = await client.calls.create_async(
        to="+5511999990020", from_="+5511333330000", url=service.url + "/voice"
    )
    await service.wait_for("/voice")
    await client.calls(call.sid).update_async(twiml="<Response><Say>Tchau</Say></Response>")
    record = await sandbox.wait_for_call_end(call.sid)
    assert record.heard_text == ["Tchau"]
    assert record.status == "completed"
    assert record.events_of("redirected")


async def test_update_with_url_fetches_the_new_document(client, service, sandbox):
    service.reply("/voice", HOLD)
    service.reply("/next", "<Response><Say>Nova instrução</Say></Response>")
    call = await client.calls.create_async(
        to="+5511999990021", from_="+5511333330000", url=service.url + "/voice"
    )
    await service.wait_for("/voice")
    await client.calls(call.sid).update_async(url=service.url + "/next")
    record = await sandbox.wait_for_call_end(call.sid)
    (req,) = service.at("/next")
    assert req.params["CallSid"] == call.sid
    assert req.params["CallStatus"] == "in-progress"
    assert req.signature_valid
    assert record.heard_text == ["Nova instrução"]


async def test_update_status_completed_hangs_up(client, service, sandbox):
    service.reply("/voice", HOLD)
    call = await client.calls.create_async(
        to="+5511999990022", from_="+5511333330000", url=service.url + "/voice"
    )
    await service.wait_for("/voice")
    await client.calls(call.sid).update_async(status="completed")
    record = await sandbox.wait_for_call_end(call.sid)
    assert record.status == "completed"
    assert record.events_of("hangup")[0].detail["by"] == "api"


async def test_cancel_while_ringing(client, service, sandbox):
    sandbox.add_callee("+5511999990023", CalleeScript(ring_seconds=20))
    call = await client.calls.create_async(
        to="+5511999990023", from_="+5511333330000", url=service.url + "/voice"
    )
    await asyncio.sleep(0.05)
    await client.calls(call.sid).update_async(status="canceled")
    record = await sandbox.wait_for_call_end(call.sid)
    assert record.status == "canceled"
    assert service.at("/voice") == []


async def test_redirecting_an_ended_call_is_21220(client, service, sandbox):
    call = await client.calls.create_async(
        to="+5511999990024", from_="+5511333330000", url=service.url + "/voice"
    )
    await sandbox.wait_for_call_end(call.sid)
    with pytest.raises(TwilioRestException) as info:
        await client.calls(call.sid).update_async(url=service.url + "/next")
    assert info.value.status == 400
    assert info.value.code == 21220


async def test_busy_and_no_answer_end_states(client, service, sandbox):
    sandbox.add_callee("+5511999990030", CalleeScript(answer="busy", ring_seconds=0.5))
    sandbox.add_callee("+5511999990031", CalleeScript(answer="no-answer"))
    sandbox.add_callee("+5511999990032", CalleeScript(answer="failed"))
    sids = []
    for to in ("+5511999990030", "+5511999990031", "+5511999990032"):
        call = await client.calls.create_async(
            to=to, from_="+5511333330000", url=service.url + "/voice", timeout=5
        )
        sids.append(call.sid)
    ends = [await sandbox.wait_for_call_end(sid) for sid in sids]
    assert [c.status for c in ends] == ["busy", "no-answer", "failed"]
    assert all(c.duration == 0 for c in ends)
    assert service.at("/voice") == []
    fetched = await client.calls(sids[1]).fetch_async()
    assert fetched.status == "no-answer"


async def test_callee_hangs_up_after_silence(client, service, sandbox):
    sandbox.add_callee("+5511999990040", CalleeScript(steps=[Silence(2.0)], hangup_when_done=True))
    service.reply("/voice", HOLD)
    call = await client.calls.create_async(
        to="+5511999990040", from_="+5511333330000", url=service.url + "/voice"
    )
    record = await sandbox.wait_for_call_end(call.sid)
    assert record.status == "completed"
    assert record.duration == 2
    assert record.events_of("hangup")[0].detail["by"] == "callee-hangup"
