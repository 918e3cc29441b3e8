"""A live call's writes to the store: retried, ordered, and never lost in silence.

A call cannot pause while the database is busy (an import holding SQLite's
write lock, a PostgreSQL failover), and it must not carry on as if a promise
or an opt-out had been recorded when it was not. So every write of a call
is retried a few times with growing pauses; if it still fails, the caller
is told (:class:`StoreWriteFailed`) and ends the call politely, and the
failure is logged once at error level (without personal data) and counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store import call_attempts, queries

log = structlog.get_logger(__name__)

RETRY_PAUSES_S = (0.2, 0.6, 1.8)
"""Pauses between tries: four tries over about 2.6 s, then the call gives up."""

Work = Callable[[AsyncSession], Awaitable[None]]


class StoreWriteFailed(Exception):
    """A write still failed after every retry; ``str()`` is the error's type name."""


async def write_with_retry(
    sessions: async_sessionmaker[AsyncSession],
    work: Work,
    *,
    what: str,
    call_sid: str | None,
    pauses: tuple[float, ...] = RETRY_PAUSES_S,
) -> None:
    """Run ``work`` in its own transaction, retrying store errors after ``pauses``.

    Only the error's type is logged: its text can hold SQL parameters (a
    promise's amount and date), which do not belong in logs.
    """
    for n in range(len(pauses) + 1):
        try:
            async with sessions() as s, s.begin():
                await work(s)
            return
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            if n == len(pauses):
                raise StoreWriteFailed(type(exc).__name__) from None
            log.warning(
                "call.store_write_retry",
                what=what,
                attempt=n + 1,
                error=type(exc).__name__,
                call_sid=call_sid,
            )
            await asyncio.sleep(pauses[n])


@dataclass
class _Durable:
    """A write that must last (a promise, an opt-out), with who waits for its commit."""

    work: Work
    what: str
    committed: asyncio.Future[None]


_Item = tuple[str, dict[str, Any]] | _Durable


class EventWriter:
    """Writes a call's turn events and durable outcomes in order, batching what piled up.

    Turn logs and prompt texts must not sit between the caller's answer and
    the reply's first frame; they are written a few milliseconds later, in
    order, and flushed before anything that must be durable. A durable write
    (:meth:`put_work`) joins the same queue, so it commits after everything
    logged before it and in one transaction with it: one wait for the store
    instead of two, and the caller of :meth:`put_work` decides whether to
    wait for the commit before speaking or only before the next turn.
    ``on_failure(what, error)`` is called once when a batch could not be
    written after every retry; later events are dropped and later durable
    writes fail at once (the call is ending).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        attempt_id: int,
        call_sid: str | None,
        on_failure: Callable[[str, str], None],
    ) -> None:
        self.sessions = sessions
        self.attempt_id = attempt_id
        self.call_sid = call_sid
        self.on_failure = on_failure
        self.failed = False
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = asyncio.create_task(self._run())

    def put(self, kind: str, data: dict[str, Any]) -> None:
        if not self.failed:
            self._queue.put_nowait((kind, data))

    def put_work(self, work: Work, what: str) -> asyncio.Future[None]:
        """Queue a durable write; the future is done once it is committed (or
        raises :class:`StoreWriteFailed`)."""
        committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.failed or self._task is None or self._task.done():
            committed.set_exception(StoreWriteFailed("store already failed"))
        else:
            self._queue.put_nowait(_Durable(work, what, committed))
        return committed

    async def flush(self) -> None:
        if self._task is not None and not self._task.done():
            await self._queue.join()

    async def close(self, within_s: float) -> bool:
        """Write everything queued, then stop; False when ``within_s`` passed first.

        What is queued was said or decided in the call, so it is written even
        though the call has ended; only a store that stays busy past
        ``within_s`` stops it (the caller logs and counts that).
        """
        task, self._task = self._task, None
        if task is None or task.done():
            return True
        self._queue.put_nowait(None)  # after everything queued
        done, _ = await asyncio.wait({task}, timeout=within_s)
        if done:
            return True
        task.cancel()
        await asyncio.wait({task})
        return False

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                self._queue.task_done()
                return
            batch = [item]
            while not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    self._queue.put_nowait(None)
                    self._queue.task_done()
                    break
                batch.append(nxt)
            try:
                await self._write_batch(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _write_batch(self, batch: list[_Item]) -> None:
        durable = [item for item in batch if isinstance(item, _Durable)]
        what = durable[0].what if durable else "turn_events"
        outcome: BaseException | None = None
        try:
            if self.failed:
                raise StoreWriteFailed("store already failed")
            await self._write(batch, what)
        except StoreWriteFailed as exc:
            outcome = exc
            if not self.failed:
                self.failed = True
                self.on_failure(what, str(exc))
        except Exception as exc:  # a bug in a write: its waiter hears of it
            log.exception("call.store_write_error", what=what, call_sid=self.call_sid)
            outcome = exc
        for item in durable:
            if item.committed.done():
                continue
            if outcome is None:
                item.committed.set_result(None)
            else:
                item.committed.set_exception(outcome)

    async def _write(self, batch: list[_Item], what: str) -> None:
        async def work(s: AsyncSession) -> None:
            for item in batch:
                if isinstance(item, _Durable):
                    await item.work(s)
                    continue
                kind, data = item
                await queries.add_event(s, self.attempt_id, kind, data)
                if kind == "outcome":
                    await call_attempts.set_outcome(s, self.attempt_id, data["outcome"])

        await write_with_retry(self.sessions, work, what=what, call_sid=self.call_sid)
