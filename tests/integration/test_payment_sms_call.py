"""Payment details by SMS from a live call (fake line, real SQLite store, the
real outbox and rule book, the sandbox carrier through the twilio library):
the message is recorded after the caller's yes, and a carrier that refuses it
does not break the call."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.dialog.flow import Flow
from ivr.messaging.outbox import UNSUBSCRIBED
from ivr.messaging.payment_sms import PaymentDetailsSms
from ivr.sandbox.app import Sandbox
from ivr.store.models import Debt, SmsMessage, utcnow
from ivr.telephony.rest import TwilioCalls
from ivr.vocab.messages import SmsPurpose, SmsStatus
from tests.support.calls import Call, FakeLine, claimed_attempt, prompts_of, voice_stack

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

PHONE = "+5511987654321"  # the debtor's mobile (tests.support.calls.CSV)
SENDER = "+551140001234"  # the callback number for Brazil
LINK = "https://pagar.example/abc123"


@pytest.fixture
async def carrier(sandbox: Sandbox) -> AsyncIterator[TwilioCalls]:
    c = TwilioCalls(sandbox.account_sid, sandbox.auth_token, api_url=sandbox.url)
    yield c
    await c.close()


@pytest.fixture(scope="module")
def flow() -> Flow:
    return Flow.load()


@pytest.fixture
async def attempt_id(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> int:
    attempt = await claimed_attempt(sessions, tmp_path)
    async with sessions() as s, s.begin():
        debt = (await s.scalars(select(Debt))).one()
        debt.payment_url = LINK  # the way to pay imported with the debt
    return attempt


async def promise_then_yes(call: Call, line: FakeLine) -> None:
    promised = (utcnow() + dt.timedelta(days=3)).date()
    for keys, then in (
        ("1", "ask_payment_date"),  # it is me
        (f"{promised:%d%m}#", "confirm_promise"),
        ("1", "promise_recorded_sms"),  # the promise is right: may I text you?
    ):
        line.digits(keys)
        await call.until(lambda then=then: call.session.dialog.state == then)  # type: ignore[union-attr]
        await call.listening()
    line.digits("1")  # yes, text me
    await call.ended()


async def sms_rows(sessions: async_sessionmaker[AsyncSession]) -> list[SmsMessage]:
    async with sessions() as s:
        return list(await s.scalars(select(SmsMessage)))


async def test_yes_records_and_sends_the_payment_details(
    sessions, attempt_id, flow, sandbox: Sandbox, carrier: TwilioCalls
):
    port = PaymentDetailsSms(sessions, carrier, "https://ivr.example", {"BR": SENDER})
    line = FakeLine()
    call = Call(sessions, attempt_id, voice_stack(flow, None), line, payment_details=port)
    async with call:
        await promise_then_yes(call, line)
    [row] = await sms_rows(sessions)
    assert row.purpose == SmsPurpose.PAYMENT_DETAILS and row.status == SmsStatus.QUEUED
    assert row.message_sid is not None and row.message_sid.startswith("SM")
    assert (row.to_number, row.from_number, row.attempt_id) == (PHONE, SENDER, attempt_id)
    assert row.promise_id is not None and LINK in row.body
    assert not row.body.lower().startswith(("dívida", "cobrança"))
    held = sandbox.sms.to(PHONE)
    assert [(m.sid, m.from_, m.body) for m in held] == [(row.message_sid, SENDER, row.body)]
    events = await call.events()
    kinds = [e.kind for e in events]
    assert "payment_details_requested" in kinds and "sms_sent" in kinds
    assert prompts_of(events)[-1] == "payment_details_sent"
    assert (await call.attempt()).outcome == "promise"


async def test_a_refusing_carrier_is_recorded_and_the_call_ends_as_planned(
    sessions, attempt_id, flow, sandbox: Sandbox, carrier: TwilioCalls
):
    # The recipient has unsubscribed from this sender at the carrier (as if
    # they had replied STOP to it), so the carrier refuses the send.
    sandbox.sms.unsubscribed.add((PHONE, SENDER))
    port = PaymentDetailsSms(sessions, carrier, "https://ivr.example", {"BR": SENDER})
    line = FakeLine()
    call = Call(sessions, attempt_id, voice_stack(flow, None), line, payment_details=port)
    async with call:
        await promise_then_yes(call, line)
    [row] = await sms_rows(sessions)
    assert row.status == SmsStatus.FAILED and row.error_code == UNSUBSCRIBED
    events = await call.events()
    [not_sent] = [e for e in events if e.kind == "sms_not_sent"]
    assert not_sent.data["reason"] == "carrier_refused"
    assert prompts_of(events)[-1] == "payment_details_sent"
    assert [e.data["reason"] for e in events if e.kind == "end"] == ["payment_details_sent"]
    attempt = await call.attempt()
    assert attempt.outcome == "promise" and not attempt.error
