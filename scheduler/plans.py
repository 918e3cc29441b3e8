"""Settling payment plans against the store: load, allocate, write back.

The arithmetic is :func:`scheduler.plan_allocation.allocate`; this module
feeds it one debt's live plans (``open`` or ``broken``) and the payments that
count for each, and writes back what changed: an instalment leaves ``open``
once (kept or broken are final, as for a single promise), and the plan takes
the status its instalments give it. Both paths that settle promises use it:
a payment being recorded (``scheduler.payments``, money alone) and the
date-passed pass (``scheduler.jobs``, the debtor's local day).

A plan counts the payments made on or after the day it was agreed: money
paid before it lowered what was owed when the plan was made, so it must not
also fill the first instalment.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import Payment, PaymentPlan, PlanStatus, Promise, PromiseStatus
from scheduler.plan_allocation import Allocation, Instalment, PaidAmount, allocate, plan_status

LIVE_PLAN_STATUSES = (PlanStatus.OPEN, PlanStatus.BROKEN)


@dataclass
class PlanSettlement:
    kept: int = 0
    broken: int = 0
    broken_ids: list[int] = field(default_factory=list)


async def plan_allocations(
    s: AsyncSession, plans: list[PaymentPlan], *, today: dt.date | None, paid_off_on: dt.date | None
) -> dict[int, tuple[Allocation, dict[int, Promise]]]:
    """plan id -> (its allocation, its instalments by promise id).

    Cancelled instalments are listed but take no money."""
    if not plans:
        return {}
    by_plan: dict[int, dict[int, Promise]] = defaultdict(dict)
    for p in (
        await s.scalars(select(Promise).where(Promise.plan_id.in_([p.id for p in plans])))
    ).all():
        assert p.plan_id is not None
        by_plan[p.plan_id][p.id] = p
    debt_ids = {p.debt_id for p in plans}
    payments = (
        await s.execute(
            select(Payment.id, Payment.debt_id, Payment.paid_on, Payment.amount_cents).where(
                Payment.debt_id.in_(debt_ids)
            )
        )
    ).all()
    out = {}
    for plan in plans:
        since = plan.created_at.date()
        rows = by_plan.get(plan.id, {})
        alloc = allocate(
            [
                Instalment(p.id, p.sequence or 0, p.promised_date, p.amount_cents)
                for p in rows.values()
                if p.status is not PromiseStatus.CANCELLED
            ],
            [
                PaidAmount(r.id, r.paid_on, r.amount_cents)
                for r in payments
                if r.debt_id == plan.debt_id and r.paid_on >= since
            ],
            today=today,
            paid_off_on=paid_off_on,
        )
        out[plan.id] = (alloc, rows)
    return out


async def settle_plans(
    s: AsyncSession,
    debt_id: int,
    *,
    today: dt.date | None,
    paid_off_on: dt.date | None = None,
) -> PlanSettlement:
    """Re-allocate the debt's live plans and record what changed; the caller commits."""
    plans = list(
        (
            await s.scalars(
                select(PaymentPlan)
                .where(PaymentPlan.debt_id == debt_id, PaymentPlan.status.in_(LIVE_PLAN_STATUSES))
                .with_for_update()
            )
        ).all()
    )
    result = PlanSettlement()
    allocations = await plan_allocations(s, plans, today=today, paid_off_on=paid_off_on)
    for plan in plans:
        alloc, rows = allocations[plan.id]
        for state in alloc.instalments:
            promise = rows[state.instalment.id]
            if promise.status is not PromiseStatus.OPEN or state.status is PromiseStatus.OPEN:
                continue  # kept and broken are final; the calendar breaks, not the money
            promise.status = state.status
            if state.status is PromiseStatus.KEPT:
                result.kept += 1
            else:
                result.broken += 1
                result.broken_ids.append(promise.id)
        plan.status = plan_status(
            [st.fully_covered for st in alloc.instalments],
            [rows[st.instalment.id].status for st in alloc.instalments],
        )
    return result
