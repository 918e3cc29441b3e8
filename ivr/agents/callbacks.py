"""When to call back a debtor who gave up waiting for an agent.

About an hour from now if that is inside the call windows (in every zone the
debtor may be in, never on a holiday or blocked date), else the next moment
the windows open after that. The windows, zones and country rules come from
the scheduler's rule book (:func:`scheduler.eligibility.evaluate`), exactly
as the claim that will place the callback sees them; the claim re-checks
everything (caps included) when the callback falls due and defers it if
needed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import CallAttempt
from scheduler.eligibility import evaluate
from scheduler.eligibility_load import load_snapshots
from scheduler.snapshot import CallbackRow
from scheduler.windows import next_open

CALLBACK_DELAY = dt.timedelta(hours=1)


async def callback_due(
    session: AsyncSession, attempt: CallAttempt, now: dt.datetime
) -> tuple[dt.datetime, str]:
    """The instant to call back and the zone to speak it in."""
    earliest = now + CALLBACK_DELAY
    if attempt.debtor_id is None:  # an inbound caller who never identified
        raise LookupError("a callback needs an identified person")
    snaps, campaigns = await load_snapshots(session, [attempt.debtor_id], now)
    snap = snaps[attempt.debtor_id]
    asked = CallbackRow(0, attempt.debt_id, earliest)
    verdict = evaluate(snap, campaigns, earliest, callback=asked)
    due = next_open(
        earliest, verdict.zones, verdict.windows, verdict.country, verdict.region, verdict.blocked
    )
    return due or earliest, verdict.zones[0]
