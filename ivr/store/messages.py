"""Queries on SMS messages: the outbox row, carrier status, inbound messages,
and the per-day count the SMS cap reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import SmsMessage, utcnow
from ivr.vocab.messages import SMS_STATUS_RANK, SmsDirection, SmsPurpose, SmsStatus

# Answers to SAIR / VOLTAR are owed to the debtor whatever the day's count.
CAP_EXEMPT_PURPOSES = frozenset({SmsPurpose.OPT_OUT_CONFIRMATION, SmsPurpose.OPT_IN_CONFIRMATION})


async def add_outbound(
    session: AsyncSession,
    *,
    debtor_id: int | None,
    purpose: SmsPurpose,
    to: str,
    from_: str,
    body: str,
    local_day: dt.date | None,
    debt_id: int | None = None,
    promise_id: int | None = None,
    campaign_id: int | None = None,
    attempt_id: int | None = None,
) -> SmsMessage:
    """The outbox row, written before the carrier is asked (status ``queued``)."""
    msg = SmsMessage(
        debtor_id=debtor_id,
        debt_id=debt_id,
        promise_id=promise_id,
        campaign_id=campaign_id,
        attempt_id=attempt_id,
        direction=SmsDirection.OUTBOUND,
        purpose=purpose,
        to_number=to,
        from_number=from_,
        body=body,
        segments=1,
        status=SmsStatus.QUEUED,
        local_day=local_day,
    )
    session.add(msg)
    await session.flush()
    return msg


async def record_carrier_answer(
    session: AsyncSession,
    message_id: int,
    *,
    sid: str | None,
    status: SmsStatus,
    segments: int | None = None,
    error_code: int | None = None,
    error: str | None = None,
) -> None:
    """What the carrier said when asked to send: its sid and status, or why it refused.

    A status callback may already have moved the message further (it can
    arrive before the REST answer): the status only moves forward.
    """
    msg = await session.get(SmsMessage, message_id, with_for_update=True)
    if msg is None:
        return
    msg.message_sid = sid or msg.message_sid
    if segments:
        msg.segments = segments
    if error_code is not None:
        msg.error_code = error_code
    if error is not None:
        msg.error = error
    if SMS_STATUS_RANK[status] >= SMS_STATUS_RANK[msg.status]:
        msg.status = status
        msg.status_at = utcnow()


async def apply_sms_status(
    session: AsyncSession,
    *,
    message_id: int | None,
    sid: str,
    status: SmsStatus,
    error_code: int | None,
    at: dt.datetime | None = None,
) -> SmsMessage | None:
    """A status callback: idempotent and order-independent (forward-only status).

    Returns the message when it changed, None when nothing did (unknown sid,
    or a status that would move it backwards).
    """
    msg: SmsMessage | None = None
    if message_id is not None:
        msg = await session.get(SmsMessage, message_id, with_for_update=True)
        if msg is not None and msg.message_sid not in (None, sid):
            return None  # the id in the URL and the sid disagree: not this message
    if msg is None:
        msg = await session.scalar(
            select(SmsMessage).where(SmsMessage.message_sid == sid).with_for_update()
        )
    if msg is None:
        return None
    msg.message_sid = sid
    if SMS_STATUS_RANK[status] < SMS_STATUS_RANK[msg.status] or (
        status == msg.status and error_code == msg.error_code
    ):
        return None
    msg.status = status
    msg.status_at = at or utcnow()
    if error_code is not None:
        msg.error_code = error_code
    return msg


async def add_inbound(
    session: AsyncSession,
    *,
    debtor_id: int | None,
    sid: str,
    from_: str,
    to: str,
    body: str,
    segments: int = 1,
) -> tuple[SmsMessage, bool]:
    """An inbound message, once per sid: (message, True when new)."""
    seen = await session.scalar(select(SmsMessage).where(SmsMessage.message_sid == sid))
    if seen is not None:
        return seen, False
    msg = SmsMessage(
        debtor_id=debtor_id,
        direction=SmsDirection.INBOUND,
        purpose=SmsPurpose.REPLY,
        to_number=to,
        from_number=from_,
        body=body,
        segments=segments,
        message_sid=sid,
        status=SmsStatus.RECEIVED,
        status_at=utcnow(),
    )
    session.add(msg)
    await session.flush()
    return msg, True


async def sent_on_day(session: AsyncSession, debtor_id: int, local_day: dt.date) -> int:
    """Messages counted by the SMS cap on the debtor's local day: outbound, not
    refused by the carrier, and not an opt-out/opt-in confirmation."""
    count = await session.scalar(
        select(func.count())
        .select_from(SmsMessage)
        .where(
            SmsMessage.debtor_id == debtor_id,
            SmsMessage.local_day == local_day,
            SmsMessage.direction == SmsDirection.OUTBOUND,
            SmsMessage.status != SmsStatus.FAILED,
            SmsMessage.purpose.not_in(CAP_EXEMPT_PURPOSES),
        )
    )
    return int(count or 0)


async def debtor_messages(
    session: AsyncSession, debtor_id: int, *, limit: int = 200
) -> Sequence[SmsMessage]:
    """A debtor's messages, newest first (the contact history)."""
    rows = await session.scalars(
        select(SmsMessage)
        .where(SmsMessage.debtor_id == debtor_id)
        .order_by(SmsMessage.created_at.desc(), SmsMessage.id.desc())
        .limit(limit)
    )
    return rows.all()
