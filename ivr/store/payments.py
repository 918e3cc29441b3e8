"""Queries for the payments endpoint and the collection KPIs.

Recording a payment and its consequences is the scheduler's
``record_payment`` (shared with the CSV import); what lives here is the
reading around it: whether a payment reference was seen before, the debt's
status afterwards, and the counts behind the KPI report (their definitions
are in :mod:`ivr.web.api_payments`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import CallAttempt, Debt, DebtStatus, Payment, Promise, PromiseStatus


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


@dataclass(frozen=True)
class CollectionCounts:
    """The numerators and denominators of the collection KPIs."""

    attempts: int
    live_contacts: int
    right_party_contacts: int
    promises: int
    promises_due: int
    promises_kept: int


async def collection_counts(
    session: AsyncSession,
    *,
    campaign_id: int | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    not_live_outcomes: Collection[str],
    right_party_outcomes: Collection[str],
    today: dt.date,
) -> CollectionCounts:
    """Placed attempts claimed in ``[since, until)`` (of one campaign or all), how
    many reached a person and the right one, and the promises made on them:
    how many, how many are due (settled or past their date, ``today`` in UTC)
    and how many were kept."""
    conds: list[ColumnElement[bool]] = [CallAttempt.placed_at.is_not(None)]
    if campaign_id is not None:
        conds.append(CallAttempt.campaign_id == campaign_id)
    if since is not None:
        conds.append(CallAttempt.claimed_at >= since)
    if until is not None:
        conds.append(CallAttempt.claimed_at < until)
    placed = and_(*conds)
    live = or_(
        CallAttempt.answered_by == "human",
        and_(CallAttempt.outcome.is_not(None), CallAttempt.outcome.not_in(not_live_outcomes)),
    )
    rpc = CallAttempt.outcome.in_(sorted(right_party_outcomes))
    attempts, contacts, rpcs = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(live),
                func.count().filter(rpc),
            ).where(placed)
        )
    ).one()
    made = select(CallAttempt.id).where(placed).scalar_subquery()
    promises, due, kept = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(
                    Promise.status != PromiseStatus.CANCELLED,
                    or_(
                        Promise.promised_date < today,
                        Promise.status.in_([PromiseStatus.KEPT, PromiseStatus.BROKEN]),
                    ),
                ),
                func.count().filter(Promise.status == PromiseStatus.KEPT),
            ).where(Promise.attempt_id.in_(made))
        )
    ).one()
    return CollectionCounts(attempts, contacts, rpcs, promises, due, kept)
