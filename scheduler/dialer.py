"""Placing claimed attempts through a small port, paced, retried, reconciled.

The port (:class:`PlaceCall`) is all the dialer knows of the carrier, so the
same code drives Twilio and the sandbox. Three rules keep a person from being
called twice by accident:

* Before the request leaves, the attempt moves ``claimed -> unknown`` in its
  own committed transaction ("we may have placed it"). A crash mid-request
  leaves ``unknown``, which is reconciled, never redialled.
* Only errors that prove no call was created (429, 5xx, refused connection:
  :class:`PlaceCallError` with ``retryable``) are retried, on the *same*
  attempt row, after moving it back to ``claimed``; never a new claim.
* A timeout (:class:`PlaceCallUnknown`) is never retried: :meth:`Dialer.reconcile`
  asks the carrier (``fetch`` by sid, else the calls to that number since
  the claim) and adopts what it finds; a status callback may settle it first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store.models import (
    FINAL_ATTEMPT_STATUSES,
    LIVE_ATTEMPT_STATUSES,
    AttemptStatus,
    CallAttempt,
    Debt,
    Debtor,
    DebtStatus,
    Phone,
    utcnow,
)
from scheduler.claim import Claim
from scheduler.pacing import Pacer, TokenBucket
from scheduler.windows import is_callable_at

log = structlog.get_logger(__name__)


class PlaceCallError(Exception):
    """The carrier refused the request; ``retryable`` only if surely no call was created."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class PlaceCallUnknown(Exception):
    """The request may or may not have created a call (timeout, broken connection)."""


class CarrierCall(Protocol):
    """What the dialer reads about a call the carrier knows."""

    @property
    def sid(self) -> str: ...

    @property
    def status(self) -> str: ...


@runtime_checkable
class PlaceCall(Protocol):
    """The port to the carrier (Twilio or the sandbox).

    A port may also offer ``prepare(attempt_id)`` (see :data:`Prepare`): the
    slow per-call work (rendering the person's prompts) done *before* the
    dialer waits for its pace, so the paced instant is when the request
    leaves, not when a slow render happens to finish.
    """

    async def place(self, attempt: CallAttempt, debtor: Debtor, phone: Phone) -> str:
        """Create the call; return its sid. Raise PlaceCallError / PlaceCallUnknown."""
        ...

    async def fetch(self, call_sid: str) -> CarrierCall | None:
        """The carrier's view of one call (None if it does not exist)."""
        ...

    async def find_calls(self, to: str, after: dt.datetime) -> list[CarrierCall]:
        """Calls to ``to`` created at or after ``after`` (to reconcile a lost sid)."""
        ...


# Optional work before pacing (see PlaceCall); its failure is only logged: what
# it left undone (prompts not rendered) is done during the call instead.
Prepare = Callable[[int], Awaitable[object]]


def port_prepare(port: object) -> Prepare | None:
    """The port's ``prepare``, if it has one."""
    fn = getattr(port, "prepare", None)
    return fn if callable(fn) else None


@dataclass(frozen=True)
class DialOutcome:
    attempt_id: int
    result: str  # placed | failed | unknown | cancelled | skipped | released
    call_sid: str | None = None
    tries: int = 0


WINDOW_CLOSED = "the call window closed before the call was placed"
# Claims prepared at once ahead of their pace (their renders queue in front of
# live calls' prompts).
PREPARE_AHEAD = 2


def _in_window(claim: Claim, now: dt.datetime) -> bool:
    return is_callable_at(
        now, claim.zones, claim.windows, claim.country, claim.region, claim.blocked
    )


_CARRIER_STATUSES = {s.value: s for s in AttemptStatus}


