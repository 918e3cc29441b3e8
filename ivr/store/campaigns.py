"""Queries on campaigns for the supervisor API: load, list, and what pausing does.

Plain functions over a session; the caller owns the transaction (the API
handlers open it, lock what they change and commit), so a handler reads as
the decision it makes and this module as the statements it runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.attempt_cancel import cancel_attempts
from ivr.store.models import (
    AttemptStatus,
    CallAttempt,
    CallWindow,
    Campaign,
    Debt,
    Debtor,
    utcnow,
)

PAUSED_BEFORE_PLACED = "the campaign was paused before the call was placed"


class WindowLike(Protocol):
    """A weekly calling range: what the API accepts and what the country defaults are."""

    @property
    def weekday(self) -> int: ...
    @property
    def start(self) -> dt.time: ...
    @property
    def end(self) -> dt.time: ...


def _window_rows(windows: Sequence[WindowLike]) -> list[CallWindow]:
    return [CallWindow(weekday=w.weekday, start=w.start, end=w.end) for w in windows]


async def add_campaign(
    session: AsyncSession, fields: dict[str, Any], windows: Sequence[WindowLike]
) -> int:
    """A new campaign with its windows, flushed; returns its id (a taken name fails here)."""
    campaign = Campaign(**fields)
    campaign.windows = _window_rows(windows)
    session.add(campaign)
    await session.flush()
    return campaign.id


async def replace_windows(
    session: AsyncSession, campaign: Campaign, windows: Sequence[WindowLike]
) -> None:
    """Every window of the campaign replaced (the old rows deleted first, then the new
    ones inserted, so a range kept as it was never collides with itself)."""
    campaign.windows.clear()
    await session.flush()
    campaign.windows.extend(_window_rows(windows))
    await session.flush()


async def load_campaign(
    session: AsyncSession, campaign_id: int, *, lock: bool = False
) -> Campaign | None:
    """The campaign with its windows, re-read from the database (never a stale
    copy from the session); ``lock`` takes its row lock for an update."""
    stmt = select(Campaign).where(Campaign.id == campaign_id)
    if lock:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt.execution_options(populate_existing=True))


async def list_campaigns(session: AsyncSession) -> Sequence[Campaign]:
    """Every campaign, newest first."""
    return (await session.scalars(select(Campaign).order_by(Campaign.id.desc()))).all()


async def attempts_since(session: AsyncSession, since: dt.datetime) -> dict[int, int]:
    """Calls placed per campaign among the attempts claimed since ``since``
    (one range of ``ix_call_attempts_campaign_claimed`` per campaign)."""
    rows = await session.execute(
        select(CallAttempt.campaign_id, func.count())
        .where(
            CallAttempt.campaign_id.is_not(None),
            CallAttempt.claimed_at >= since,
            CallAttempt.placed_at.is_not(None),
        )
        .group_by(CallAttempt.campaign_id)
    )
    return {int(cid): int(n) for cid, n in rows.all() if cid is not None}


async def debtor_regions(session: AsyncSession, campaign_id: int) -> list[str]:
    """The states (ISO subdivisions) the campaign's debtors live in, for its holiday list."""
    rows = await session.scalars(
        select(Debtor.region)
        .join(Debt, Debt.debtor_id == Debtor.id)
        .where(Debt.campaign_id == campaign_id, Debtor.region.is_not(None))
        .distinct()
        .limit(100)
    )
    return sorted({r.upper() for r in rows.all() if r})


async def cancel_unplaced_attempts(session: AsyncSession, campaign_id: int) -> None:
    """Attempts claimed but not yet placed: a paused campaign's dialer must not place them."""
    await cancel_attempts(
        session,
        CallAttempt.campaign_id == campaign_id,
        CallAttempt.status == AttemptStatus.CLAIMED,
        why=PAUSED_BEFORE_PLACED,
        now=utcnow(),
    )
