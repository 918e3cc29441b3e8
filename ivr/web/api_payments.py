"""Payments and KPI reports.

A payment goes through the scheduler's ``record_payment``, the same code the
CSV import uses, so settling a debt cancels its pending callbacks and its
claimed-but-unplaced attempts in the same transaction however it arrives.

KPIs follow the definitions in the compliance reference ("Collection KPIs"),
made precise here:

* attempts: calls that reached the carrier (``placed_at`` set); a claim
  cancelled before dialling is not a call.
* live contact: answered by a person (AMD said ``human``, or the dialog
  heard someone: any outcome other than ``voicemail``/``no_contact``).
* right-party contact: the outcome says we spoke with the verified debtor
  (``ivr.vocab.outcomes.RIGHT_PARTY_OUTCOMES``, which also drive the quiet days).
* promises: promises to pay made during those attempts.
* promises due / kept: of those promises, the ones settled or whose date has
  passed (UTC today), and the ones marked kept (paid by their date).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.keys import SESSIONS
from ivr.store.models import utcnow
from ivr.store.payments import collection_counts, debt_status, payment_by_ref
from ivr.vocab.outcomes import NOT_LIVE_OUTCOMES, RIGHT_PARTY_OUTCOMES
from ivr.web.api_common import (
    API_PREFIX,
    Endpoint,
    FieldError,
    rate,
    read_body,
    read_query,
    reply,
    unprocessable,
    utc,
)
from ivr.web.api_schemas import PaymentIn, PaymentOut, SummaryOut, SummaryQuery
from ivr.web.auth import json_error
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


async def summary(request: web.Request) -> web.Response:
    """Attempts, contact, right-party and promise-to-pay rates for a campaign (or all)."""
    q = read_query(request, SummaryQuery)
    since, until = utc(q.since), utc(q.until)
    if since and until and until <= since:
        raise unprocessable([FieldError("until", "must be after since")])
    async with request.app[SESSIONS]() as s:
        counts = await collection_counts(
            s,
            campaign_id=q.campaign,
            since=since,
            until=until,
            not_live_outcomes=NOT_LIVE_OUTCOMES,
            right_party_outcomes=RIGHT_PARTY_OUTCOMES,
            today=utcnow().date(),
        )
    out = SummaryOut(
        campaign_id=q.campaign,
        since=since,
        until=until,
        **asdict(counts),
        contact_rate=rate(counts.live_contacts, counts.attempts),
        rpc_rate=rate(counts.right_party_contacts, counts.attempts),
        ptp_rate=rate(counts.promises, counts.right_party_contacts),
        promise_kept_rate=rate(counts.promises_kept, counts.promises_due),
    )
    return reply(out)


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
    Endpoint(
        "GET",
        f"{API_PREFIX}/reports/summary",
        summary,
        "Collection KPIs: contact, right-party contact and promise-to-pay rates",
        tag="reports",
        query=SummaryQuery,
        response=SummaryOut,
        errors=(422,),
    ),
)
