"""Payments.

A payment goes through the scheduler's ``record_payment``, the same code the
CSV import uses, so settling a debt cancels its pending callbacks and its
claimed-but-unplaced attempts in the same transaction however it arrives.
The payment row does not say who recorded it, so the audit log does (a retry
of a known payment changes nothing and writes nothing).

The collection KPIs and the reports are :mod:`ivr.reports` (definitions in
:mod:`ivr.reports.kpis`).
"""

from __future__ import annotations

import datetime as dt

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.keys import SESSIONS
from ivr.store.audit import record_audit
from ivr.store.models import Debt, Debtor, utcnow
from ivr.store.payments import debt_status, payment_by_ref
from ivr.vocab.audit import AuditAction, AuditEntity
from ivr.web.api_common import (
    API_PREFIX,
    Endpoint,
    FieldError,
    read_body,
    reply,
    unprocessable,
)
from ivr.web.api_schemas import PaymentIn, PaymentOut
from ivr.web.auth import current_user, json_error
from scheduler.payments import PaymentRejected, PaymentResult, record_payment, resolve_debt


async def post_payment(request: web.Request) -> web.Response:
    """Record a payment; a debt paid in full stops being called at once."""
    body = await read_body(request, PaymentIn)
    now = utcnow()
    if body.paid_on > now.date() + dt.timedelta(days=1):
        raise unprocessable([FieldError("paid_on", "must not be in the future")])
    cents = int(body.amount * 100)
    async with request.app[SESSIONS]() as s, s.begin():
        seen = await payment_by_ref(s, body.payment_ref)
        if seen is not None:  # a retry: the debt may be settled, so resolve nothing
            result = PaymentResult(seen.payment_id, seen.debt_id, duplicate=True)
        else:
            try:
                debt = await resolve_debt(s, body.external_ref)
            except PaymentRejected as exc:
                raise unprocessable([FieldError("external_ref", str(exc))]) from None
            result = await _record(s, debt.id, cents, body, now)
            await _audit(s, request, debt, result, cents, body)
        status = await debt_status(s, result.debt_id)
        assert status is not None  # the payment's debt, read in the same transaction
    out = PaymentOut(
        payment_id=result.payment_id,
        debt_id=result.debt_id,
        debt_status=status,
        duplicate=result.duplicate,
        debt_paid=result.debt_paid,
        promises_kept=result.promises_kept,
        promises_broken=result.promises_broken,
        callbacks_cancelled=result.callbacks_cancelled,
        attempts_cancelled=result.attempts_cancelled,
    )
    return reply(out, 200 if result.duplicate else 201)


async def _audit(
    s: AsyncSession,
    request: web.Request,
    debt: Debt,
    result: PaymentResult,
    cents: int,
    body: PaymentIn,
) -> None:
    """Who recorded the payment, in its transaction (a retry found known: nothing)."""
    if result.duplicate or result.payment_id is None:
        return
    ref = await s.scalar(select(Debtor.external_ref).where(Debtor.id == debt.debtor_id))
    after = {
        "debt_id": debt.id,
        "debtor": ref,
        "amount_cents": cents,
        "paid_on": body.paid_on,
        "payment_ref": body.payment_ref,
        "debt_paid": result.debt_paid,
    }
    await record_audit(
        s,
        current_user(request),
        AuditEntity.PAYMENT,
        result.payment_id,
        AuditAction.CREATE,
        None,
        after,
    )


async def _record(
    s: AsyncSession, debt_id: int, cents: int, body: PaymentIn, now: dt.datetime
) -> PaymentResult:
    try:
        return await record_payment(
            s,
            debt_id=debt_id,
            amount_cents=cents,
            paid_on=body.paid_on,
            payment_ref=body.payment_ref,
            now=now,
        )
    except PaymentRejected as exc:
        raise json_error(422, str(exc)) from None


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "POST",
        f"{API_PREFIX}/payments",
        post_payment,
        "Record a payment (settles the debt when paid in full)",
        tag="payments",
        body=PaymentIn,
        response=PaymentOut,
        status=201,
        errors=(422,),
    ),
)
