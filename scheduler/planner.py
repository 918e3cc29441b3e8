"""The planner: every few seconds, claim what may be called now and dial it.

:class:`Scheduler` owns an APScheduler ``AsyncIOScheduler`` inside the
service's event loop. Its jobs:

* ``tick``: claim due callbacks and callable debtors (:func:`claim_batch`)
  and hand each claim to the :class:`Dialer` as its own task;
* ``reconcile``: settle attempts whose placing timed out (never redial);
* ``sweep``: cancel claims whose worker died before placing them;
* ``promises``: on the day after a promised date, kept or broken;
* ``reminders``: the SMS the day(s) before a promised date (``scheduler.reminders``);
* ``retention``: delete speech and transcripts past the retention period, and
  the call recordings at the carrier;
* ``rollups``: recount the daily KPI roll-ups that may have changed (``ivr.reports.rollups``).

Every job can also be awaited directly (tests drive a simulated clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr import metrics
from ivr.config import Settings
from ivr.reports.rollups import RefreshReport, refresh
from ivr.store.models import utcnow
from scheduler.carrier import PlaceCall, port_delete_recording, port_deliver_sms
from scheduler.claim import Claim, ClaimStats, claim_batch
from scheduler.dialer import Dialer, DialOutcome
from scheduler.jobs import follow_up_promises, purge_personal_data, purge_recordings
from scheduler.pacing import account_pacer
from scheduler.reminders import ReminderReport, send_reminders

log = structlog.get_logger(__name__)

MAX_BATCH = 500
# Reminders wait for a window and a free SMS slot: a few minutes' delay is nothing.
REMINDER_EVERY_S = 300.0
# The reports read roll-ups at most this old (they show when they were refreshed).
ROLLUPS_EVERY_S = 60.0


@dataclass
class TickReport:
    at: dt.datetime
    limit: int
    stats: ClaimStats
    claims: list[Claim] = field(default_factory=list)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Scheduler:
    """Planning, claiming and dialing for one ``ivr serve`` process."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        place_call: PlaceCall,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        worker_id: str | None = None,
        max_batch: int = MAX_BATCH,
        dialer: Dialer | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        self.worker_id = worker_id or default_worker_id()
        self.max_batch = max_batch
        self.dialer = dialer or Dialer(
            sessions,
            place_call,
            clock=clock,
            bucket=account_pacer(
                sessions,
                settings.database_url,
                settings.account_cps,
                settings.twilio_account_sid,
            ),
        )
        self._tasks: set[asyncio.Task[DialOutcome]] = set()
        self._job_tasks: set[asyncio.Task[Any]] = set()
        self._aps: AsyncIOScheduler | None = None
        # Called after attempts were claimed, placed or settled (the service
        # redraws the supervisors' wallboard); must not block.
        self.on_change: Callable[[], None] | None = None

    def _changed(self, *_: object) -> None:
        if self.on_change is not None:
            try:
                self.on_change()
            except Exception:  # the wallboard's trouble is never the dialer's
                log.exception("scheduler.on_change_failed")

    # -- the jobs -------------------------------------------------------------

    def batch_limit(self) -> int:
        """Claim no more than the account can dial in about two ticks.

        A claim waiting long in the rate limiter would be placed late (it is
        re-checked against the window, but it also blocks the person).
        """
        per_tick = self.settings.account_cps * self.settings.scheduler_tick_seconds
        room = int(per_tick * 2) + 1 - len(self._tasks)
        return max(0, min(self.max_batch, room))

    async def tick(self, *, dial: bool = True) -> TickReport:
        """Claim what may be called now and start dialing it (not awaited)."""
        stats = ClaimStats()
        limit = self.batch_limit()
        started = time.perf_counter()
        claims = await claim_batch(self.sessions, self.clock, limit, self.worker_id, stats=stats)
        metrics.tick_done(time.perf_counter() - started, len(claims))
        if dial:
            for c in claims:
                self._spawn(self.dialer.dial(c))
        if claims:
            log.info("scheduler.claimed", n=len(claims), examined=stats.examined)
            self._changed()
        return TickReport(self.clock(), limit, stats, claims)

    async def drain(self) -> list[DialOutcome]:
        """Wait for every dial started so far (tests, shutdown)."""
        out: list[DialOutcome] = []
        while self._tasks:
            done = await asyncio.gather(*list(self._tasks), return_exceptions=True)
            out.extend(d for d in done if isinstance(d, DialOutcome))
        return out

    async def reconcile(self) -> int:
        now = self.clock()
        settled = await self.dialer.reconcile(now) + await self.dialer.reconcile_silent_calls(now)
        if settled:
            self._changed()
        return settled

    async def sweep(self) -> int:
        swept = await self.dialer.sweep_stale_claims(self.clock())
        if swept:
            self._changed()
        return swept

    async def promises(self) -> dict[str, int]:
        return await follow_up_promises(self.sessions, self.clock())

    async def reminders(self) -> ReminderReport:
        """Reminder SMS due now that the SMS rule book allows (none if the port cannot send)."""
        deliver = port_deliver_sms(self.dialer.port)
        if deliver is None:
            return ReminderReport()
        return await send_reminders(
            self.sessions, deliver, self.clock(), self.settings.callback_numbers()
        )

    async def retention(self) -> int:
        """Personal events past the retention period, then the recordings at the carrier."""
        now, days = self.clock(), self.settings.recording_retention_days
        purged = await purge_personal_data(self.sessions, now, days)
        delete_recording = port_delete_recording(self.dialer.port)
        if delete_recording is not None:
            purged += await purge_recordings(self.sessions, delete_recording, now, days)
        return purged

    async def rollups(self) -> RefreshReport:
        async with self.sessions() as s, s.begin():
            return await refresh(s, self.clock())

    def _spawn(self, coro: Coroutine[Any, Any, DialOutcome]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(self._changed)  # placed, failed or given back

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Start the periodic jobs on the running loop."""
        if self._aps is not None:
            return
        aps = AsyncIOScheduler(timezone=dt.UTC)
        first = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
        every = self.settings.scheduler_tick_seconds
        jobs: list[tuple[str, Callable[[], Coroutine[Any, Any, Any]], float]] = [
            ("tick", self.tick, every),
            ("reconcile", self.reconcile, max(every, 15.0)),
            ("sweep", self.sweep, 60.0),
            ("promises", self.promises, 300.0),
            ("reminders", self.reminders, REMINDER_EVERY_S),
            ("retention", self.retention, 3600.0),
            ("rollups", self.rollups, ROLLUPS_EVERY_S),
        ]
        for name, fn, seconds in jobs:
            aps.add_job(
                self._guarded(name, fn),
                "interval",
                seconds=seconds,
                id=name,
                max_instances=1,
                coalesce=True,
                next_run_time=first,
            )
        aps.start()
        self._aps = aps
        log.info("scheduler.started", worker=self.worker_id, tick_s=every)

    def _guarded(
        self, name: str, fn: Callable[[], Coroutine[Any, Any, Any]]
    ) -> Callable[[], Coroutine[Any, Any, None]]:
        """A job that logs its failure (instead of dying inside APScheduler) and that
        :meth:`stop` can cancel: a job must never outlive the database it uses."""

        async def run() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._job_tasks.add(task)
            try:
                await fn()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler.job_failed", job=name)
            finally:
                if task is not None:
                    self._job_tasks.discard(task)

        run.__name__ = f"scheduler_{name}"
        return run

    async def stop_claiming(self) -> None:
        """Drain: no more ticks or jobs, and dials still waiting for their turn
        give their claim back (see ``scheduler.release``); calls being placed go on."""
        self.dialer.closing.set()
        await self._stop_jobs()

    async def _stop_jobs(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        for job in list(self._job_tasks):
            job.cancel()
        for job in list(self._job_tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await job

    async def stop(self, *, grace_s: float = 10.0) -> None:
        """Stop planning, give in-flight dials ``grace_s`` to finish, then cancel them.

        A dial cancelled mid-request stays ``unknown`` and is reconciled by
        whichever replica runs next: it is never placed twice.
        """
        await self._stop_jobs()
        if self._tasks:
            _done, pending = await asyncio.wait(list(self._tasks), timeout=grace_s)
            for t in pending:
                t.cancel()
            for t in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        close = getattr(self.dialer.bucket, "close", None)
        if close is not None:
            await close()
        log.info("scheduler.stopped", worker=self.worker_id)


async def scheduler_ctx(
    app_settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    place_call: PlaceCall,
) -> AsyncIterator[Scheduler]:
    """For an aiohttp cleanup context: start on enter, stop on exit."""
    sched = Scheduler(app_settings, sessionmaker, place_call)
    await sched.start()
    try:
        yield sched
    finally:
        await sched.stop()
