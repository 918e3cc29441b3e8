"""Read-only queries over past call attempts: the latest ones, their events, their promises.

The supervisor API and the CLI show attempts with a summary of their events
(fetched in a fixed number of round trips whatever the number of attempts);
the agent's screen shows one call's conversation and the promises made in
it. Writing attempts belongs to the call path, not here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import CallAttempt, CallEvent, Promise


async def recent_attempts(
    session: AsyncSession,
    *,
    limit: int,
    debtor_id: int | None = None,
    campaign_id: int | None = None,
) -> Sequence[CallAttempt]:
    """The latest attempts (newest claim first), for one debtor, one campaign, or all."""
    stmt = select(CallAttempt)
    if debtor_id is not None:
        stmt = stmt.where(CallAttempt.debtor_id == debtor_id)
    if campaign_id is not None:
        stmt = stmt.where(CallAttempt.campaign_id == campaign_id)
    stmt = stmt.order_by(CallAttempt.claimed_at.desc(), CallAttempt.id.desc()).limit(limit)
    return (await session.scalars(stmt)).all()


@dataclass
class EventSummary:
    """How many events of each kind an attempt has, and when the first and last were."""

    kinds: Counter[str] = field(default_factory=Counter)
    first_at: dt.datetime | None = None
    last_at: dt.datetime | None = None


def _aware(value: dt.datetime | str) -> dt.datetime:
    """Aggregates bypass the column type on SQLite, so restore the UTC zone here."""
    if isinstance(value, str):  # SQLite's min()/max() of a DATETIME column
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


async def event_summaries(
    session: AsyncSession, attempt_ids: Collection[int]
) -> dict[int, EventSummary]:
    """attempt id -> its events in short, one grouped query for all (every id present)."""
    out = {i: EventSummary() for i in attempt_ids}
    if not attempt_ids:
        return out
    rows = await session.execute(
        select(
            CallEvent.attempt_id,
            CallEvent.kind,
            func.count(),
            func.min(CallEvent.at),
            func.max(CallEvent.at),
        )
        .where(CallEvent.attempt_id.in_(attempt_ids))
        .group_by(CallEvent.attempt_id, CallEvent.kind)
    )
    for attempt_id, kind, n, first, last in rows.all():
        summary = out[attempt_id]
        summary.kinds[kind] = n
        first, last = _aware(first), _aware(last)
        lo, hi = summary.first_at, summary.last_at
        summary.first_at = first if lo is None else min(lo, first)
        summary.last_at = last if hi is None else max(hi, last)
    return out


async def attempt_events(
    session: AsyncSession, attempt_id: int, kinds: Collection[str]
) -> Sequence[CallEvent]:
    """The attempt's events of these kinds, in the order they were recorded."""
    rows = await session.scalars(
        select(CallEvent)
        .where(CallEvent.attempt_id == attempt_id, CallEvent.kind.in_(kinds))
        .order_by(CallEvent.id)
    )
    return rows.all()


async def attempt_promises(session: AsyncSession, attempt_id: int) -> Sequence[Promise]:
    """Promises to pay made during the attempt, in the order they were made."""
    rows = await session.scalars(
        select(Promise).where(Promise.attempt_id == attempt_id).order_by(Promise.id)
    )
    return rows.all()