class Dialer:
    """Places claims one by one: pace, re-check, place, retry safely, record."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        port: PlaceCall,
        *,
        cps: float = 1.0,
        clock: Callable[[], dt.datetime] = utcnow,
        max_retries: int = 4,
        base_backoff_s: float = 0.5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        bucket: Pacer | None = None,
    ) -> None:
        self.sessions = sessions
        self.port = port
        self.clock = clock
        self.max_retries = max_retries
        self.base_backoff_s = base_backoff_s
        self._sleep = sleep
        # The account's pace (see scheduler.pacing): no burst, one call per 1/cps s.
        self.bucket: Pacer = bucket or TokenBucket(cps, capacity=1.0)
        self._turn = asyncio.Lock()
        self._warm = False
        # Set when the service drains: claims not yet sent are given back.
        self.closing = asyncio.Event()
        self._prepare = port_prepare(port)
        self._preparing = asyncio.Semaphore(PREPARE_AHEAD)

    async def _paced(self) -> float | None:
        """Wait for the rate limiter; the slot's ``time.monotonic()`` instant, or
        None once draining (the claim is released)."""
        if self.closing.is_set():
            return None
        acquire = asyncio.ensure_future(self.bucket.acquire())
        closing = asyncio.ensure_future(self.closing.wait())
        try:
            await asyncio.wait({acquire, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for f in (acquire, closing):
                f.cancel()
        if self.closing.is_set() or not acquire.done() or acquire.cancelled():
            return None
        slot = acquire.result()
        return time.monotonic() if slot is None else slot

    async def dial(self, claim: Claim) -> DialOutcome:
        tries = 0
        await self._prepared(claim)
        while True:
            # The re-check runs before the pace; after it, one UPDATE and the
            # request. One dial at a time from its pace to the request: a slow
            # statement delays this process's next slot instead of bunching calls.
            # Until the carrier has answered once (a new client's first request
            # is slow) the turn is held through the request too.
            checked = await self._recheck(claim)
            if isinstance(checked, DialOutcome):
                return checked
            attempt, debtor, phone = checked
            await self._turn.acquire()
            held, sent = True, False
            try:
                if await self._paced() is None:
                    return DialOutcome(claim.attempt_id, "released", tries=tries)
                begun = await self._begin_placing(claim, attempt)
                if begun is None:
                    continue  # the claim changed during the wait: look again
                if isinstance(begun, DialOutcome):
                    return begun
                if self._warm:
                    self._turn.release()
                    held = False
                tries += 1
                sent = True
                sid = await self.port.place(attempt, debtor, phone)
            except PlaceCallError as exc:
                if exc.retryable and tries <= self.max_retries:
                    await self._back_to_claimed(claim.attempt_id, str(exc))
                    delay = self.base_backoff_s * 2 ** (tries - 1)
                    await self._sleep(delay * (0.5 + random.random() / 2))
                    continue
                await self._finish(claim.attempt_id, AttemptStatus.FAILED, str(exc))
                log.warning("dialer.failed", attempt_id=claim.attempt_id, error=str(exc))
                return DialOutcome(claim.attempt_id, "failed", tries=tries)
            except PlaceCallUnknown as exc:
                await self._note(claim.attempt_id, f"outcome unknown, reconciling: {exc}")
                log.warning("dialer.unknown", attempt_id=claim.attempt_id, error=str(exc))
                return DialOutcome(claim.attempt_id, "unknown", tries=tries)
            except asyncio.CancelledError:
                # Stopped mid-request: the attempt stays ``unknown`` for reconciliation.
                raise
            except Exception as exc:  # a bug in the port: we cannot know what happened
                await self._note(claim.attempt_id, f"outcome unknown, reconciling: {exc!r}")
                log.exception("dialer.port_error", attempt_id=claim.attempt_id)
                return DialOutcome(claim.attempt_id, "unknown", tries=tries)
            finally:
                self._warm = self._warm or sent
                if held:
                    self._turn.release()
            await self._placed(claim.attempt_id, sid)
            return DialOutcome(claim.attempt_id, "placed", sid, tries)

    async def _prepared(self, claim: Claim) -> None:
        """Run the port's ``prepare`` before the pace, a few claims at a time: a
        tick's whole batch must not queue its renders ahead of live calls' prompts."""
        if self._prepare is None:
            return
        async with self._preparing:
            if self.closing.is_set():
                return
            try:
                await self._prepare(claim.attempt_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # placing prepares again, or fails there properly
                log.warning("dialer.prepare_failed", attempt_id=claim.attempt_id, error=repr(exc))

    async def _recheck(self, claim: Claim) -> DialOutcome | tuple[CallAttempt, Debtor, Phone]:
        """Re-check the person before waiting for the pace; cancel the claim if
        they may no longer be called. The attempt stays ``claimed``."""
        now = self.clock()
        async with self.sessions() as s, s.begin():
            attempt = await s.get(CallAttempt, claim.attempt_id, populate_existing=True)
            if attempt is None or attempt.status is not AttemptStatus.CLAIMED:
                return DialOutcome(claim.attempt_id, "skipped")
            debtor = await s.get(Debtor, claim.debtor_id)
            phone = await s.get(Phone, claim.phone_id) if claim.phone_id else None
            debt = await s.get(Debt, claim.debt_id) if claim.debt_id else None
            why = None
            if not _in_window(claim, now):
                why = WINDOW_CLOSED
            elif debtor is None or debtor.opted_out_at is not None:
                why = "the debtor opted out before the call was placed"
            elif phone is None or phone.wrong_number_at is not None:
                why = "the number was marked wrong before the call was placed"
            elif debt is not None and (
                debt.status is not DebtStatus.OPEN
                or (debt.paused_until is not None and debt.paused_until > now)
            ):
                why = "the debt was paid or paused before the call was placed"
            if why is not None:
                await self._cancel(s, claim.attempt_id, why, now)
                return DialOutcome(claim.attempt_id, "cancelled")
            assert debtor is not None and phone is not None
            return attempt, debtor, phone

    async def _begin_placing(
        self, claim: Claim, attempt: CallAttempt
    ) -> DialOutcome | CallAttempt | None:
        """At the paced instant: one statement moves ``claimed -> unknown``.

        Only what can change within the pace wait is checked again: the window
        (no query) and, in the same UPDATE, the claim and an opt-out. None: it
        changed under us; the caller re-checks from the start.
        """
        now = self.clock()
        async with self.sessions() as s, s.begin():
            if not _in_window(claim, now):
                await self._cancel(s, claim.attempt_id, WINDOW_CLOSED, now)
                return DialOutcome(claim.attempt_id, "cancelled")
            opted_out = (
                select(Debtor.id)
                .where(Debtor.id == claim.debtor_id, Debtor.opted_out_at.is_not(None))
                .exists()
            )
            result = await s.execute(
                update(CallAttempt)
                .where(
                    CallAttempt.id == claim.attempt_id,
                    CallAttempt.status == AttemptStatus.CLAIMED,
                    ~opted_out,
                )
                .values(status=AttemptStatus.UNKNOWN, placed_at=now)
                .execution_options(synchronize_session=False)
            )
        if getattr(result, "rowcount", 0) != 1:
            return None
        attempt.status = AttemptStatus.UNKNOWN
        attempt.placed_at = now
        return attempt

    @staticmethod
    async def _cancel(s: AsyncSession, attempt_id: int, why: str, now: dt.datetime) -> None:
        await s.execute(
            update(CallAttempt)
            .where(CallAttempt.id == attempt_id, CallAttempt.status == AttemptStatus.CLAIMED)
            .values(status=AttemptStatus.CANCELED, error=why, ended_at=now)
        )

    async def _back_to_claimed(self, attempt_id: int, error: str) -> None:
        async with self.sessions() as s, s.begin():
            await s.execute(
                update(CallAttempt)
                .where(CallAttempt.id == attempt_id, CallAttempt.status == AttemptStatus.UNKNOWN)
                .values(status=AttemptStatus.CLAIMED, placed_at=None, error=error)
            )

    async def _finish(self, attempt_id: int, status: AttemptStatus, error: str) -> None:
        async with self.sessions() as s, s.begin():
            await s.execute(
                update(CallAttempt)
                .where(CallAttempt.id == attempt_id, CallAttempt.status == AttemptStatus.UNKNOWN)
                .values(status=status, error=error, ended_at=self.clock())
            )

    async def _note(self, attempt_id: int, error: str) -> None:
        async with self.sessions() as s, s.begin():
            await s.execute(
                update(CallAttempt).where(CallAttempt.id == attempt_id).values(error=error)
            )

    async def _placed(self, attempt_id: int, sid: str) -> None:
        async with self.sessions() as s, s.begin():
            result = await s.execute(
                update(CallAttempt)
                .where(CallAttempt.id == attempt_id, CallAttempt.status == AttemptStatus.UNKNOWN)
                .values(status=AttemptStatus.QUEUED, call_sid=sid, error=None)
            )
            if getattr(result, "rowcount", 0) != 1:
                # A status callback got there first: keep its status, add the sid.
                await s.execute(
                    update(CallAttempt)
                    .where(CallAttempt.id == attempt_id, CallAttempt.call_sid.is_(None))
                    .values(call_sid=sid)
                )

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
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    select(
                        CallAttempt.id,
                        CallAttempt.call_sid,
                        CallAttempt.to_number,
                        CallAttempt.claimed_at,
                        CallAttempt.placed_at,
                    )
                    .where(
                        CallAttempt.status == AttemptStatus.UNKNOWN,
                        CallAttempt.placed_at <= now - grace,
                    )
                    .order_by(CallAttempt.placed_at)
                    .limit(limit)
                )
            ).all()
        settled = 0
        for r in rows:
            try:
                found = await self._find(r.call_sid, r.to_number, r.claimed_at)
            except (PlaceCallError, PlaceCallUnknown) as exc:
                log.warning("dialer.reconcile_error", attempt_id=r.id, error=str(exc))
                continue
            async with self.sessions() as s, s.begin():
                if found is not None:
                    status = _CARRIER_STATUSES.get(found.status, AttemptStatus.QUEUED)
                    values: dict[str, object] = {"status": status, "call_sid": found.sid}
                    if status in FINAL_ATTEMPT_STATUSES:
                        values["ended_at"] = now
                    result = await s.execute(
                        update(CallAttempt)
                        .where(CallAttempt.id == r.id, CallAttempt.status == AttemptStatus.UNKNOWN)
                        .values(**values, error=None)
                    )
                    settled += int(getattr(result, "rowcount", 0) or 0)
                elif r.placed_at is not None and now - r.placed_at >= give_up:
                    result = await s.execute(
                        update(CallAttempt)
                        .where(CallAttempt.id == r.id, CallAttempt.status == AttemptStatus.UNKNOWN)
                        .values(
                            status=AttemptStatus.CANCELED,
                            ended_at=now,
                            error="the carrier has no such call: it was never placed",
                        )
                    )
                    settled += int(getattr(result, "rowcount", 0) or 0)
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
        # Sent to the carrier and not final (claimed and unknown have their own sweeps).
        live = sorted(LIVE_ATTEMPT_STATUSES - {AttemptStatus.CLAIMED, AttemptStatus.UNKNOWN})
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    select(CallAttempt.id, CallAttempt.call_sid)
                    .where(
                        CallAttempt.status.in_(live),
                        CallAttempt.call_sid.is_not(None),
                        CallAttempt.placed_at <= now - quiet_for,
                    )
                    .order_by(CallAttempt.placed_at)
                    .limit(limit)
                )
            ).all()
        settled = 0
        for r in rows:
            try:
                found = await self.port.fetch(r.call_sid)
            except (PlaceCallError, PlaceCallUnknown) as exc:
                log.warning("dialer.reconcile_error", attempt_id=r.id, error=str(exc))
                continue
            status = (
                _CARRIER_STATUSES.get(found.status, AttemptStatus.FAILED)
                if found is not None
                else AttemptStatus.FAILED
            )
            if status not in FINAL_ATTEMPT_STATUSES:
                continue
            duration = getattr(found, "duration", None)
            async with self.sessions() as s, s.begin():
                result = await s.execute(
                    update(CallAttempt)
                    .where(CallAttempt.id == r.id, CallAttempt.status.in_(live))
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
            result = await s.execute(
                update(CallAttempt)
                .where(
                    CallAttempt.status == AttemptStatus.CLAIMED,
                    CallAttempt.claimed_at <= now - older_than,
                )
                .values(
                    status=AttemptStatus.CANCELED,
                    ended_at=now,
                    error="the claim expired before the call was placed",
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)
