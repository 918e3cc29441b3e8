"""Keeping ``daily_campaign_stats`` up to date: a job recomputing the keys that may have changed.

Why a job and not a counter bumped in each write: the facts behind the KPIs
change in a dozen places (status callbacks, the call flow's outcome, the
agent's wrap-up, transfers moving, payments from the API and the CSV import,
the promise follow-up, a new plan cancelling the old one), and a counter
missed in any of them would drift for ever, silently. Instead each run
*recomputes* whole keys from the facts with the one definition
(:func:`ivr.reports.kpis.compute_counts`) and replaces the stored rows, so a
run is idempotent (a callback applied twice changes nothing: the recount is
the same) and a missed run is healed by the next one. The status-callback
path, tuned for its 99th percentile, gets no extra write.

Which keys a run recomputes:

* every campaign's days in the look-back window (``today - lookback - 1`` to
  ``today + 1`` in UTC, covering every debtor's local day): calls, outcomes,
  transfers and wrap-ups change within minutes or hours of the call, and a
  promise is settled (kept or broken) the day after its date;
* the keys touched by rows added since the last run (a watermark per table,
  by row id, in ``rollup_watermarks``): a payment imported late and dated
  weeks ago, a promise or plan (which may cancel older promises on the debt),
  a debt added to a campaign. An id is assigned before its transaction
  commits, so ids may become visible out of order: the watermark only moves
  past rows created ``SETTLE`` ago (no transaction of ours lasts that long),
  and the newer ones are read again on the next runs.

The first run on a store (no watermark yet: a new install, or an upgrade
onto a store with history) counts the whole history once. Anything older
that changes otherwise (a promise settled after weeks of the service being
down) is healed by :func:`rebuild` over the range.

Replicas: on PostgreSQL a run takes a transaction-scoped advisory lock and
skips when another replica holds it; SQLite has a single process.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from typing import cast

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.reports.kpis import DayCounts, Key, compute_counts
from ivr.store.models import (
    CallAttempt,
    Campaign,
    DailyCampaignStats,
    Debt,
    Payment,
    Promise,
    RollupWatermark,
)

LOCK_KEY = 7_220_022  # pg advisory lock: one roll-up run at a time across replicas
SETTLE = dt.timedelta(minutes=5)
"""Rows created this long ago are committed (or never will be): the watermark may pass them."""
DEFAULT_LOOKBACK_DAYS = 1


@dataclass(frozen=True)
class RefreshReport:
    ran: bool
    keys: int
    late_keys: int


async def _replace(
    session: AsyncSession,
    day_from: dt.date,
    day_to: dt.date,
    campaign_ids: Collection[int] | None,
    now: dt.datetime,
) -> int:
    """Recount ``[day_from, day_to]`` (of these campaigns, or all) and store it."""
    counts = await compute_counts(session, day_from, day_to, campaign_ids)
    stmt = delete(DailyCampaignStats).where(DailyCampaignStats.local_day.between(day_from, day_to))
    if campaign_ids is not None:
        stmt = stmt.where(DailyCampaignStats.campaign_id.in_(sorted(campaign_ids)))
    await session.execute(stmt)
    await _insert(session, counts, now)
    return len(counts)


async def _insert(session: AsyncSession, counts: dict[Key, DayCounts], now: dt.datetime) -> None:
    rows = [
        {"campaign_id": cid, "local_day": day, "refreshed_at": now, **c.as_dict()}
        for (cid, day), c in sorted(counts.items())
        if not c.is_empty()
    ]
    known = set(await session.scalars(select(Campaign.id)))
    rows = [r for r in rows if r["campaign_id"] in known]
    for i in range(0, len(rows), 1000):
        await session.execute(insert(DailyCampaignStats), rows[i : i + 1000])


async def rebuild(
    session: AsyncSession,
    day_from: dt.date,
    day_to: dt.date,
    now: dt.datetime,
    *,
    whole_history: bool = False,
) -> int:
    """Recompute every campaign's rows for a range (after an outage, or to fill a
    new store). ``whole_history``: the range holds every fact, so the watermarks
    move to the newest rows and the next run of the job reads nothing old."""
    n = await _replace(session, day_from, day_to, None, now)
    if whole_history:
        for name, table in (("payments", Payment), ("promises", Promise), ("debts", Debt)):
            newest = int(await session.scalar(select(func.max(table.id))) or 0)
            await _store_mark(session, name, newest, now)
    return n


async def _store_mark(session: AsyncSession, name: str, last_id: int, now: dt.datetime) -> None:
    row = await session.get(RollupWatermark, name)
    if row is None:
        session.add(RollupWatermark(name=name, last_id=last_id, ran_at=now))
    else:
        row.last_id, row.ran_at = last_id, now
    await session.flush()


async def _lock(session: AsyncSession) -> bool:
    if session.bind is None or session.bind.dialect.name != "postgresql":
        return True
    got = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    return bool(got)


async def _watermark(session: AsyncSession, name: str) -> int:
    found = await session.scalar(
        select(RollupWatermark.last_id).where(RollupWatermark.name == name)
    )
    return int(found or 0)


async def _late_keys(session: AsyncSession, now: dt.datetime) -> tuple[set[Key], dict[str, int]]:
    """Keys touched by payments, promises and debts added since the last run,
    and the watermarks to store."""
    marks: dict[str, int] = {}
    debts: set[int] = set()
    settled = now - SETTLE
    for name, table, debt_col in (
        ("payments", Payment, Payment.debt_id),
        ("promises", Promise, Promise.debt_id),
        ("debts", Debt, Debt.id),
    ):
        since = await _watermark(session, name)
        settled_id = await session.scalar(
            select(func.max(table.id)).where(table.id > since, table.created_at < settled)
        )
        marks[name] = max(since, int(settled_id or 0))
        debts |= set(await session.scalars(select(debt_col).where(table.id > since).distinct()))
    keys: set[Key] = set()
    ids = sorted(debts)
    for i in range(0, len(ids), 1000):
        keys |= await _keys_of_debts(session, ids[i : i + 1000])
    return keys, marks


async def _keys_of_debts(session: AsyncSession, debt_ids: list[int]) -> set[Key]:
    """Every key a fact of these debts counts in (assigned, collected, falling due, made)."""
    keys: set[Key] = set()
    for cid, created in await session.execute(
        select(Debt.campaign_id, Debt.created_at).where(
            Debt.id.in_(debt_ids), Debt.campaign_id.is_not(None)
        )
    ):
        keys.add((cast(int, cid), created.date()))
    for stmt in (
        select(Debt.campaign_id, Payment.paid_on)
        .join(Debt, Debt.id == Payment.debt_id)
        .where(Payment.debt_id.in_(debt_ids), Debt.campaign_id.is_not(None)),
        select(Debt.campaign_id, Promise.promised_date)
        .join(Debt, Debt.id == Promise.debt_id)
        .where(Promise.debt_id.in_(debt_ids), Debt.campaign_id.is_not(None)),
        select(CallAttempt.campaign_id, CallAttempt.local_day)
        .join(Promise, Promise.attempt_id == CallAttempt.id)
        .where(Promise.debt_id.in_(debt_ids), CallAttempt.campaign_id.is_not(None)),
    ):
        for cid, day in await session.execute(stmt.distinct()):
            keys.add((cast(int, cid), day))
    return keys


async def refresh(
    session: AsyncSession, now: dt.datetime, lookback_days: int = DEFAULT_LOOKBACK_DAYS
) -> RefreshReport:
    """One run of the job, in the caller's transaction (see the module's doc)."""
    if not await _lock(session):
        return RefreshReport(ran=False, keys=0, late_keys=0)
    if await session.get(RollupWatermark, "debts") is None:
        # The first run on this store: count the whole history once.
        span = await _history_span(session)
        n = 0 if span is None else await rebuild(session, *span, now, whole_history=True)
        await _store_mark(session, "debts", await _watermark(session, "debts"), now)
        return RefreshReport(ran=True, keys=n, late_keys=0)
    first = now.date() - dt.timedelta(days=lookback_days + 1)
    last = now.date() + dt.timedelta(days=1)
    late, marks = await _late_keys(session, now)
    # Every campaign, named: the attempts' index leads with the campaign.
    campaigns = list(await session.scalars(select(Campaign.id)))
    n = await _replace(session, first, last, campaigns, now)
    by_day: dict[dt.date, set[int]] = defaultdict(set)
    for cid, day in late:
        if not first <= day <= last:
            by_day[day].add(cid)
    for day, cids in sorted(by_day.items()):
        n += await _replace(session, day, day, cids, now)
    for name, last_id in marks.items():
        await _store_mark(session, name, last_id, now)
    return RefreshReport(ran=True, keys=n, late_keys=sum(len(c) for c in by_day.values()))


async def _history_span(session: AsyncSession) -> tuple[dt.date, dt.date] | None:
    """The first and last day any fact of the reports falls on (None: no facts)."""
    days: list[dt.date] = []
    for col in (CallAttempt.local_day, Promise.promised_date, Payment.paid_on):
        low, high = (await session.execute(select(func.min(col), func.max(col)))).one()
        days += [d for d in (low, high) if d is not None]
    low, high = (
        await session.execute(select(func.min(Debt.created_at), func.max(Debt.created_at)))
    ).one()
    days += [d.date() for d in (low, high) if d is not None]
    return (min(days), max(days)) if days else None


async def refreshed_at(session: AsyncSession) -> dt.datetime | None:
    """When the job last ran (the reports say how fresh they are)."""
    found: dt.datetime | None = await session.scalar(select(func.max(RollupWatermark.ran_at)))
    return found
