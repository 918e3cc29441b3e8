"""When to call back a debtor who gave up waiting for an agent.

About an hour from now if that is inside the call windows (in every zone the
debtor may be in, never on a holiday or blocked date), else the next moment
the windows open after that: the same rules the scheduler applies, asked
through the same function.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import CallAttempt, CallWindow, Campaign, Debtor
from scheduler.windows import Window, candidate_zones, default_windows, next_open, parse_blocked

CALLBACK_DELAY = dt.timedelta(hours=1)


async def callback_due(
    session: AsyncSession, attempt: CallAttempt, now: dt.datetime
) -> tuple[dt.datetime, str]:
    """The instant to call back and the zone to speak it in."""
    debtor = await session.get(Debtor, attempt.debtor_id)
    assert debtor is not None
    campaign = await session.get(Campaign, attempt.campaign_id) if attempt.campaign_id else None
    country = (campaign.country if campaign else None) or debtor.country or "BR"
    windows: list[Window] = []
    blocked: frozenset[dt.date] = frozenset()
    if campaign is not None:
        rows = (
            await session.scalars(select(CallWindow).where(CallWindow.campaign_id == campaign.id))
        ).all()
        windows = [Window(w.weekday, w.start, w.end) for w in rows]
        blocked = parse_blocked(campaign.blocked_dates or [])
    if not windows:
        windows = default_windows(country)
    zones = candidate_zones(debtor.timezone, [p.e164 for p in debtor.phones], country)
    earliest = now + CALLBACK_DELAY
    due = next_open(earliest, zones, windows, country, debtor.region, blocked) or earliest
    return due, zones[0]
