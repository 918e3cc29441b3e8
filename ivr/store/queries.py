"""Plain async query functions used by the webhooks and the call session.

Each takes a session and leaves committing to the caller, except where the
name says ``commit``: outcomes that must survive a crash mid-call (a promise,
an opt-out) are committed at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, Update, case, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

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
    NumberOptOut,
    OptOut,
    PaymentPlan,
    Phone,
    PlanSource,
    Promise,
    utcnow,
)
from ivr.store.plans import create_plan

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
    """One status callback, as Twilio sent it (fields already validated).

    ``sequence`` is None when the callback carried no SequenceNumber (status
    callbacks configured on a number, older integrations).
    """

    call_sid: str
    status: str
    sequence: int | None
    duration_s: int | None = None
    answered_by: str | None = None
    timestamp: dt.datetime | None = None

    @property
    def dedupe_key(self) -> str:
        """Twice the same callback is a no-op; without a SequenceNumber the
        status itself is the key (a call passes each status once), so a
        ``completed`` is never taken for a repeat of ``ringing``."""
        if self.sequence is None:
            return f"status:{self.status}"
        return f"status:{self.sequence}"


async def apply_status(session: AsyncSession, attempt_id: int, upd: StatusUpdate) -> bool:
    """Apply a status callback idempotently and in any arrival order.

    The event row carries a unique key (:attr:`StatusUpdate.dedupe_key`), so
    a callback delivered twice inserts nothing the second time (the database
    decides, even between replicas). Statuses are ordered by rank (the order
    a call passes through them, which is also their Timestamp order), never
    by arrival: an older callback never moves the status backwards, a final
    status is never replaced by a non-final one, but an older callback may
    still fill fields that are missing. Core statements keep this cheap: it
    runs for every callback of every call.
    Returns True when the callback was new.
    """
    inserted = await insert_once(
        session,
        attempt_id=attempt_id,
        kind="status",
        dedupe_key=upd.dedupe_key,
        data=_status_data(upd),
    )
    if not inserted:
        return False
    await session.execute(_status_update(attempt_id, upd))
    return True


async def apply_status_at_once(conn: AsyncConnection, attempt_id: int, upd: StatusUpdate) -> bool:
    """:func:`apply_status` as one PostgreSQL statement, for an autocommit connection.

    The event's insert is a data-modifying CTE and the attempt's update runs
    only if it inserted a row: one round trip and an implicit transaction,
    where the session's way takes five (BEGIN, the durability setting, the
    two statements, COMMIT). Each round trip is a wake-up of this process
    and of its database backend, and on a busy machine each wake-up may wait
    for a core: the callbacks that waited longest during a large import
    were those that woke most often.
    """
    table = cast(Table, CallEvent.__table__)
    new_event = (
        pg_insert(table)
        .values(**_event_row(attempt_id, "status", upd.dedupe_key, _status_data(upd)))
        .on_conflict_do_nothing(index_elements=["attempt_id", "dedupe_key"])
        .returning(table.c.id)
        .cte("new_event")
    )
    stmt = _status_update(attempt_id, upd).where(exists(select(new_event.c.id)))
    result = await conn.execute(stmt)
    return bool(result.rowcount)


def _status_data(upd: StatusUpdate) -> dict[str, Any]:
    return {
        "sequence": upd.sequence,
        "status": upd.status,
        "duration": upd.duration_s,
        "timestamp": upd.timestamp.isoformat() if upd.timestamp else None,
        "answered_by": upd.answered_by,
    }


def _status_update(attempt_id: int, upd: StatusUpdate) -> Update:
    """The attempt's update for a new callback: ranks, never arrival order, decide."""
    t = cast(Table, CallAttempt.__table__)
    now = utcnow()
    values: dict[str, Any] = {"call_sid": func.coalesce(t.c.call_sid, upd.call_sid)}
    if upd.sequence is not None:
        values["last_sequence"] = case(
            (t.c.last_sequence < upd.sequence, upd.sequence), else_=t.c.last_sequence
        )
    try:
        new: AttemptStatus | None = AttemptStatus(upd.status)
    except ValueError:
        new = None
    if new is not None:
        lower = [s.value for s in AttemptStatus if status_rank(s) < status_rank(new)]
        values["status"] = case((t.c.status.in_(lower), new.value), else_=t.c.status)
        if new is AttemptStatus.IN_PROGRESS:
            values["answered_at"] = func.coalesce(t.c.answered_at, now)
        if new in FINAL_ATTEMPT_STATUSES:
            values["ended_at"] = func.coalesce(t.c.ended_at, now)
            if upd.duration_s is not None:
                values["duration_s"] = upd.duration_s
            machine = t.c.answered_by.like("machine%")
            default = case(
                (machine & (new is AttemptStatus.COMPLETED), "voicemail"), else_="no_contact"
            )
            values["outcome"] = func.coalesce(t.c.outcome, default)
    if upd.answered_by:
        values["answered_by"] = func.coalesce(t.c.answered_by, upd.answered_by)
    return update(t).where(t.c.id == attempt_id).values(**values)


