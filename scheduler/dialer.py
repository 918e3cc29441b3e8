"""Placing claimed attempts through a small port, paced, retried, reconciled.

The port (:class:`~scheduler.carrier.PlaceCall`) is all the dialer knows of
the carrier, so the same code drives Twilio and the sandbox. Three rules keep a person from being
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

Those sweeps live in ``scheduler.reconcile`` (the dialer inherits them): this
module is the placing half only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from sqlalchemy import Update, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store.attempt_cancel import cancel_attempts
from ivr.store.dnc import dnc_listed
from ivr.store.models import (
    AttemptStatus,
    CallAttempt,
    Debt,
    Debtor,
    DebtStatus,
    Phone,
    utcnow,
)
from ivr.store.queries import number_opted_out
from ivr.vocab.debtors import NO_CONTACT_STATUSES
from scheduler.carrier import PlaceCall, PlaceCallError, PlaceCallUnknown, port_prepare
from scheduler.claim import Claim
from scheduler.pacing import Pacer, SlotTaker, Take, TokenBucket
from scheduler.reconcile import Reconciler
from scheduler.windows import is_callable_at

log = structlog.get_logger(__name__)


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


class Dialer(Reconciler):
    """Places claims one by one: pace, re-check, place, retry safely, record.

    The sweeps that settle attempts in doubt come from :class:`Reconciler`.
    """

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
        super().__init__(sessions, port, clock)
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
                begun = await self._begin_placing(claim, attempt, tries)
                if begun is None:
                    continue  # the claim changed during the wait: look again
                if isinstance(begun, DialOutcome):
                    return begun
                take = begun
                if self._warm:
                    self._turn.release()
                    held = False
                tries += 1
                sent = True
                try:
                    sid = await self.port.place(attempt, debtor, phone)
                finally:
                    if isinstance(self.bucket, SlotTaker):
                        await self.bucket.done(take)
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
            elif debtor.status in NO_CONTACT_STATUSES:
                why = f"the debtor's status became {debtor.status} before the call was placed"
            elif phone is None or phone.wrong_number_at is not None:
                why = "the number was marked wrong before the call was placed"
            elif await number_opted_out(s, phone.e164):
                why = "the number was opted out before the call was placed"
            elif await dnc_listed(s, phone.e164):
                why = "the number was put on a do-not-call list before the call was placed"
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
        self, claim: Claim, attempt: CallAttempt, tries: int
    ) -> DialOutcome | Take | None:
        """At the paced instant: one statement moves ``claimed -> unknown``.

        Only what can change within the pace wait is checked again: the window
        (no query) and, in the same UPDATE, the claim and an opt-out. None: it
        changed under us; the caller re-checks from the start. A shared pacer
        takes its slot in that very statement (see ``scheduler.pacing``), so
        nothing but the request itself lies between the slot and the carrier;
        its :class:`Take` is returned, to report the carrier's answer with
        (``Take(False)`` when paced in process).
        """
        taker = self.bucket if isinstance(self.bucket, SlotTaker) else None
        if taker is None and await self._paced() is None:
            return DialOutcome(claim.attempt_id, "released", tries=tries)
        while True:
            now = self.clock()
            if not _in_window(claim, now):
                async with self.sessions() as s, s.begin():
                    await self._cancel(s, claim.attempt_id, WINDOW_CLOSED, now)
                return DialOutcome(claim.attempt_id, "cancelled")
            if taker is None:
                async with self.sessions() as s, s.begin():
                    result = await s.execute(self._mark(claim, now))
                marked, take = getattr(result, "rowcount", 0) == 1, Take(False)
                break
            take = await taker.try_take(self._mark(claim, now))
            if take.taken:
                marked = take.marked
                break
            if not await self._wait_unless_closing(take.wait):
                return DialOutcome(claim.attempt_id, "released", tries=tries)
        if not marked:
            if taker is not None:
                await taker.done(take)  # nothing was sent with this slot
            return None
        attempt.status = AttemptStatus.UNKNOWN
        attempt.placed_at = now
        return take

    @staticmethod
    def _mark(claim: Claim, now: dt.datetime) -> Update:
        """``claimed -> unknown`` for this claim unless the debtor opted out meanwhile."""
        opted_out = (
            select(Debtor.id)
            .where(
                Debtor.id == claim.debtor_id,
                or_(
                    Debtor.opted_out_at.is_not(None),
                    Debtor.status.in_([st.value for st in NO_CONTACT_STATUSES]),
                ),
            )
            .exists()
        )
        return (
            update(CallAttempt)
            .where(
                CallAttempt.id == claim.attempt_id,
                CallAttempt.status == AttemptStatus.CLAIMED,
                ~opted_out,
            )
            .values(status=AttemptStatus.UNKNOWN, placed_at=now)
            .execution_options(synchronize_session=False)
        )

    async def _wait_unless_closing(self, seconds: float) -> bool:
        """Sleep until the slot is due; False once draining (the claim is released)."""
        if self.closing.is_set():
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closing.wait(), max(0.0, seconds))
        return not self.closing.is_set()

    @staticmethod
    async def _cancel(s: AsyncSession, attempt_id: int, why: str, now: dt.datetime) -> None:
        await cancel_attempts(
            s,
            CallAttempt.id == attempt_id,
            CallAttempt.status == AttemptStatus.CLAIMED,
            why=why,
            now=now,
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
