"""Claiming attempts: the cap check and the insert in one database transaction.

Correctness rests on the database, never on process-local state, so any
number of ``ivr serve`` replicas can claim at once:

* PostgreSQL: candidate debtors are taken with ``SELECT ... FOR UPDATE SKIP
  LOCKED`` (two replicas never work on one person at once and never wait on
  each other); the person's history is read *after* the lock, the caps are
  evaluated on it, and the attempt is inserted before the commit releases
  the lock. Every code path that inserts an attempt goes through here.
* SQLite: every transaction starts with ``BEGIN IMMEDIATE`` (see
  ``ivr.store.db``), so the whole claim holds the single write lock.
* Either way a partial unique index (``uq_call_attempts_live_debtor``) makes
  a second live attempt for one person impossible, whatever the code does.

The campaign's concurrent-call limit holds across replicas too: the live
calls are counted before the attempts are inserted (no lock: most of a
claim's database time is that insert, which replicas should do side by
side), then the campaigns are locked (in id order) and counted again with
our own attempts, and any claim over the limit is given back before the
commit (:func:`_hold_channel_limit`).

On PostgreSQL a big batch is claimed as a few such transactions at once
(:func:`claim_batch`'s ``parts``), which the database cannot tell from
replicas. The batch statements themselves (PostgreSQL's array forms) are
``scheduler.batch_sql``; the rules the claim evaluates are
``scheduler.eligibility``, loaded by ``scheduler.eligibility_load``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store.models import (
    AttemptStatus,
    Callback,
    CallbackStatus,
)
from scheduler.batch_sql import (
    begin_claim,
    drop_attempts,
    live_per_campaign,
    lock_batch,
    lock_campaigns,
    set_hints,
    write_claims,
)
from scheduler.eligibility import PARK, Explanation, Shared, evaluate
from scheduler.eligibility_load import load_snapshots
from scheduler.frozen import direct_init
from scheduler.snapshot import CallbackRow, CampaignRules, DebtorSnapshot
from scheduler.windows import Window

log = structlog.get_logger(__name__)

Clock = Callable[[], dt.datetime]
# A batch is claimed in parts of about this many people, at most MAX_PARTS at
# once: the planner's 500 in three, so that on two cores one part's Python can
# run while the database works for the other two (bench/planner.py --parts).
PART_SIZE = 170
MAX_PARTS = 3
FULL_CAMPAIGN_RECHECK = dt.timedelta(seconds=30)
# Reasons after which a debtor-requested callback can never be honoured.
_CALLBACK_FATAL = frozenset({"opted_out", "no_valid_phone", "debt_not_open", "no_debt"})


@direct_init  # built by the hundred each tick
@dataclass(frozen=True)
class Claim:
    """One attempt reserved for this worker, with what the dialer re-checks."""

    attempt_id: int
    debtor_id: int
    debt_id: int | None
    campaign_id: int | None
    phone_id: int | None
    to_number: str
    callback_id: int | None
    claimed_at: dt.datetime
    local_day: dt.date
    zones: tuple[str, ...]
    windows: tuple[Window, ...]
    country: str
    region: str | None
    blocked: frozenset[dt.date]


@dataclass
class ClaimStats:
    """What one claim pass looked at (for logs and benches)."""

    examined: int = 0
    claimed: int = 0
    not_callable: int = 0
    campaign_full: int = 0
    # Claims deleted again because another replica filled the campaign meanwhile.
    given_back: int = 0
    callbacks_moved: int = 0
    callbacks_cancelled: int = 0
    # Milliseconds spent in each phase (lock, load, evaluate, live, rows,
    # write, limit, commit): where a slow tick's time went, without a profiler.
    ms: dict[str, float] = field(default_factory=dict)
    _mark: float = field(default=0.0, repr=False)

    def add(self, other: ClaimStats) -> None:
        """Count another part's claim in (its phases: the slowest part's)."""
        for name in ("examined", "claimed", "not_callable", "campaign_full", "given_back"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.callbacks_moved += other.callbacks_moved
        self.callbacks_cancelled += other.callbacks_cancelled
        for phase, ms in other.ms.items():
            self.ms[phase] = max(self.ms.get(phase, 0.0), ms)

    def start(self) -> None:
        self._mark = time.perf_counter()

    def lap(self, phase: str) -> None:
        """Charge the time since the previous lap (or the start) to ``phase``."""
        now = time.perf_counter()
        if self._mark:
            self.ms[phase] = self.ms.get(phase, 0.0) + (now - self._mark) * 1000
        self._mark = now


async def claim_batch(
    session_factory: async_sessionmaker[AsyncSession],
    now: dt.datetime | Clock,
    limit: int,
    worker_id: str,
    *,
    stats: ClaimStats | None = None,
    parts: int | None = None,
) -> list[Claim]:
    """Claim up to ``limit`` attempts: due callbacks first, then the planner's queue.

    ``now`` may be a clock: it is then read after the history was loaded
    under the row locks, so an attempt committed by another replica just
    before can never look like it happened after this one.

    ``parts``: on PostgreSQL a batch is claimed as that many transactions at
    once, each on its own connection (default: one per :data:`PART_SIZE`
    claims, at most :data:`MAX_PARTS`). They are replicas of one another as
    far as the database can tell (``SKIP LOCKED``, the campaign locks), and
    while one waits for the database another evaluates its people. SQLite
    has one writer: one transaction.
    """
    stats = stats if stats is not None else ClaimStats()
    if limit <= 0:
        return []
    if parts is None:
        parts = min(MAX_PARTS, -(-limit // PART_SIZE))
    bind = session_factory.kw.get("bind")
    if parts <= 1 or bind is None or bind.dialect.name != "postgresql":
        return await _claim_one(session_factory, now, limit, worker_id, stats)
    sizes = [limit // parts + (1 if i < limit % parts else 0) for i in range(parts)]
    each = [ClaimStats() for _ in sizes]
    pairs = zip(sizes, each, strict=True)
    runs = [_claim_one(session_factory, now, n, worker_id, st) for n, st in pairs]
    done = await asyncio.gather(*runs, return_exceptions=True)
    for st in each:
        stats.add(st)
    claims = [c for d in done if not isinstance(d, BaseException) for c in d]
    failed = [d for d in done if isinstance(d, BaseException)]
    if failed and not claims:
        raise failed[0]
    for error in failed:  # the other parts' claims are committed: hand them on
        log.error("scheduler.claim_part_failed", error=repr(error))
    return claims


async def _claim_one(
    session_factory: async_sessionmaker[AsyncSession],
    now: dt.datetime | Clock,
    limit: int,
    worker_id: str,
    stats: ClaimStats,
) -> list[Claim]:
    """One claim transaction: lock, load, evaluate, write, commit."""
    select_now = now() if callable(now) else now
    stats.start()
    async with session_factory() as session:
        async with session.begin():
            await begin_claim(session)
            locked = await lock_batch(session, select_now, limit)
            ids, callbacks = locked.ids, locked.callbacks
            stats.lap("lock")
            if not ids:
                return []
            snaps, campaigns = await load_snapshots(session, ids, select_now, people=locked.people)
            stats.lap("load")
            at = now() if callable(now) else now
            claims = await _claim_locked(
                session, ids, snaps, campaigns, callbacks, at, worker_id, stats
            )
        stats.lap("commit")
    return claims


async def _claim_locked(
    session: AsyncSession,
    ids: Sequence[int],
    snaps: dict[int, DebtorSnapshot],
    campaigns: dict[int, CampaignRules],
    callbacks: dict[int, CallbackRow],
    at: dt.datetime,
    worker_id: str,
    stats: ClaimStats,
    *,
    waive: frozenset[str] = frozenset(),
    verdicts: dict[int, Explanation] | None = None,
    channel_limit: bool = True,
) -> list[Claim]:
    """Evaluate the locked debtors, insert attempts for the callable ones.

    ``waive``: reason codes a supervisor's override sets aside (only
    :data:`~scheduler.eligibility.OVERRIDABLE` ones ever are). ``verdicts``
    receives every verdict, for a caller that must say why not.
    ``channel_limit``: hold the campaign's concurrent-call limit (pacing, not
    a rule about the person; a supervisor's single call does not wait for it).
    """
    verdicts = verdicts if verdicts is not None else {}
    shared = Shared()
    for debtor_id in ids:
        snap = snaps.get(debtor_id)
        if snap is None:
            continue
        v = evaluate(snap, campaigns, at, callback=callbacks.get(debtor_id), shared=shared)
        verdicts[debtor_id] = v.waive(waive) if waive else v
    stats.examined += len(verdicts)
    stats.lap("evaluate")

    wanted = sorted(
        {v.campaign_id for v in verdicts.values() if v.callable and v.campaign_id is not None}
    )
    live = await live_per_campaign(session, wanted) if channel_limit else {}
    stats.lap("live")

    rows: list[dict[str, Any]] = []
    hints: list[tuple[int, dt.datetime]] = []
    picked: dict[int, Explanation] = {}
    # The next look after a claim, per campaign (its minimum gap, at least a second).
    next_look = {
        cid: at + max(rules.policy.min_gap, dt.timedelta(seconds=1))
        for cid, rules in campaigns.items()
    }
    for debtor_id, v in verdicts.items():
        cb = callbacks.get(debtor_id)
        if not v.callable:
            stats.not_callable += 1
            wake = v.wake_at or at + PARK
            hints.append((debtor_id, wake))
            if cb is not None:
                await _defer_callback(session, cb, v, wake, stats)
            continue
        assert v.campaign_id is not None and v.to_number is not None and v.local_day is not None
        if channel_limit and live.get(v.campaign_id, 0) >= campaigns[v.campaign_id].max_concurrent:
            stats.campaign_full += 1
            hints.append((debtor_id, at + FULL_CAMPAIGN_RECHECK))
            continue
        live[v.campaign_id] = live.get(v.campaign_id, 0) + 1
        hints.append((debtor_id, next_look[v.campaign_id]))
        picked[debtor_id] = v
        rows.append(
            {
                "debtor_id": debtor_id,
                "debt_id": v.debt_id,
                "phone_id": v.phone_id,
                "campaign_id": v.campaign_id,
                "callback_id": cb.id if cb else None,
                "to_number": v.to_number,
                "status": AttemptStatus.CLAIMED,
                "local_day": v.local_day,
                "claimed_by": worker_id,
                "claimed_at": at,
            }
        )
    stats.lap("rows")

    attempt_ids = await write_claims(session, rows, hints)
    stats.lap("write")
    if channel_limit and rows:
        for debtor_id in await _hold_channel_limit(session, rows, attempt_ids, campaigns, at):
            del picked[debtor_id]
            stats.given_back += 1
    done = [cb.id for debtor_id, cb in callbacks.items() if debtor_id in picked]
    if done:
        await session.execute(
            update(Callback).where(Callback.id.in_(done)).values(status=CallbackStatus.DONE)
        )
    claims = [_claim(v, attempt_ids[d], callbacks.get(d), at) for d, v in picked.items()]
    stats.claimed += len(claims)
    stats.lap("limit")
    return claims


async def _hold_channel_limit(
    session: AsyncSession,
    rows: Sequence[dict[str, Any]],
    attempt_ids: dict[int, int],
    campaigns: dict[int, CampaignRules],
    at: dt.datetime,
) -> list[int]:
    """Keep each campaign within its concurrent calls, whatever other replicas
    claimed meanwhile; returns the debtors whose claim was given back.

    The claim counted the live calls before it inserted, without a lock, so
    its attempts (their inserts are most of a claim's time) are written while
    other replicas write theirs. Only now are the campaigns locked and the
    live calls counted again, our own included, under the lock until the
    commit: a replica that committed in between is counted, one that has not
    yet counted will count ours. Where a campaign is over its limit our
    latest claims are deleted, to be looked at again as a full campaign's are.
    """
    used = sorted({r["campaign_id"] for r in rows})
    await lock_campaigns(session, used)
    over = {
        cid: n - campaigns[cid].max_concurrent
        for cid, n in (await live_per_campaign(session, used)).items()
        if n > campaigns[cid].max_concurrent
    }
    if not over:
        return []
    dropped: list[int] = []
    for r in reversed(rows):
        if over.get(r["campaign_id"], 0) > 0:
            over[r["campaign_id"]] -= 1
            dropped.append(r["debtor_id"])
    await drop_attempts(session, [attempt_ids[d] for d in dropped])
    await set_hints(session, [(d, at + FULL_CAMPAIGN_RECHECK) for d in dropped])
    return dropped


def _claim(v: Explanation, attempt_id: int, cb: CallbackRow | None, at: dt.datetime) -> Claim:
    return Claim(
        attempt_id=attempt_id,
        debtor_id=v.debtor_id,
        debt_id=v.debt_id,
        campaign_id=v.campaign_id,
        phone_id=v.phone_id,
        to_number=v.to_number or "",
        callback_id=cb.id if cb else None,
        claimed_at=at,
        local_day=v.local_day or at.date(),
        zones=v.zones,
        windows=v.windows,
        country=v.country,
        region=v.region,
        blocked=v.blocked,
    )


async def _defer_callback(
    session: AsyncSession,
    cb: CallbackRow,
    verdict: Explanation,
    wake: dt.datetime,
    stats: ClaimStats,
) -> None:
    """A callback that cannot be placed now moves to the next opening, or is dropped."""
    if any(code in _CALLBACK_FATAL for code in verdict.codes):
        await session.execute(
            update(Callback).where(Callback.id == cb.id).values(status=CallbackStatus.CANCELLED)
        )
        stats.callbacks_cancelled += 1
        return
    await session.execute(update(Callback).where(Callback.id == cb.id).values(due_at=wake))
    stats.callbacks_moved += 1
