"""Cancelling attempts that will not be placed, or never were: one statement, one meaning.

A cancelled attempt is ended *now* with the reason why, and still counts
against the person's caps (a claim given back on drain is deleted instead:
see ``scheduler.release``). The dialer (window closed, opt-out, a stale
claim, a call the carrier never saw) and a payment that settles the debt
cancel through here, as does pausing a campaign, so every cancellation reads
the same in the history. It lives in the store so the API can use it too.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, update
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import AttemptStatus, CallAttempt


async def cancel_attempts(
    session: AsyncSession, *where: ColumnElement[bool], why: str, now: dt.datetime
) -> int:
    """Cancel the attempts matching ``where`` (the caller guards their status); how many."""
    result = await session.execute(
        update(CallAttempt)
        .where(*where)
        .values(status=AttemptStatus.CANCELED, ended_at=now, error=why)
    )
    return int(getattr(result, "rowcount", 0) or 0)
