"""The sandbox's Messages resource, driven by the real twilio-python client.

What is checked is Twilio's documented behaviour: the resource's shape, the
status order with signed callbacks (none for the initial status), the error
codes the library raises, segment counts, inbound SMS to a signed webhook
with a TwiML ``<Message>`` reply, and Advanced Opt-Out on +1 senders.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from ivr.sandbox.app import Sandbox
from ivr.sandbox.config import SandboxConfig
from ivr.sandbox.messages_config import SmsConfig
from ivr.sandbox.testkit import ServiceStub
from ivr.telephony.signature import SIGNATURE_HEADER, SignatureChecker
from tests.support.sandbox import FROM, make_client, text

DEBTOR = "+5511999990001"
US_SENDER = "+14155550100"
US_PHONE = "+12025550123"
SERVICE_SID = "MG" + "ab" * 16


async def send(client: Client, service: ServiceStub, to: str = DEBTOR, **kwargs: Any) -> Any:
    body = kwargs.pop("body", "Olá! Aqui é a Central de Atendimento.")
    return await text(client, service, to, body, **kwargs)


def statuses_seen(service: ServiceStub) -> list[str]:
    return [r.params["MessageStatus"] for r in service.at("/sms-status")]


async def test_create_returns_a_queued_message_resource(client, service, sandbox):
    message = await send(client, service)
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert message.account_sid == sandbox.account_sid
    assert message.to == DEBTOR and message.from_ == FROM
    assert message.body == "Olá! Aqui é a Central de Atendimento."
    assert message.status == "queued"
    assert message.direction == "outbound-api"
    assert message.num_segments == "1" and message.num_media == "0"
    assert message.error_code is None and message.error_message is None
    assert message.price is None and message.api_version == "2010-04-01"
    assert message.date_created is not None and message.date_sent is None
    assert message.uri == f"/2010-04-01/Accounts/{sandbox.account_sid}/Messages/{message.sid}.json"
    assert message.subresource_uris["media"] == message.uri.replace(".json", "/Media.json")
    assert sandbox.messages[message.sid].request_params["To"] == [DEBTOR]


async def test_status_callbacks_are_signed_and_in_twilios_order(client, service, sandbox):
    message = await send(client, service)
    record = await sandbox.sms.wait_for_final(message.sid)
    # No callback for the status the message was created with.
    assert record.statuses == ["queued", "sending", "sent", "delivered"]
    assert statuses_seen(service) == ["sending", "sent", "delivered"]
    checker = SignatureChecker(sandbox.auth_token, service.url)
    for request in service.at("/sms-status"):
        assert request.signature_valid
        signature = request.headers[SIGNATURE_HEADER]
        assert checker.check_form("/sms-status", request.params, signature)
        assert not checker.check_form("/other", request.params, signature)
        params = request.params
        assert params["MessageSid"] == params["SmsSid"] == message.sid
        assert params["AccountSid"] == sandbox.account_sid
        assert (params["From"], params["To"]) == (FROM, DEBTOR)
        assert params["ApiVersion"] == "2010-04-01"
        assert "ErrorCode" not in params
    fetched = await client.messages(message.sid).fetch_async()
    assert fetched.status == "delivered"
    assert fetched.date_sent is not None and fetched.date_updated >= fetched.date_created
    assert [cb.status for cb in record.status_callbacks] == [200, 200, 200]


@pytest.mark.parametrize("code", [30003, 30005, 30006])
async def test_marked_numbers_end_undelivered_after_sent(client, service, sandbox, code):
    sandbox.config.sms.mark("+5511999990009", code)
    message = await send(client, service, to="+5511999990009")
    record = await sandbox.sms.wait_for_final(message.sid)
    assert record.statuses == ["queued", "sending", "sent", "undelivered"]
    last = service.at("/sms-status")[-1].params
    assert last["MessageStatus"] == "undelivered" and last["ErrorCode"] == str(code)
    assert all("ErrorCode" not in r.params for r in service.at("/sms-status")[:-1])
    fetched = await client.messages(message.sid).fetch_async()
    assert fetched.error_code == code and fetched.error_message
    assert fetched.date_sent is not None  # it did leave


async def test_a_landline_is_undelivered_with_30006(client, service, sandbox):
    message = await send(client, service, to="+552133334444")
    record = await sandbox.sms.wait_for_final(message.sid)
    assert (record.status, record.error_code) == ("undelivered", 30006)


async def test_filtered_message_fails_before_leaving(client, service, sandbox):
    sandbox.config.sms.mark("+5511999990008", 30007)
    message = await send(client, service, to="+5511999990008")
    record = await sandbox.sms.wait_for_final(message.sid)
    assert record.statuses == ["queued", "failed"]
    assert statuses_seen(service) == ["failed"]
    assert service.at("/sms-status")[0].params["ErrorCode"] == "30007"
    fetched = await client.messages(message.sid).fetch_async()
    assert fetched.status == "failed" and fetched.error_code == 30007
    assert fetched.date_sent is None


async def test_messaging_service_accepts_then_picks_a_sender_of_the_same_country(
    client, service, sandbox
):
    sandbox.config.sms.messaging_services[SERVICE_SID] = [US_SENDER, FROM]
    message = await client.messages.create_async(
        to=DEBTOR,
        messaging_service_sid=SERVICE_SID,
        body="Lembrete do seu acordo",
        status_callback=service.url + "/sms-status",
    )
    assert message.status == "accepted" and message.from_ is None
    assert message.messaging_service_sid == SERVICE_SID
    record = await sandbox.sms.wait_for_final(message.sid)
    assert record.from_ == FROM
    assert statuses_seen(service) == ["queued", "sending", "sent", "delivered"]
    assert all(r.params["MessagingServiceSid"] == SERVICE_SID for r in service.at("/sms-status"))
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(
            to=DEBTOR, messaging_service_sid="MG" + "cd" * 16, body="x"
        )
    assert info.value.code == 21701


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, "1"),
        ("a" * 161, "2"),
        ("Ola, pague ate sexta: é facil! " * 3, "1"),  # é is GSM-7: 93 septets
        ("Olá, pague até sexta: é fácil! " * 3, "2"),  # á is not: 93 UCS-2 units
        ("é" * 160, "1"),
        ("Negociação" + "x" * 60, "1"),
        ("Negociação" + "x" * 61, "2"),
        ("Você" + "x" * 140, "3"),
        ("€" * 80, "1"),
        ("€" * 81, "2"),
    ],
)
async def test_num_segments_follow_the_encoding(client, service, body, segments):
    message = await send(client, service, body=body)
    assert message.num_segments == segments


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"to": "12345"}, 21211),
        ({"to": "+5511"}, 21211),
        ({"to": "+551199999000"}, 21211),
        ({"body": None}, 21602),
        ({"body": "a" * 1601}, 21617),
        ({"from_": "not-a-number"}, 21212),
        ({"to": FROM.replace("333330000", "999990007"), "from_": "+5511999990007"}, 21266),
        ({"status_callback": "ftp://x"}, 21609),
    ],
)
async def test_refusals_carry_twilios_codes(client, sandbox, kwargs, code):
    args: dict[str, object] = {"to": DEBTOR, "from_": FROM, "body": "oi"} | kwargs
    args = {k: v for k, v in args.items() if v is not None}
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(**args)
    assert info.value.status == 400
    assert info.value.code == code
    assert not sandbox.messages


async def test_a_body_of_exactly_1600_characters_is_accepted(client, service):
    message = await send(client, service, body="a" * 1600)
    assert message.num_segments == "11"


async def test_a_sender_the_account_does_not_own_is_21606(client, sandbox):
    sandbox.config.sms.senders = {US_SENDER}
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(to=DEBTOR, from_=FROM, body="oi")
    assert info.value.code == 21606
    ok = await client.messages.create_async(to=DEBTOR, from_=US_SENDER, body="oi")
    assert ok.status == "queued"


async def test_fetch_unknown_is_404_and_wrong_token_is_401(client, sandbox):
    with pytest.raises(TwilioRestException) as info:
        await client.messages("SM" + "0" * 32).fetch_async()
    assert (info.value.status, info.value.code) == (404, 20404)
    http = AsyncTwilioHttpClient()
    bad = Client(sandbox.account_sid, "wrong", http_client=http)
    bad.api.base_url = sandbox.url
    try:
        with pytest.raises(TwilioRestException) as info:
            await bad.messages.create_async(to=DEBTOR, from_=FROM, body="oi")
    finally:
        await http.close()
    assert (info.value.status, info.value.code) == (401, 20003)
    assert not sandbox.messages


async def test_list_filters_and_pages(client, service, sandbox):
    other = "+5511999990002"
    sent = [await send(client, service, body=f"n{i}") for i in range(5)]
    await send(client, service, to=other)
    listed = await client.messages.list_async(to=DEBTOR, page_size=2)
    assert [m.sid for m in listed] == [m.sid for m in reversed(sent)]  # newest first
    page = await client.messages.page_async(to=DEBTOR, page_size=2)
    assert len(list(page)) == 2 and page.next_page_url is not None
    auth = aiohttp.BasicAuth(sandbox.account_sid, sandbox.auth_token)
    base = f"{sandbox.url}/2010-04-01/Accounts/{sandbox.account_sid}/Messages.json"
    query = {"To": DEBTOR, "PageSize": "2", "Page": "2"}
    async with aiohttp.ClientSession(auth=auth) as http, http.get(base, params=query) as resp:
        envelope = await resp.json()
    assert [m["body"] for m in envelope["messages"]] == ["n0"]
    assert (envelope["page"], envelope["page_size"], envelope["start"]) == (2, 2, 4)
    assert envelope["next_page_uri"] is None and "Page=1" in envelope["previous_page_uri"]
    assert envelope["uri"].startswith(base.removeprefix(sandbox.url))
    assert len(await client.messages.list_async(from_=FROM)) == 6
    await sandbox.sms.wait_for_idle()
    day = sandbox.messages[sent[0].sid].date_sent
    assert day is not None
    on_day = await client.messages.list_async(to=other, date_sent=day.date())
    assert len(on_day) == 1
    assert not await client.messages.list_async(
        to=other, date_sent=(day + timedelta(days=1)).date()
    )
    after = await client.messages.list_async(date_sent_after=day - timedelta(minutes=1))
    assert len(after) == 6


@pytest.fixture
def inbox(sandbox: Sandbox, service: ServiceStub) -> str:
    """The service's number answers SMS at the stub's ``/sms``."""
    for number in (FROM, US_SENDER):
        sandbox.config.sms.set_messaging_url(number, service.url + "/sms")
    return service.url + "/sms"


async def test_inbound_sms_hits_the_signed_webhook_and_a_reply_is_sent(
    client, service, sandbox, inbox
):
    service.reply("/sms", "<Response><Message>Recebemos, obrigado.</Message></Response>")
    inbound = await sandbox.send_inbound_sms(from_=DEBTOR, to=FROM, body="Quero pagar amanhã")
    (request,) = service.at("/sms")
    assert request.signature_valid
    checker = SignatureChecker(sandbox.auth_token, service.url)
    assert checker.check_form("/sms", request.params, request.headers[SIGNATURE_HEADER])
    params = request.params
    assert params["MessageSid"] == params["SmsSid"] == params["SmsMessageSid"] == inbound.sid
    assert (params["From"], params["To"], params["Body"]) == (DEBTOR, FROM, "Quero pagar amanhã")
    assert params["AccountSid"] == sandbox.account_sid and params["ApiVersion"] == "2010-04-01"
    assert (params["NumMedia"], params["NumSegments"], params["SmsStatus"]) == (
        "0",
        "1",
        "received",
    )
    assert params["FromCountry"] == params["ToCountry"] == "BR"
    assert "MessagingServiceSid" not in params and "OptOutType" not in params
    fetched = await client.messages(inbound.sid).fetch_async()
    assert (fetched.direction, fetched.status) == ("inbound", "received")
    (reply,) = sandbox.sms.replies_to(inbound.sid)
    assert (reply.direction, reply.to, reply.from_) == ("outbound-reply", DEBTOR, FROM)
    assert reply.body == "Recebemos, obrigado."
    await sandbox.sms.wait_for_final(reply.sid)
    assert reply.statuses == ["queued", "sending", "sent", "delivered"]
    assert [m.sid for m in sandbox.sms.to(DEBTOR)] == [reply.sid]


async def test_an_empty_answer_sends_nothing(service, sandbox, inbox):
    inbound = await sandbox.send_inbound_sms(from_=DEBTOR, to=FROM, body="oi")
    assert service.at("/sms") and not sandbox.sms.replies_to(inbound.sid)
    assert not inbound.errors


async def test_an_empty_message_verb_is_14103_and_bad_twiml_12100(service, sandbox, inbox):
    service.reply("/sms", "<Response><Message>  </Message></Response>")
    inbound = await sandbox.send_inbound_sms(from_=DEBTOR, to=FROM, body="oi")
    assert [code for code, _ in inbound.errors] == [14103]
    service.reply("/sms", "<Response><Message>oi")
    inbound = await sandbox.send_inbound_sms(from_=DEBTOR, to=FROM, body="oi")
    assert [code for code, _ in inbound.errors] == [12100]
    assert not sandbox.sms.to(DEBTOR)


async def test_help_to_a_us_sender_is_answered_by_the_carrier(client, service, sandbox, inbox):
    inbound = await sandbox.send_inbound_sms(from_=US_PHONE, to=US_SENDER, body="help")
    assert service.at("/sms")[0].params["OptOutType"] == "HELP"
    (reply,) = sandbox.sms.replies_to(inbound.sid)
    assert "Reply STOP to unsubscribe" in reply.body and reply.to == US_PHONE
    message = await client.messages.create_async(to=US_PHONE, from_=US_SENDER, body="oi")
    assert message.status == "queued"


async def test_a_failing_webhook_is_logged_as_11200(service, sandbox, inbox):
    service.reply("/sms", "oops", status=500)
    inbound = await sandbox.send_inbound_sms(from_=DEBTOR, to=FROM, body="oi")
    assert inbound.errors and inbound.errors[0][0] == 11200


@pytest.mark.parametrize(
    "word", ["STOP", " stop ", "StopAll", "UNSUBSCRIBE", "cancel", "End", "QUIT"]
)
async def test_stop_to_a_us_sender_unsubscribes_until_start(client, service, sandbox, inbox, word):
    service.reply("/sms", "<Response><Message>Sentimos muito.</Message></Response>")
    inbound = await sandbox.send_inbound_sms(from_=US_PHONE, to=US_SENDER, body=word)
    assert service.at("/sms")[0].params["OptOutType"] == "STOP"
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(to=US_PHONE, from_=US_SENDER, body="oi")
    assert (info.value.status, info.value.code) == (400, 21610)
    replies = {m.body: m for m in sandbox.sms.replies_to(inbound.sid)}
    carrier = next(m for body, m in replies.items() if "unsubscribed" in body)
    await sandbox.sms.wait_for_final(carrier.sid)
    assert carrier.status == "delivered"  # Twilio's own confirmation gets through
    app_reply = replies["Sentimos muito."]
    await sandbox.sms.wait_for_final(app_reply.sid)
    assert (app_reply.status, app_reply.error_code) == ("failed", 21610)
    # Another sender of the account is not affected.
    other = await client.messages.create_async(to=US_PHONE, from_="+14155550101", body="oi")
    assert other.status == "queued"
    await sandbox.send_inbound_sms(from_=US_PHONE, to=US_SENDER, body="start")
    again = await client.messages.create_async(to=US_PHONE, from_=US_SENDER, body="oi")
    assert again.status == "queued"


async def test_stop_elsewhere_is_left_to_the_application(client, service, sandbox, inbox):
    inbound = await sandbox.send_inbound_sms(from_=DEBTOR, to=FROM, body="STOP")
    assert "OptOutType" not in service.at("/sms")[0].params
    assert not sandbox.sms.replies_to(inbound.sid)
    message = await client.messages.create_async(to=DEBTOR, from_=FROM, body="oi")
    assert message.status == "queued"


@pytest.fixture
async def reversed_sandbox() -> AsyncIterator[Sandbox]:
    config = SandboxConfig(speed=20.0, sms=SmsConfig(callback_order="reverse"))
    async with Sandbox(config) as sb:
        yield sb


async def test_callbacks_can_arrive_out_of_order(reversed_sandbox, service):
    client, http = make_client(reversed_sandbox)
    try:
        message = await send(client, service)
    finally:
        await http.close()
    record = await reversed_sandbox.sms.wait_for_final(message.sid)
    assert record.statuses == ["queued", "sending", "sent", "delivered"]
    assert statuses_seen(service) == ["delivered", "sent", "sending"]
    assert all(r.signature_valid for r in service.at("/sms-status"))
