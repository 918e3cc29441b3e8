"""Send one SMS: write it down, ask the carrier, write down what it said.

The row is committed before the carrier is asked and no transaction stays
open across the network wait, so a crash between the two leaves a visible
``queued`` message without a sid rather than a message nobody knows about.
Whether a message *may* be sent (consent, opt-outs, windows, the day's cap)
is the SMS rule book's question, asked by the caller before this.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store.messages import add_outbound, record_carrier_answer
from ivr.store.models import Debtor, utcnow
from ivr.telephony.rest import CarrierError, CarrierUnknown, TwilioCalls
from ivr.vocab.messages import SmsPurpose, SmsStatus

log = structlog.get_logger(__name__)

# Where the carrier posts each message's statuses (signed, like every webhook).
SMS_STATUS_PATH = "/twilio/sms-status"
# The carrier's "the recipient has unsubscribed (replied STOP)".
UNSUBSCRIBED = 21610


@dataclass(frozen=True)
class OutgoingSms:
    """One message to send, and what it is about (for the history and the cap)."""

    debtor_id: int | None
    to: str
    from_: str
    body: str
    purpose: SmsPurpose
    local_day: dt.date | None
    debt_id: int | None = None
    promise_id: int | None = None
    campaign_id: int | None = None
    attempt_id: int | None = None


@dataclass(frozen=True)
class SendResult:
    message_id: int
    sid: str | None
    status: SmsStatus
    error_code: int | None = None

    @property
    def accepted(self) -> bool:
        return self.sid is not None and self.status is not SmsStatus.FAILED


def status_callback_url(public_url: str, message_id: int) -> str:
    return f"{public_url.rstrip('/')}{SMS_STATUS_PATH}?sms={message_id}"


def carrier_status(text: str) -> SmsStatus:
    """The carrier's status word; one we do not know is still just queued."""
    try:
        return SmsStatus(text)
    except ValueError:
        return SmsStatus.QUEUED


async def write_outbox(session: AsyncSession, sms: OutgoingSms) -> int:
    """The outbox row for ``sms`` in the caller's transaction (status ``queued``):
    a sender that checks the SMS rules under the debtor's row lock writes it
    there, so the day's cap holds across replicas, and :func:`deliver` it after
    the commit."""
    row = await add_outbound(
        session,
        debtor_id=sms.debtor_id,
        purpose=sms.purpose,
        to=sms.to,
        from_=sms.from_,
        body=sms.body,
        local_day=sms.local_day,
        debt_id=sms.debt_id,
        promise_id=sms.promise_id,
        campaign_id=sms.campaign_id,
        attempt_id=sms.attempt_id,
    )
    return row.id


async def send_sms(
    sessions: async_sessionmaker[AsyncSession],
    carrier: TwilioCalls,
    public_url: str,
    sms: OutgoingSms,
) -> SendResult:
    """Record and send one SMS; a refusal is recorded (status ``failed``, the
    carrier's code), never raised. An "unsubscribed" refusal also stops SMS to
    the debtor, as a STOP would have."""
    async with sessions() as s, s.begin():
        message_id = await write_outbox(s, sms)
    return await deliver(sessions, carrier, public_url, message_id, sms)


async def deliver(
    sessions: async_sessionmaker[AsyncSession],
    carrier: TwilioCalls,
    public_url: str,
    message_id: int,
    sms: OutgoingSms,
) -> SendResult:
    """Ask the carrier to send an outbox row already committed (``message_id``,
    written by :func:`write_outbox`), and write down its answer: the second
    half of :func:`send_sms`."""
    try:
        info = await carrier.send_message(
            to=sms.to,
            from_=sms.from_,
            body=sms.body,
            status_callback=status_callback_url(public_url, message_id),
        )
    except CarrierError as exc:
        log.info("sms.refused", sms_id=message_id, code=exc.code, status=exc.status)
        async with sessions() as s, s.begin():
            await record_carrier_answer(
                s,
                message_id,
                sid=None,
                status=SmsStatus.FAILED,
                error_code=exc.code,
                error=str(exc),
            )
            if exc.code == UNSUBSCRIBED and sms.debtor_id is not None:
                debtor = await s.get(Debtor, sms.debtor_id, with_for_update=True)
                if debtor is not None and debtor.sms_opted_out_at is None:
                    debtor.sms_opted_out_at = utcnow()
        return SendResult(message_id, None, SmsStatus.FAILED, exc.code)
    except CarrierUnknown as exc:
        # It may or may not have left: keep it queued, without a sid, and say so.
        async with sessions() as s, s.begin():
            await record_carrier_answer(
                s, message_id, sid=None, status=SmsStatus.QUEUED, error=str(exc)
            )
        return SendResult(message_id, None, SmsStatus.QUEUED)
    status = carrier_status(info.status)
    async with sessions() as s, s.begin():
        await record_carrier_answer(
            s,
            message_id,
            sid=info.sid,
            status=status,
            segments=info.segments,
            error_code=info.error_code,
        )
    log.info("sms.sent", sms_id=message_id, purpose=str(sms.purpose), status=str(status))
    return SendResult(message_id, info.sid, status, info.error_code)
