"""Queries for the payments endpoint and the collection KPIs.

Recording a payment and its consequences is the scheduler's
``record_payment`` (shared with the CSV import); what lives here is the
reading around it: whether a payment reference was seen before, the debt's
status afterwards, and the counts behind a period's KPIs (``ivr.kpis``, the
demo's summary). What each count counts is :mod:`ivr.reports.kpis`, shared
with the daily reports: the predicates come from there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.reports.kpis import is_agreement, is_contact, is_due, is_rpc
from ivr.store.models import CallAttempt, Debt, DebtStatus, Payment, Promise, PromiseStatus
from ivr.vocab.attempts import AttemptDirection


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
    today: dt.date,
) -> CollectionCounts:
    """Attempts claimed in ``[since, until)`` (of one campaign or all), how many
    reached a person and the right one, and the agreements made in them: how
    many, and of their promises how many are due (``today`` in UTC) and kept.

    The definitions are those of the daily reports (:mod:`ivr.reports.kpis`);
    only the selection differs: a period's calls and the promises made in
    them, where a report's day counts the promises falling due that day.
    """
    placed = _placed(campaign_id, since, until)
    attempts, contacts, rpcs = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(is_contact()),
                func.count().filter(is_rpc()),
            ).where(placed)
        )
    ).one()
    made = select(CallAttempt.id).where(placed).scalar_subquery()
    promises, due, kept = (
        await session.execute(
            select(
                func.count().filter(is_agreement()),
                func.count().filter(is_due(today)),
                func.count().filter(Promise.status == PromiseStatus.KEPT),
            ).where(Promise.attempt_id.in_(made))
        )
    ).one()
    return CollectionCounts(attempts, contacts, rpcs, promises, due, kept)


def _placed(
    campaign_id: int | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    direction: AttemptDirection = AttemptDirection.OUTBOUND,
) -> ColumnElement[bool]:
    """Attempts that reached the carrier, claimed in ``[since, until)``, of one campaign or all.

    Our own calls by default: a call the debtor made to us is not a dialling
    attempt, and counting it would flatter the contact rate (outbound, this is
    :func:`ivr.reports.kpis.is_attempt`).
    """
    conds: list[ColumnElement[bool]] = [
        CallAttempt.placed_at.is_not(None),
        CallAttempt.direction == direction,
    ]
    if campaign_id is not None:
        conds.append(CallAttempt.campaign_id == campaign_id)
    if since is not None:
        conds.append(CallAttempt.claimed_at >= since)
    if until is not None:
        conds.append(CallAttempt.claimed_at < until)
    return and_(*conds)


@dataclass(frozen=True)
class InboundCounts:
    """Calls the debtors made to the service: how many, verified, and promises made on them."""

    calls: int
    verified: int
    promises: int


async def inbound_counts(
    session: AsyncSession,
    *,
    campaign_id: int | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> InboundCounts:
    received = _placed(campaign_id, since, until, AttemptDirection.INBOUND)
    calls, verified = (
        await session.execute(
            select(func.count(), func.count().filter(CallAttempt.verified_at.is_not(None))).where(
                received
            )
        )
    ).one()
    made = select(CallAttempt.id).where(received).scalar_subquery()
    promises = await session.scalar(
        select(func.count()).where(
            Promise.attempt_id.in_(made), Promise.status != PromiseStatus.CANCELLED
        )
    )
    return InboundCounts(int(calls), int(verified), int(promises or 0))


async def outcome_tally(
    session: AsyncSession,
    *,
    campaign_id: int | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> dict[str, int]:
    """Placed attempts by outcome (``""`` for calls still without one), most frequent first."""
    rows = (
        await session.execute(
            select(CallAttempt.outcome, func.count())
            .where(_placed(campaign_id, since, until))
            .group_by(CallAttempt.outcome)
        )
    ).all()
    counts = {(outcome or ""): n for outcome, n in rows}
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


async def promised_amounts(
    session: AsyncSession,
    *,
    campaign_id: int | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> dict[str, int]:
    """Cents promised on those attempts (cancelled promises left out), by the debt's currency."""
    made = select(CallAttempt.id).where(_placed(campaign_id, since, until)).scalar_subquery()
    rows = (
        await session.execute(
            select(Debt.currency, func.sum(Promise.amount_cents))
            .join(Debt, Debt.id == Promise.debt_id)
            .where(Promise.attempt_id.in_(made), Promise.status != PromiseStatus.CANCELLED)
            .group_by(Debt.currency)
            .order_by(Debt.currency)
        )
    ).all()
    return {currency: int(cents) for currency, cents in rows}
