"""Queries on campaigns for the supervisor API: load, list, and what pausing does.

Plain functions over a session; the caller owns the transaction (the API
handlers open it, lock what they change and commit), so a handler reads as
the decision it makes and this module as the statements it runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import AttemptStatus, CallAttempt, Campaign, utcnow

PAUSED_BEFORE_PLACED = "the campaign was paused before the call was placed"


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


async def cancel_unplaced_attempts(session: AsyncSession, campaign_id: int) -> None:
    """Attempts claimed but not yet placed: a paused campaign's dialer must not place them."""
    await session.execute(
        update(CallAttempt)
        .where(
            CallAttempt.campaign_id == campaign_id,
            CallAttempt.status == AttemptStatus.CLAIMED,
        )
        .values(status=AttemptStatus.CANCELED, ended_at=utcnow(), error=PAUSED_BEFORE_PLACED)
    )
