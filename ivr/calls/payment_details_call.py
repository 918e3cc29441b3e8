"""The payment-details SMS a caller agreed to, sent beside the call.

It never holds up the call's audio: the session starts it once the request
is committed (after the promises it is about) and waits for it, bounded,
only when the call ends. What happened goes to the call's turn log:
``sms_sent``, or ``sms_not_sent`` with the reason.
"""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.calls.ports import PaymentDetailsPort
from ivr.calls.recorder import CallRecorder
from ivr.dialog import events as ev
from ivr.store.models import CallAttempt

log = structlog.get_logger(__name__)


async def send_payment_details(
    sessions: async_sessionmaker[AsyncSession],
    port: PaymentDetailsPort | None,
    recorder: CallRecorder,
    action: ev.SendPaymentDetails,
    locale: str,
) -> None:
    """Ask ``port`` to send the details of this call's debt (or its
    promises) to the call's number, and log what happened in the call."""
    kind, data = "sms_not_sent", {"reason": "no_sms_service"}
    if port is not None:
        try:
            async with sessions() as s:
                attempt = await s.get(CallAttempt, recorder.attempt_id)
                assert attempt is not None
                debtor_id, debt_id, to = attempt.debtor_id, attempt.debt_id, attempt.to_number
            if debtor_id is None:  # an inbound caller nobody was found for
                raise LookupError("no debtor on this call")
            result = await port.request(
                attempt_id=recorder.attempt_id,
                debtor_id=debtor_id,
                debt_id=debt_id,
                to_number=to,
                locale=locale,
                promises=action.promises,
            )
            kind, data = result.event()
        except Exception as exc:  # logged and recorded; the call goes on
            log.exception("sms.payment_details_failed", call_sid=recorder.call_sid)
            data = {"reason": f"error: {type(exc).__name__}"}
    recorder.log(kind, data)
    await recorder.flush()
