"""Queries for the payments endpoint and the collection KPIs.

Recording a payment and its consequences is the scheduler's
``record_payment`` (shared with the CSV import); what lives here is the
reading around it: whether a payment reference was seen before and the
debt's status afterwards. The collection KPIs are :mod:`ivr.reports.kpis`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import Debt, DebtStatus, Payment


@dataclass(frozen=True)
class SeenPayment:
    payment_id: int
    debt_id: int


async def payment_by_ref(session: AsyncSession, payment_ref: str) -> SeenPayment | None:
    """The payment already recorded under this reference (a retry), if any."""
    row = (
        await session.execute(
            select(Payment.id, Payment.debt_id).where(Payment.external_ref == payment_ref)
        )
    ).first()
    return None if row is None else SeenPayment(row.id, row.debt_id)


async def debt_status(session: AsyncSession, debt_id: int) -> DebtStatus | None:
    status: DebtStatus | None = await session.scalar(select(Debt.status).where(Debt.id == debt_id))
    return status
