"""What a supervisor's actions on eligibility need: "why not?" and "look again now".

:func:`explain` loads one person and runs the very function the claim runs
(:func:`scheduler.eligibility.evaluate`), so the answer is the claim's.
:func:`explain_sms` does the same for an SMS (``scheduler.eligibility_sms``).
:func:`wake_debtors` clears the planner's next-look hint after a change that
can make a parked person callable; the claim re-checks every rule anyway.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import Debt, Debtor
from ivr.vocab.messages import SmsPurpose
from scheduler.eligibility import Explanation, evaluate
from scheduler.eligibility_load import load_snapshots
from scheduler.eligibility_sms import SmsVerdict
from scheduler.eligibility_sms_load import check_sms


async def explain(session: AsyncSession, debtor_id: int, now: dt.datetime) -> Explanation:
    """Why (not) call this debtor at ``now``: every reason, for the supervisor API."""
    snaps, campaigns = await load_snapshots(session, [debtor_id], now)
    snap = snaps.get(debtor_id)
    if snap is None:
        raise LookupError(f"no debtor {debtor_id}")
    return evaluate(snap, campaigns, now)


async def explain_sms(
    session: AsyncSession,
    debtor_id: int,
    now: dt.datetime,
    purpose: SmsPurpose = SmsPurpose.REMINDER,
) -> SmsVerdict:
    """Why (not) write to this debtor at ``now``: the SMS rule book's verdict for a
    message we would send first (a reminder), every reason, and when next."""
    return await check_sms(session, debtor_id, now, purpose)


async def wake_debtors(
    session: AsyncSession,
    *,
    debtor_ids: Sequence[int] | None = None,
    campaign_id: int | None = None,
) -> int:
    """Ask the planner to look at these debtors again at once.

    Call after anything that can make a parked debtor callable: a new debt, a
    campaign resumed or its windows changed, an opt-out withdrawn. Waking is
    always safe: the claim re-checks every rule.
    """
    stmt = update(Debtor).values(next_attempt_at=None, updated_at=Debtor.updated_at)
    if debtor_ids is not None:
        stmt = stmt.where(Debtor.id.in_(list(debtor_ids)))
    if campaign_id is not None:
        stmt = stmt.where(
            Debtor.id.in_(select(Debt.debtor_id).where(Debt.campaign_id == campaign_id))
        )
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)
