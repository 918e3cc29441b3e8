"""Payment plans in the store: create one with its instalments, read a debtor's.

A plan's instalments are promises sharing its ``plan_id``, numbered 1..N in
date order. Agreeing a new plan on a debt replaces the plans still live on
it (``open`` or ``broken``): they and their open instalments are cancelled,
so only one plan is ever being filled by the payments. What each instalment
has received is computed by the scheduler (``scheduler.plans``), not stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.plan_rules import PlanLimits
from ivr.store.models import (
    Campaign,
    Debt,
    Payment,
    PaymentPlan,
    PlanSource,
    PlanStatus,
    Promise,
    PromiseStatus,
    utcnow,
)

LIVE = (PlanStatus.OPEN, PlanStatus.BROKEN)


async def plan_limits(session: AsyncSession, campaign_id: int | None) -> PlanLimits:
    """The limits of the debt's campaign (the defaults when it has none)."""
    campaign = await session.get(Campaign, campaign_id) if campaign_id is not None else None
    if campaign is None:
        return PlanLimits()
    return PlanLimits(campaign.max_instalments, campaign.max_plan_days)


async def owed_cents(session: AsyncSession, debt: Debt) -> int:
    """What is still owed on the debt: its amount less every payment."""
    paid = await session.scalar(
        select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(Payment.debt_id == debt.id)
    )
    return max(debt.amount_cents - int(paid or 0), 0)


async def create_plan(
    session: AsyncSession,
    *,
    debt_id: int,
    instalments: Sequence[tuple[dt.date, int]],
    source: PlanSource,
    attempt_id: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[PaymentPlan, list[Promise]]:
    """A plan and its instalments (in date order), flushed; earlier live plans cancelled.

    The caller validated the instalments (``ivr.plan_rules``) and commits.
    """
    now = now or utcnow()
    replaced = select(PaymentPlan.id).where(
        PaymentPlan.debt_id == debt_id, PaymentPlan.status.in_(LIVE)
    )
    await session.execute(
        update(Promise)
        .where(Promise.plan_id.in_(replaced), Promise.status == PromiseStatus.OPEN)
        .values(status=PromiseStatus.CANCELLED)
    )
    await session.execute(
        update(PaymentPlan)
        .where(PaymentPlan.debt_id == debt_id, PaymentPlan.status.in_(LIVE))
        .values(status=PlanStatus.CANCELLED)
    )
    plan = PaymentPlan(
        debt_id=debt_id,
        attempt_id=attempt_id,
        source=source,
        status=PlanStatus.OPEN,
        created_at=now,
    )
    session.add(plan)
    await session.flush()
    promises = [
        Promise(
            debt_id=debt_id,
            attempt_id=attempt_id,
            promised_date=day,
            amount_cents=cents,
            source=source.value,
            plan_id=plan.id,
            sequence=k,
            created_at=now,
        )
        for k, (day, cents) in enumerate(sorted(instalments), start=1)
    ]
    session.add_all(promises)
    await session.flush()
    return plan, promises


async def plans_of_debts(session: AsyncSession, debt_ids: Collection[int]) -> list[PaymentPlan]:
    """The plans made on these debts, newest first."""
    if not debt_ids:
        return []
    rows = await session.scalars(
        select(PaymentPlan)
        .where(PaymentPlan.debt_id.in_(debt_ids))
        .order_by(PaymentPlan.created_at.desc(), PaymentPlan.id.desc())
    )
    return list(rows.all())
