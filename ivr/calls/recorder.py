"""A live call's record: the ordered turn log and the outcomes that must last.

Two kinds of writes with different promises, kept apart from the talking:
turn events (prompts, answers, the current outcome) are queued and written
in order a few milliseconds later, so they never sit between the caller's
answer and the reply; outcomes that change what happens to a person (a
promise, an opt-out of the person or the number, a wrong number, a reported
death, a payment claim, a callback) are committed in the same order, after
everything logged before them, and the call learns when each one lasts
(:meth:`CallRecorder.commit`). A write the store still
refuses after its retries is reported once (``on_failure``) so the call can
end with an apology (:mod:`ivr.calls.store_writer`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.calls.context import DebtorCalendar
from ivr.calls.store_writer import (
    RETRY_PAUSES_S,
    EventWriter,
    StoreWriteFailed,
    Work,
    write_with_retry,
)
from ivr.dialog import events as ev
from ivr.store import call_attempts, inbound, queries, reviews
from ivr.store.models import CallAttempt
from ivr.vocab.outcomes import Outcome
from ivr.voice.interfaces import AsrEvent

log = structlog.get_logger(__name__)

STORE_FAILED_FLAG = "store_write_failed"


class CallRecorder:
    """Everything one accepted call writes to the store, in the order it happened."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        attempt_id: int,
        call_sid: str,
        on_failure: Callable[[], None],
    ) -> None:
        self.sessions = sessions
        self.attempt_id = attempt_id
        self.call_sid = call_sid
        self.on_failure = on_failure
        self.calendar: DebtorCalendar | None = None  # known once the context is loaded
        self.outcome: str | None = None
        self.failed = False
        self.writer = EventWriter(sessions, attempt_id, call_sid, self._failed)

    async def close(self, within_s: float) -> bool:
        """Write what is queued (at most ``within_s``); False when the store
        was still busy and something was left unwritten."""
        return await self.writer.close(within_s)

    def unfinished(self, what: str, limit_s: float) -> None:
        """A write was still waiting for the store when the call's end ran out of time."""
        log.error(
            "call.store_write_unfinished",
            what=what,
            limit_s=limit_s,
            attempt_id=self.attempt_id,
            call_sid=self.call_sid,
        )

    # ------------------------------------------------------------ turn log

    def log(self, kind: str, data: dict[str, Any]) -> None:
        """Queue an event row; written in order by the call's writer task."""
        self.writer.put(kind, data)

    def said_at_hangup(self, heard: AsrEvent | None, state: str) -> None:
        """What the caller said as they hung up, in the transcript as their
        words (kind ``speech``: the transcript views and LGPD erasure cover it)
        and marked: the dialog never acted on it, nothing was confirmed."""
        if heard is None:
            return
        data: dict[str, Any] = {
            "text": heard.text,
            "confidence": heard.confidence,
            "after_hangup": True,
        }
        if state:
            data["state"] = state
        self.log("speech", data)

    async def flush(self) -> None:
        await self.writer.flush()

    # ------------------------------------------------------------ durable writes

    async def write(self, work: Work, what: str, pauses: tuple[float, ...] | None = None) -> None:
        """One durable write of this call, retried; a final failure ends the call."""
        try:
            await write_with_retry(
                self.sessions,
                work,
                what=what,
                call_sid=self.call_sid,
                pauses=RETRY_PAUSES_S if pauses is None else pauses,
            )
        except StoreWriteFailed as exc:
            self._failed(what, str(exc))
            raise

    def _failed(self, what: str, error: str) -> None:
        """Once per call: log it and tell the call, which ends politely."""
        if self.failed:
            return
        self.failed = True
        log.error(
            "call.store_write_failed",
            what=what,
            error=error,
            attempt_id=self.attempt_id,
            call_sid=self.call_sid,
        )
        self.on_failure()

    async def persist(self, action: ev.Action) -> None:
        """Record ``action``; a durable one is committed when this returns."""
        await self.commit(action)

    def commit(self, action: ev.Action) -> asyncio.Future[None]:
        """Record ``action`` through the call's ordered writer; done once it lasts.

        Turn logs and the current outcome are only queued (the future is
        done at once). A promise, an opt-out, a wrong number, a payment
        claim or a callback is committed after everything logged before it,
        in the same transaction; the future is done when it is committed
        and raises :class:`StoreWriteFailed` when the store refused it
        after its retries (the call then ends with an apology).
        """
        if isinstance(action, ev.LogTurn | ev.RecordOutcome):
            if isinstance(action, ev.LogTurn):
                self.log(action.kind, dict(action.data))
            else:
                self.outcome = action.outcome
                self.log("outcome", {"outcome": action.outcome})
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        attempt_id, calendar = self.attempt_id, self.calendar
        assert calendar is not None

        async def work(s: AsyncSession) -> None:
            attempt = await s.get(CallAttempt, attempt_id)
            assert attempt is not None
            if isinstance(action, ev.RecordPromise):
                await queries.record_promise(s, attempt, action.date, action.amount_cents)
            elif isinstance(action, ev.RecordPlan):
                await queries.record_plan(s, attempt, action.instalments)
            elif isinstance(action, ev.OptOut):
                await queries.record_opt_out(s, attempt)
            elif isinstance(action, ev.OptOutNumber):
                await queries.record_number_opt_out(s, attempt)
            elif isinstance(action, ev.ReportDeceased):
                await reviews.record_deceased(s, attempt)
            elif isinstance(action, ev.MarkWrongNumber):
                await queries.record_wrong_number(s, attempt)
            elif isinstance(action, ev.RecordAlreadyPaid):
                await queries.record_already_paid(s, attempt, calendar.paid_pause_until())
            elif isinstance(action, ev.ScheduleCallback):
                await queries.record_callback(s, attempt, calendar.callback_due(action.at))
            elif isinstance(action, ev.IdentifyCaller):
                await inbound.identify_inbound(s, attempt_id, action.debtor_id)
            elif isinstance(action, ev.CallerVerified):
                await inbound.mark_verified(s, attempt_id)
            elif isinstance(action, ev.SendPaymentDetails):
                await queries.add_event(
                    s,
                    attempt_id,
                    "payment_details_requested",
                    {"debtor_id": attempt.debtor_id, "debt_id": attempt.debt_id},
                )

        return self.writer.put_work(work, type(action).__name__)

    async def outcome_if_missing(self, outcome: Outcome) -> None:
        """The call ended before the dialog recorded an outcome: this one."""
        await self.flush()
        attempt_id = self.attempt_id

        async def work(s: AsyncSession) -> None:
            await call_attempts.set_outcome_if_missing(s, attempt_id, outcome)
            self.outcome = self.outcome or outcome

        with contextlib.suppress(StoreWriteFailed):
            await self.write(work, "outcome")

    async def transfer(self, reason: str, handed_over: bool) -> None:
        await self.flush()
        attempt_id = self.attempt_id

        async def work(s: AsyncSession) -> None:
            await call_attempts.record_transfer(s, attempt_id, reason, handed_over)

        with contextlib.suppress(StoreWriteFailed):
            await self.write(work, "transfer")

    async def stream_error(self, code: int, reason: str) -> None:
        """A malformed message ended the call: say why in its log, one try only."""
        data = {"code": code, "reason": reason}
        attempt_id = self.attempt_id

        async def work(s: AsyncSession) -> None:
            await queries.add_event(s, attempt_id, "stream_error", data)

        with contextlib.suppress(StoreWriteFailed):
            await self.write(work, "stream_error", pauses=())

    async def flag_failure(self) -> None:
        """Mark the attempt as ended by a store failure (one short retry)."""
        attempt_id = self.attempt_id

        async def flag(s: AsyncSession) -> None:
            await call_attempts.flag_error(s, attempt_id, STORE_FAILED_FLAG)

        with contextlib.suppress(StoreWriteFailed):
            await write_with_retry(
                self.sessions, flag, what="failure_flag", call_sid=self.call_sid, pauses=(0.2,)
            )