async def insert_once(
    session: AsyncSession, *, attempt_id: int, kind: str, dedupe_key: str, data: dict[str, Any]
) -> bool:
    """Insert an event unless one with the same key exists; True when inserted."""
    table = cast(Table, CallEvent.__table__)
    row = _event_row(attempt_id, kind, dedupe_key, data)
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    ins = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    stmt = ins.values(**row).on_conflict_do_nothing(index_elements=["attempt_id", "dedupe_key"])
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _event_row(attempt_id: int, kind: str, dedupe_key: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "attempt_id": attempt_id,
        "kind": kind,
        "dedupe_key": dedupe_key,
        "data": data,
        "at": utcnow(),
    }


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
    if attempt.debtor_id is None:  # an inbound caller who has not said who they are
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


async def record_plan(
    session: AsyncSession,
    attempt: CallAttempt,
    instalments: Sequence[tuple[dt.date, int]],
) -> PaymentPlan:
    """A plan agreed in the call: one plan, its instalments numbered in date order."""
    if attempt.debt_id is None:
        raise ValueError("attempt has no debt to promise against")
    plan, _ = await create_plan(
        session,
        debt_id=attempt.debt_id,
        instalments=instalments,
        source=PlanSource.IVR,
        attempt_id=attempt.id,
    )
    await add_event(
        session,
        attempt.id,
        "plan",
        {
            "plan_id": plan.id,
            "instalments": [
                {"date": day.isoformat(), "amount_cents": cents} for day, cents in instalments
            ],
        },
    )
    return plan


async def cancel_pending_callbacks(session: AsyncSession, debtor_id: int) -> None:
    """Pending callbacks would call someone who may no longer be called: cancel them."""
    for cb in (
        await session.scalars(
            select(Callback).where(
                Callback.debtor_id == debtor_id, Callback.status == CallbackStatus.PENDING
            )
        )
    ).all():
        cb.status = CallbackStatus.CANCELLED


async def record_opt_out(session: AsyncSession, attempt: CallAttempt, source: str = "ivr") -> None:
    """The verified person asked not to be called: no number of theirs is called again."""
    debtor = await session.get(Debtor, attempt.debtor_id)
    assert debtor is not None
    if debtor.opted_out_at is None:
        debtor.opted_out_at = utcnow()
    session.add(OptOut(debtor_id=debtor.id, channel="call", source=source))
    await cancel_pending_callbacks(session, debtor.id)
    await add_event(session, attempt.id, "opt_out", {})


async def record_number_opt_out(
    session: AsyncSession, attempt: CallAttempt, source: str = "ivr"
) -> None:
    """Someone asked not to be called before saying who they were: the number
    this call dialed is never dialed again (for any debtor); the person is not
    opted out, and may still be reached at another number."""
    e164 = attempt.to_number
    known = await session.scalar(select(NumberOptOut.id).where(NumberOptOut.e164 == e164))
    if known is None:
        session.add(NumberOptOut(e164=e164, attempt_id=attempt.id, source=source))
    await add_event(session, attempt.id, "opt_out_number", {"e164": e164})


async def number_opted_out(session: AsyncSession, e164: str) -> bool:
    """Whether someone at this number asked not to be called there."""
    found = await session.scalar(select(NumberOptOut.id).where(NumberOptOut.e164 == e164))
    return found is not None


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
    session: AsyncSession,
    attempt: CallAttempt,
    due_at: dt.datetime,
    reason: str = "asked",
    **detail: Any,
) -> Callback:
    """A callback the debtor asked for, and its event (``detail`` joins the event's data)."""
    cb = Callback(
        debtor_id=attempt.debtor_id, debt_id=attempt.debt_id, due_at=due_at, reason=reason
    )
    session.add(cb)
    await add_event(session, attempt.id, "callback", {"due_at": due_at.isoformat(), **detail})
    return cb


async def attempt_id_by_call_sid(session: AsyncSession, call_sid: str) -> int | None:
    """The attempt a carrier call belongs to, for callbacks whose URL names no attempt."""
    found: int | None = await session.scalar(
        select(CallAttempt.id).where(CallAttempt.call_sid == call_sid)
    )
    return found


async def record_answered_by(session: AsyncSession, attempt_id: int, answered_by: str) -> bool:
    """Store an answering-machine detection result; False when there is no such attempt."""
    attempt = await session.get(CallAttempt, attempt_id)
    if attempt is None:
        return False
    attempt.answered_by = answered_by
    await add_event(session, attempt.id, "amd", {"answered_by": answered_by})
    return True
