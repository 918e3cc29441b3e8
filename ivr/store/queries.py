"""Plain async query functions used by the webhooks and the call session.

Each takes a session and leaves committing to the caller, except where the
name says ``commit``: outcomes that must survive a crash mid-call (a promise,
an opt-out) are committed at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import (
    FINAL_ATTEMPT_STATUSES,
    AttemptStatus,
    CallAttempt,
    Callback,
    CallbackStatus,
    CallEvent,
    Campaign,
    Debt,
    Debtor,
    DebtStatus,
    OptOut,
    Phone,
    Promise,
    utcnow,
)

_RANK = {
    AttemptStatus.CLAIMED: 0,
    AttemptStatus.UNKNOWN: 0,
    AttemptStatus.QUEUED: 1,
    AttemptStatus.INITIATED: 2,
    AttemptStatus.RINGING: 3,
    AttemptStatus.IN_PROGRESS: 4,
}
_FINAL_RANK = 5


def status_rank(status: AttemptStatus) -> int:
    return _FINAL_RANK if status in FINAL_ATTEMPT_STATUSES else _RANK[status]


@dataclass(frozen=True)
class StatusUpdate:
    """One status callback, as Twilio sent it."""

    call_sid: str
    status: str
    sequence: int
    duration_s: int | None = None
    answered_by: str | None = None
    timestamp: str | None = None


async def apply_status(session: AsyncSession, attempt: CallAttempt, upd: StatusUpdate) -> bool:
    """Apply a status callback idempotently and in any arrival order.

    A callback seen before (same SequenceNumber) changes nothing; an older
    one never moves the status backwards but may still fill missing fields.
    Returns True when something changed.
    """
    seen = await session.scalar(
        select(CallEvent.id).where(
            CallEvent.attempt_id == attempt.id,
            CallEvent.kind == "status",
            CallEvent.data["sequence"].as_integer() == upd.sequence,
        )
    )
    if seen is not None:
        return False
    try:
        new = AttemptStatus(upd.status)
    except ValueError:
        new = None
    session.add(
        CallEvent(
            attempt_id=attempt.id,
            kind="status",
            data={
                "sequence": upd.sequence,
                "status": upd.status,
                "duration": upd.duration_s,
                "timestamp": upd.timestamp,
            },
        )
    )
    if attempt.call_sid is None:
        attempt.call_sid = upd.call_sid
    now = utcnow()
    if new is not None and status_rank(new) > status_rank(attempt.status):
        attempt.status = new
    if new is AttemptStatus.IN_PROGRESS and attempt.answered_at is None:
        attempt.answered_at = now
    if new in FINAL_ATTEMPT_STATUSES:
        if attempt.ended_at is None:
            attempt.ended_at = now
        if upd.duration_s is not None:
            attempt.duration_s = upd.duration_s
        if attempt.outcome is None:
            attempt.outcome = _default_outcome(new, attempt.answered_by)
    if upd.answered_by and not attempt.answered_by:
        attempt.answered_by = upd.answered_by
    attempt.last_sequence = max(attempt.last_sequence, upd.sequence)
    return True


def _default_outcome(status: AttemptStatus, answered_by: str | None) -> str:
    if status is AttemptStatus.COMPLETED and answered_by and answered_by.startswith("machine"):
        return "voicemail"
    return "no_contact"


async def add_event(
    session: AsyncSession, attempt_id: int, kind: str, data: dict[str, Any] | None = None
) -> None:
    session.add(CallEvent(attempt_id=attempt_id, kind=kind, data=data or {}))


@dataclass(frozen=True)
class AttemptContext:
    attempt: CallAttempt
    debtor: Debtor
    debt: Debt | None
    phone: Phone | None
    campaign: Campaign | None


async def load_attempt_context(session: AsyncSession, attempt_id: int) -> AttemptContext | None:
    attempt = await session.get(CallAttempt, attempt_id)
    if attempt is None:
        return None
    debtor = await session.get(Debtor, attempt.debtor_id)
    assert debtor is not None
    debt = await session.get(Debt, attempt.debt_id) if attempt.debt_id else None
    phone = await session.get(Phone, attempt.phone_id) if attempt.phone_id else None
    campaign = await session.get(Campaign, attempt.campaign_id) if attempt.campaign_id else None
    return AttemptContext(attempt, debtor, debt, phone, campaign)


async def record_promise(
    session: AsyncSession, attempt: CallAttempt, date: dt.date, amount_cents: int
) -> Promise:
    if attempt.debt_id is None:
        raise ValueError("attempt has no debt to promise against")
    promise = Promise(
        debt_id=attempt.debt_id,
        attempt_id=attempt.id,
        promised_date=date,
        amount_cents=amount_cents,
    )
    session.add(promise)
    await add_event(
        session, attempt.id, "promise", {"date": date.isoformat(), "amount_cents": amount_cents}
    )
    return promise


async def record_opt_out(session: AsyncSession, attempt: CallAttempt, source: str = "ivr") -> None:
    debtor = await session.get(Debtor, attempt.debtor_id)
    assert debtor is not None
    if debtor.opted_out_at is None:
        debtor.opted_out_at = utcnow()
    session.add(OptOut(debtor_id=debtor.id, channel="call", source=source))
    # Pending callbacks would call an opted-out person: cancel them at once.
    for cb in (
        await session.scalars(
            select(Callback).where(
                Callback.debtor_id == debtor.id, Callback.status == CallbackStatus.PENDING
            )
        )
    ).all():
        cb.status = CallbackStatus.CANCELLED
    await add_event(session, attempt.id, "opt_out", {})


async def record_wrong_number(session: AsyncSession, attempt: CallAttempt) -> None:
    if attempt.phone_id is not None:
        phone = await session.get(Phone, attempt.phone_id)
        if phone is not None and phone.wrong_number_at is None:
            phone.wrong_number_at = utcnow()
    await add_event(session, attempt.id, "wrong_number", {})


async def record_already_paid(
    session: AsyncSession, attempt: CallAttempt, pause_until: dt.datetime
) -> None:
    if attempt.debt_id is not None:
        debt = await session.get(Debt, attempt.debt_id)
        if debt is not None and debt.status is DebtStatus.OPEN:
            debt.paused_until = max(pause_until, debt.paused_until or pause_until)
    await add_event(session, attempt.id, "already_paid", {"pause_until": pause_until.isoformat()})


async def record_callback(
    session: AsyncSession, attempt: CallAttempt, due_at: dt.datetime, reason: str = "asked"
) -> Callback:
    cb = Callback(
        debtor_id=attempt.debtor_id, debt_id=attempt.debt_id, due_at=due_at, reason=reason
    )
    session.add(cb)
    await add_event(session, attempt.id, "callback", {"due_at": due_at.isoformat()})
    return cb
