"""Sending one SMS through the real twilio library to the sandbox carrier: the
row is written first, then completed with the carrier's sid, segments, status
and error code; an unsubscribed recipient stops SMS to the debtor."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.messaging.outbox import SMS_STATUS_PATH, OutgoingSms, send_sms
from ivr.sandbox.app import Sandbox
from ivr.sandbox.testkit import ServiceStub
from ivr.store.models import Debtor, SmsMessage
from ivr.telephony.rest import TwilioCalls
from ivr.vocab.messages import SmsPurpose, SmsStatus
from tests.support.claims import make_debtor
from tests.support.sandbox import FROM

MOBILE = "+5511987654321"
US_SENDER = "+12025550142"
US_MOBILE = "+14155550123"


@pytest.fixture
async def carrier(sandbox: Sandbox):  # type: ignore[no-untyped-def]
    c = TwilioCalls(sandbox.account_sid, sandbox.auth_token, api_url=sandbox.url)
    yield c
    await c.close()


async def _debtor(sessions: async_sessionmaker[AsyncSession], phone: str) -> int:
    async with sessions() as s, s.begin():
        return (await make_debtor(s, None, phones=(phone,))).id


def _sms(debtor_id: int, to: str, body: str, from_: str = FROM) -> OutgoingSms:
    return OutgoingSms(
        debtor_id=debtor_id,
        to=to,
        from_=from_,
        body=body,
        purpose=SmsPurpose.PAYMENT_DETAILS,
        local_day=None,
    )


async def test_sent_message_keeps_the_carriers_sid_segments_and_callback_url(
    sessions, sandbox: Sandbox, service: ServiceStub, carrier: TwilioCalls
) -> None:
    debtor_id = await _debtor(sessions, MOBILE)
    body = "Olá, Maria! Segue o código Pix para o pagamento combinado: " + "0" * 60
    result = await send_sms(sessions, carrier, service.url, _sms(debtor_id, MOBILE, body))
    assert result.accepted and result.sid and result.sid.startswith("SM")
    async with sessions() as s:
        row = await s.get(SmsMessage, result.message_id)
    assert row is not None
    assert row.message_sid == result.sid
    assert row.segments == 2  # accents make it UCS-2: over 70 characters is two parts
    assert row.status in (SmsStatus.QUEUED, SmsStatus.SENDING, SmsStatus.SENT)
    held = sandbox.sms.to(MOBILE)
    assert [m.sid for m in held] == [result.sid]
    await sandbox.sms.wait_for_final(result.sid)
    assert held[0].status_callback == f"{service.url}{SMS_STATUS_PATH}?sms={result.message_id}"
    hooks = await service.wait_for(SMS_STATUS_PATH)
    assert hooks and all(h.signature_valid for h in hooks)


async def test_invalid_number_is_recorded_as_failed_with_the_carriers_code(
    sessions, service: ServiceStub, carrier: TwilioCalls
) -> None:
    debtor_id = await _debtor(sessions, MOBILE)
    result = await send_sms(sessions, carrier, service.url, _sms(debtor_id, "+5500", "Oi"))
    assert not result.accepted
    assert result.status is SmsStatus.FAILED and result.error_code == 21211
    async with sessions() as s:
        row = await s.get(SmsMessage, result.message_id)
    assert row is not None and row.status is SmsStatus.FAILED and row.error_code == 21211
    assert row.message_sid is None


async def test_unsubscribed_recipient_stops_sms_to_the_debtor(
    sessions, sandbox: Sandbox, service: ServiceStub, carrier: TwilioCalls
) -> None:
    debtor_id = await _debtor(sessions, US_MOBILE)
    sandbox.config.sms.set_messaging_url(US_SENDER, service.url + "/sms")
    await sandbox.send_inbound_sms(from_=US_MOBILE, to=US_SENDER, body="STOP")
    result = await send_sms(
        sessions, carrier, service.url, _sms(debtor_id, US_MOBILE, "Hi", from_=US_SENDER)
    )
    assert result.error_code == 21610
    async with sessions() as s:
        debtor = await s.get(Debtor, debtor_id)
        rows = (await s.scalars(select(SmsMessage))).all()
    assert debtor is not None and debtor.sms_opted_out_at is not None
    assert [r.status for r in rows] == [SmsStatus.FAILED]
