"""``POST /twilio/sms-status``: signed, fields checked, forward-only in any order.

Callbacks are posted signed exactly as Twilio signs them (RequestValidator
over the public URL), as the other webhook tests do.
"""

from __future__ import annotations

import json

import pytest

from ivr.messaging.outbox import SMS_STATUS_PATH
from ivr.store.messages import add_outbound, record_carrier_answer
from ivr.store.models import Debtor, SmsMessage
from ivr.vocab.messages import SmsPurpose, SmsStatus
from tests.support.sms import OUR_NUMBER, SmsApp, add_debtor, new_sid, sms_app

MOBILE = "+5511987654321"


@pytest.fixture
async def app(engine, sessions, db_url, aiohttp_client):
    async with sms_app(engine, sessions, db_url, aiohttp_client) as a:
        yield a


async def _sent(app: SmsApp, *, sid: str | None = None) -> tuple[int, str]:
    """An outbound message the carrier accepted (or, without ``sid``, a TwiML reply)."""
    debtor_id = await add_debtor(app.sessions, MOBILE)
    async with app.sessions() as s, s.begin():
        row = await add_outbound(
            s,
            debtor_id=debtor_id,
            purpose=SmsPurpose.REMINDER,
            to=MOBILE,
            from_=OUR_NUMBER,
            body="Olá, Maria",
            local_day=None,
        )
        if sid is not None:
            await record_carrier_answer(s, row.id, sid=sid, status=SmsStatus.QUEUED)
        return row.id, sid or ""


async def _callback(app: SmsApp, message_id: int, sid: str, status: str, **extra: str):
    fields = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "1" * 32,
        "From": OUR_NUMBER,
        "To": MOBILE,
        "MessageStatus": status,
        "ApiVersion": "2010-04-01",
        **extra,
    }
    return await app.post(f"{SMS_STATUS_PATH}?sms={message_id}", fields)


async def _row(app: SmsApp, message_id: int) -> SmsMessage:
    async with app.sessions() as s:
        row = await s.get(SmsMessage, message_id)
        assert row is not None
        return row


async def test_unsigned_and_badly_signed_are_refused(app: SmsApp) -> None:
    message_id, sid = await _sent(app, sid=new_sid())
    fields = {"MessageSid": sid, "MessageStatus": "delivered"}
    path = f"{SMS_STATUS_PATH}?sms={message_id}"
    assert (await app.post(path, fields, signature=None))[0] == 403
    assert (await app.post(path, fields, token="not-the-token"))[0] == 403
    # Signed over another message id: the query is part of what is signed.
    from twilio.request_validator import RequestValidator

    from tests.support.sms import PUBLIC, TOKEN

    other = RequestValidator(TOKEN).compute_signature(
        f"{PUBLIC}{SMS_STATUS_PATH}?sms={message_id + 1}", fields
    )
    assert (await app.post(path, fields, signature=other))[0] == 403
    assert (await _row(app, message_id)).status is SmsStatus.QUEUED


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"MessageSid": "SM" + "x" * 32}, "MessageSid"),
        ({"MessageSid": "CA" + "a" * 32}, "MessageSid"),
        ({"MessageSid": ""}, "MessageSid"),
        ({"SmsSid": "SM" + "b" * 32}, "SmsSid"),
        ({"MessageStatus": "exploded"}, "MessageStatus"),
        ({"MessageStatus": ""}, "MessageStatus"),
        ({"ErrorCode": "100000"}, "ErrorCode"),
        ({"ErrorCode": "-1"}, "ErrorCode"),
        ({"ErrorCode": "3e4"}, "ErrorCode"),
    ],
)
async def test_bad_field_is_400_naming_it(app: SmsApp, changes: dict[str, str], field: str) -> None:
    message_id, sid = await _sent(app, sid=new_sid())
    fields = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": "delivered", **changes}
    status, body = await app.post(f"{SMS_STATUS_PATH}?sms={message_id}", fields)
    assert status == 400, body
    assert json.loads(body)["errors"][0]["field"] == field
    assert (await _row(app, message_id)).status is SmsStatus.QUEUED


async def test_bad_query_id_is_400(app: SmsApp) -> None:
    _, sid = await _sent(app, sid=new_sid())
    status, body = await app.post(
        f"{SMS_STATUS_PATH}?sms=abc", {"MessageSid": sid, "MessageStatus": "sent"}
    )
    assert status == 400 and json.loads(body)["errors"][0]["field"] == "sms"


async def test_out_of_order_and_duplicates_only_move_forward(app: SmsApp) -> None:
    message_id, sid = await _sent(app, sid=new_sid())
    assert (await _callback(app, message_id, sid, "delivered"))[0] == 204
    for late in ("sent", "sending", "queued", "delivered"):
        assert (await _callback(app, message_id, sid, late))[0] == 204
    row = await _row(app, message_id)
    assert row.status is SmsStatus.DELIVERED and row.message_sid == sid


async def test_error_code_is_kept(app: SmsApp) -> None:
    message_id, sid = await _sent(app, sid=new_sid())
    assert (await _callback(app, message_id, sid, "sent"))[0] == 204
    assert (await _callback(app, message_id, sid, "undelivered", ErrorCode="30003"))[0] == 204
    assert (await _callback(app, message_id, sid, "sent"))[0] == 204
    row = await _row(app, message_id)
    assert (row.status, row.error_code) == (SmsStatus.UNDELIVERED, 30003)


async def test_unsubscribed_error_stops_sms_to_the_debtor(app: SmsApp) -> None:
    message_id, sid = await _sent(app, sid=new_sid())
    assert (await _callback(app, message_id, sid, "failed", ErrorCode="21610"))[0] == 204
    row = await _row(app, message_id)
    async with app.sessions() as s:
        debtor = await s.get(Debtor, row.debtor_id)
        assert debtor is not None and debtor.sms_opted_out_at is not None


async def test_id_and_sid_must_agree(app: SmsApp) -> None:
    a_id, _ = await _sent(app, sid=new_sid())
    b_id, b_sid = await _sent(app, sid=new_sid())
    # Message A's URL with message B's sid: neither moves.
    assert (await _callback(app, a_id, b_sid, "delivered"))[0] == 204
    assert (await _row(app, a_id)).status is SmsStatus.QUEUED
    assert (await _row(app, b_id)).status is SmsStatus.QUEUED


async def test_a_reply_without_sid_learns_it_from_its_first_status(app: SmsApp) -> None:
    """A TwiML reply has no sid until the carrier posts its status to our URL."""
    message_id, _ = await _sent(app)
    sid = new_sid()
    assert (await _callback(app, message_id, sid, "sent"))[0] == 204
    row = await _row(app, message_id)
    assert (row.message_sid, row.status) == (sid, SmsStatus.SENT)
    # The same sid on another message's URL now changes nothing.
    other_id, _ = await _sent(app)
    assert (await _callback(app, other_id, sid, "delivered"))[0] == 204
    assert (await _row(app, other_id)).message_sid is None
    assert (await _row(app, message_id)).status is SmsStatus.SENT
