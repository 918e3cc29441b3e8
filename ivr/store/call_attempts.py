"""Queries about one call attempt, as the live call and the dialer need them.

Each takes the caller's session and leaves the transaction to it (the call's
writes are retried as a whole by :mod:`ivr.calls.store_writer`), so the call
code says *what* it records and this module says *how* it is stored. Event
rows go through :func:`ivr.store.queries.add_event` / ``insert_once``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import FINAL_ATTEMPT_STATUSES, AttemptStatus, CallAttempt, utcnow
from ivr.store.queries import add_event
from ivr.vocab.outcomes import Outcome


async def count_other_attempts_with_outcome(
    session: AsyncSession, debtor_id: int, excluding_attempt_id: int, outcomes: Iterable[str]
) -> int:
    """How many of this debtor's other attempts (any campaign) ended in ``outcomes``."""
    found = await session.scalar(
        select(func.count(CallAttempt.id)).where(
            CallAttempt.debtor_id == debtor_id,
            CallAttempt.id != excluding_attempt_id,
            CallAttempt.outcome.in_(sorted(outcomes)),
        )
    )
    return int(found or 0)


async def bind_stream_call_sid(session: AsyncSession, attempt_id: int, call_sid: str) -> bool:
    """True when the attempt is live and carries this CallSid (recorded if still unset).

    One statement checks "live and this call" and records the CallSid if the
    carrier's REST answer has not been stored yet. Raises ``IntegrityError``
    when the CallSid already belongs to another attempt.
    """
    t = cast(Table, CallAttempt.__table__)
    finals = [s.value for s in FINAL_ATTEMPT_STATUSES]
    bound = await session.execute(
        update(t)
        .where(
            t.c.id == attempt_id,
            t.c.status.not_in(finals),
            or_(t.c.call_sid.is_(None), t.c.call_sid == call_sid),
        )
        .values(call_sid=func.coalesce(t.c.call_sid, call_sid))
    )
    return bool(bound.rowcount)  # type: ignore[attr-defined]


async def ended_call(session: AsyncSession, attempt_id: int, call_sid: str) -> bool:
    """True when the attempt is final and was this very call: its stream
    started as the call ended (a hang-up and the stream's ``start`` cross)."""
    row = await session.get(CallAttempt, attempt_id)
    return row is not None and row.call_sid == call_sid and row.status in FINAL_ATTEMPT_STATUSES


async def is_claimed_for(session: AsyncSession, attempt_id: int, to_number: str) -> bool:
    """Reserved by the claim transaction for this very number and never sent."""
    row = await session.get(CallAttempt, attempt_id)
    return (
        row is not None
        and row.call_sid is None
        and row.status in (AttemptStatus.CLAIMED, AttemptStatus.UNKNOWN)
        and row.to_number == to_number
    )


async def record_placed(session: AsyncSession, attempt_id: int, call_sid: str) -> None:
    """The carrier accepted the call: keep a CallSid a callback stored first,
    never move a status back, and log the placing."""
    attempt = await session.get(CallAttempt, attempt_id, with_for_update=True)
    assert attempt is not None
    if attempt.call_sid is None:
        attempt.call_sid = call_sid
    if attempt.status in (AttemptStatus.CLAIMED, AttemptStatus.UNKNOWN):
        attempt.status = AttemptStatus.QUEUED
    attempt.placed_at = attempt.placed_at or utcnow()
    await add_event(session, attempt_id, "placed", {"call_sid": call_sid})


async def set_outcome(session: AsyncSession, attempt_id: int, outcome: str) -> None:
    """The attempt's current outcome (the dialog may refine it as the call goes)."""
    attempt = await session.get(CallAttempt, attempt_id)
    if attempt is not None:
        attempt.outcome = Outcome(outcome)


async def set_outcome_if_missing(session: AsyncSession, attempt_id: int, outcome: str) -> None:
    """An outcome for a call that ended before the dialog recorded one."""
    attempt = await session.get(CallAttempt, attempt_id)
    if attempt is not None and attempt.outcome is None:
        attempt.outcome = Outcome(outcome)


async def record_transfer(
    session: AsyncSession, attempt_id: int, reason: str, handed_over: bool
) -> None:
    """The dialog asked for an agent; ``handed_over`` says whether one took the call."""
    await add_event(session, attempt_id, "transfer", {"reason": reason, "handed_over": handed_over})
    await set_outcome(session, attempt_id, "agent")


async def flag_error(session: AsyncSession, attempt_id: int, error: str) -> None:
    """Mark an attempt that ended on a fault (its outcome stays if it had one)."""
    attempt = await session.get(CallAttempt, attempt_id)
    if attempt is not None:
        attempt.error = error
        attempt.outcome = attempt.outcome or Outcome.ERROR


async def mark_not_placed(
    session: AsyncSession, attempt_id: int, *, unknown: bool, error: str
) -> None:
    """A call the carrier refused (failed) or may have placed (unknown: settled later)."""
    attempt = await session.get(CallAttempt, attempt_id)
    if attempt is not None:
        attempt.status = AttemptStatus.UNKNOWN if unknown else AttemptStatus.FAILED
        attempt.error = error
