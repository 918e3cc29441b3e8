"""Queries on a debtor and what hangs off them: debts' payments, promises, callbacks.

What the API shows about a person; the caller owns the session (read-only
here) and turns the rows into its answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import Callback, CallbackStatus, Debtor, NumberOptOut, Payment, Promise

RECENT_PROMISES = 20


async def debtor_by_ref(session: AsyncSession, external_ref: str) -> Debtor | None:
    return await session.scalar(select(Debtor).where(Debtor.external_ref == external_ref))


async def external_refs(session: AsyncSession, debtor_ids: Collection[int]) -> dict[int, str]:
    """debtor id -> external_ref, in one query."""
    if not debtor_ids:
        return {}
    rows = await session.execute(
        select(Debtor.id, Debtor.external_ref).where(Debtor.id.in_(debtor_ids))
    )
    return {row.id: row.external_ref for row in rows}


async def number_opt_outs(
    session: AsyncSession, numbers: Collection[str]
) -> dict[str, dt.datetime]:
    """E.164 -> when someone at that number asked not to be called there."""
    if not numbers:
        return {}
    rows = await session.execute(
        select(NumberOptOut.e164, NumberOptOut.created_at).where(NumberOptOut.e164.in_(numbers))
    )
    return {e164: at for e164, at in rows.all()}


async def paid_cents(session: AsyncSession, debt_ids: Collection[int]) -> dict[int, int]:
    """debt id -> the sum of its payments (debts without any are absent)."""
    if not debt_ids:
        return {}
    rows = await session.execute(
        select(Payment.debt_id, func.sum(Payment.amount_cents))
        .where(Payment.debt_id.in_(debt_ids))
        .group_by(Payment.debt_id)
    )
    return {debt_id: int(total) for debt_id, total in rows.all()}


async def recent_promises(
    session: AsyncSession, debt_ids: Collection[int], limit: int = RECENT_PROMISES
) -> list[Promise]:
    """The latest promises made against these debts, newest first."""
    if not debt_ids:
        return []
    rows = await session.scalars(
        select(Promise)
        .where(Promise.debt_id.in_(debt_ids))
        .order_by(Promise.created_at.desc(), Promise.id.desc())
        .limit(limit)
    )
    return list(rows.all())


async def pending_callbacks(session: AsyncSession, debtor_id: int) -> Sequence[Callback]:
    """Callbacks still to place for the debtor, soonest first."""
    rows = await session.scalars(
        select(Callback)
        .where(Callback.debtor_id == debtor_id, Callback.status == CallbackStatus.PENDING)
        .order_by(Callback.due_at)
    )
    return rows.all()


async def latest_callback(session: AsyncSession, debtor_id: int, reason: str) -> Callback | None:
    """The debtor's most recent callback recorded for ``reason``."""
    return await session.scalar(
        select(Callback)
        .where(Callback.debtor_id == debtor_id, Callback.reason == reason)
        .order_by(Callback.id.desc())
    )


async def add_promise(
    session: AsyncSession,
    *,
    debt_id: int,
    attempt_id: int,
    promised_date: dt.date,
    amount_cents: int,
    source: str,
) -> Promise:
    """A promise to pay, flushed so it has its id (the caller records any event)."""
    promise = Promise(
        debt_id=debt_id,
        attempt_id=attempt_id,
        promised_date=promised_date,
        amount_cents=amount_cents,
        source=source,
    )
    session.add(promise)
    await session.flush()
    return promise
