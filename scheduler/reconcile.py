"""Settling attempts whose fate only the carrier knows; never placing a call.

Three sweeps, each a method the dialer inherits (the planner runs them):

* :meth:`Reconciler.reconcile`: a request that may or may not have created a
  call (``unknown``) is looked up by sid, else among the calls to that number
  since the claim, and adopted; after ``give_up`` with nothing found it never
  happened and is cancelled.
* :meth:`Reconciler.reconcile_silent_calls`: a placed call whose final status
  callback was lost would keep the person "in a call" for ever; after
  ``quiet_for`` the carrier's own record settles it.
* :meth:`Reconciler.sweep_stale_claims`: a claim whose worker died before
  sending it would block the person; it is cancelled.

Kept apart from ``scheduler.dialer`` (pacing, re-checks, safe retries): this
half only reads the carrier and moves attempts to what it says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import structlog
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store.attempt_cancel import cancel_attempts
from ivr.store.models import FINAL_ATTEMPT_STATUSES, AttemptStatus, CallAttempt, utcnow
from scheduler.carrier import (
    CARRIER_STATUSES,
    CarrierCall,
    PlaceCall,
    PlaceCallError,
    PlaceCallUnknown,
)
from scheduler.release import PLACED_LIVE

log = structlog.get_logger(__name__)


class Reconciler:
    """Asks the carrier about attempts in doubt and records what it says."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        port: PlaceCall,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.port = port
        self.clock = clock

    async def reconcile(
        self,
        now: dt.datetime | None = None,
        *,
        grace: dt.timedelta = dt.timedelta(seconds=30),
        give_up: dt.timedelta = dt.timedelta(minutes=10),
        limit: int = 100,
    ) -> int:
        """Settle attempts whose placing outcome is unknown; returns how many were settled.

        Never places a call: it only asks the carrier what happened.
        """
        now = now or self.clock()
        settled = 0
        async for r, found in self._ask_carrier(
            (
                CallAttempt.call_sid,
                CallAttempt.to_number,
                CallAttempt.claimed_at,
                CallAttempt.placed_at,
            ),
            (CallAttempt.status == AttemptStatus.UNKNOWN, CallAttempt.placed_at <= now - grace),
            limit,
            lambda r: self._find(r.call_sid, r.to_number, r.claimed_at),
        ):
            still_unknown = (CallAttempt.id == r.id, CallAttempt.status == AttemptStatus.UNKNOWN)
            async with self.sessions() as s, s.begin():
                if found is not None:
                    status = CARRIER_STATUSES.get(found.status, AttemptStatus.QUEUED)
                    values: dict[str, object] = {"status": status, "call_sid": found.sid}
                    if status in FINAL_ATTEMPT_STATUSES:
                        values["ended_at"] = now
                    result = await s.execute(
                        update(CallAttempt).where(*still_unknown).values(**values, error=None)
                    )
                    settled += int(getattr(result, "rowcount", 0) or 0)
                elif r.placed_at is not None and now - r.placed_at >= give_up:
                    settled += await cancel_attempts(
                        s,
                        *still_unknown,
                        why="the carrier has no such call: it was never placed",
                        now=now,
                    )
        return settled

    async def reconcile_silent_calls(
        self,
        now: dt.datetime | None = None,
        *,
        quiet_for: dt.timedelta = dt.timedelta(hours=2),
        limit: int = 100,
    ) -> int:
        """Ask the carrier about placed calls that never reported an end.

        A lost final status callback would leave the person "in a call" (not
        callable) for ever; after ``quiet_for`` the carrier's own record
        settles it. Only moves an attempt to a final status, never places.
        """
        now = now or self.clock()
        settled = 0
        async for r, found in self._ask_carrier(
            (CallAttempt.call_sid,),
            (
                # Sent to the carrier and not final (claimed and unknown have their own sweeps).
                CallAttempt.status.in_(PLACED_LIVE),
                CallAttempt.call_sid.is_not(None),
                CallAttempt.placed_at <= now - quiet_for,
            ),
            limit,
            lambda r: self.port.fetch(r.call_sid),
        ):
            status = (
                CARRIER_STATUSES.get(found.status, AttemptStatus.FAILED)
                if found is not None
                else AttemptStatus.FAILED
            )
            if status not in FINAL_ATTEMPT_STATUSES:
                continue
            duration = getattr(found, "duration", None)
            async with self.sessions() as s, s.begin():
                result = await s.execute(
                    update(CallAttempt)
                    .where(CallAttempt.id == r.id, CallAttempt.status.in_(PLACED_LIVE))
                    .values(
                        status=status,
                        ended_at=now,
                        duration_s=duration,
                        outcome=func.coalesce(CallAttempt.outcome, "no_contact"),
                        error=None if found is not None else "the carrier has no such call",
                    )
                )
                settled += int(getattr(result, "rowcount", 0) or 0)
        return settled

    async def _ask_carrier(
        self,
        columns: Sequence[Any],
        where: Sequence[ColumnElement[bool]],
        limit: int,
        ask: Callable[[Any], Awaitable[CarrierCall | None]],
    ) -> AsyncIterator[tuple[Any, CarrierCall | None]]:
        """The attempts ``where`` selects (``id`` and ``columns``, oldest placed first),
        each with the carrier's view of its call. One the carrier cannot be asked
        about now is skipped: the next sweep asks again."""
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    select(CallAttempt.id, *columns)
                    .where(*where)
                    .order_by(CallAttempt.placed_at)
                    .limit(limit)
                )
            ).all()
        for r in rows:
            try:
                found = await ask(r)
            except (PlaceCallError, PlaceCallUnknown) as exc:
                log.warning("dialer.reconcile_error", attempt_id=r.id, error=str(exc))
                continue
            yield r, found

    async def _find(self, sid: str | None, to: str, claimed_at: dt.datetime) -> CarrierCall | None:
        if sid:
            return await self.port.fetch(sid)
        calls = await self.port.find_calls(to, claimed_at - dt.timedelta(minutes=1))
        if not calls:
            return None
        async with self.sessions() as s:
            taken = set(
                (
                    await s.scalars(
                        select(CallAttempt.call_sid).where(
                            CallAttempt.call_sid.in_([c.sid for c in calls])
                        )
                    )
                ).all()
            )
        free = [c for c in calls if c.sid not in taken]
        return free[0] if free else None

    async def sweep_stale_claims(
        self, now: dt.datetime | None = None, *, older_than: dt.timedelta = dt.timedelta(minutes=15)
    ) -> int:
        """Cancel claims that were never sent (their worker died): they would block the person."""
        now = now or self.clock()
        async with self.sessions() as s, s.begin():
            return await cancel_attempts(
                s,
                CallAttempt.status == AttemptStatus.CLAIMED,
                CallAttempt.claimed_at <= now - older_than,
                why="the claim expired before the call was placed",
                now=now,
            )
