"""Giving back claims a draining replica will not place.

A claim is an attempt row in ``claimed``: nothing has left for the carrier
yet. Deleting it (instead of cancelling) matters: a cancelled attempt still
counts against the person's daily and weekly caps, but a claim that was never
dialled is not a call. The debtor's planner hint is set to now and a
callback the claim consumed is pending again, so the next tick of any
replica claims them afresh.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store.models import (
    LIVE_ATTEMPT_STATUSES,
    AttemptStatus,
    CallAttempt,
    Callback,
    CallbackStatus,
    Debtor,
)

# Sent to the carrier and not final: a call this replica is responsible for.
PLACED_LIVE = sorted(
    s.value for s in LIVE_ATTEMPT_STATUSES - {AttemptStatus.CLAIMED, AttemptStatus.UNKNOWN}
)


async def release_unplaced(
    sessions: async_sessionmaker[AsyncSession], worker_id: str, now: dt.datetime
) -> int:
    """Delete this worker's claims that were never sent; returns how many."""
    async with sessions() as s, s.begin():
        rows = (
            await s.execute(
                select(CallAttempt.id, CallAttempt.debtor_id, CallAttempt.callback_id)
                .where(
                    CallAttempt.status == AttemptStatus.CLAIMED,
                    CallAttempt.claimed_by == worker_id,
                )
                .with_for_update()
            )
        ).all()
        if not rows:
            return 0
        callbacks = [r.callback_id for r in rows if r.callback_id is not None]
        if callbacks:
            await s.execute(
                update(Callback)
                .where(Callback.id.in_(callbacks), Callback.status == CallbackStatus.DONE)
                .values(status=CallbackStatus.PENDING)
            )
        result = await s.execute(
            delete(CallAttempt).where(
                CallAttempt.id.in_([r.id for r in rows]),
                CallAttempt.status == AttemptStatus.CLAIMED,
            )
        )
        await s.execute(
            update(Debtor)
            .where(Debtor.id.in_(sorted({r.debtor_id for r in rows})))
            .values(next_attempt_at=now, updated_at=Debtor.updated_at)
        )
        return int(getattr(result, "rowcount", 0) or 0)


async def placed_live_calls(sessions: async_sessionmaker[AsyncSession], worker_id: str) -> int:
    """Calls this worker placed that the carrier has not ended yet."""
    async with sessions() as s:
        n = await s.scalar(
            select(func.count()).where(
                CallAttempt.claimed_by == worker_id, CallAttempt.status.in_(PLACED_LIVE)
            )
        )
    return int(n or 0)
