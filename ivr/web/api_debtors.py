"""Debtor and attempt endpoints: what we know about a person, why they are (not)
called, and the cases waiting for a supervisor's review.

``/explain`` runs the scheduler's own eligibility function, the one the claim
runs under its row lock, so the answer a supervisor reads is the decision
the dialer makes. ``?at=`` asks the same question for another instant.
Agents may read the debtors whose calls were transferred to them (they need
the context); everything else here is for supervisors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.keys import SESSIONS
from ivr.store import debtors as debtor_store
from ivr.store.attempt_history import event_summaries, recent_attempts
from ivr.store.audit import audit_fields, record_audit
from ivr.store.models import CallAttempt, Debt, Debtor, Role, User, utcnow
from ivr.store.payment_columns import PAYMENT_COLUMNS
from ivr.store.reviews import open_reviews
from ivr.store.transfers import reached_user
from ivr.vocab.audit import AuditAction, AuditEntity
from ivr.web.api_common import API_PREFIX, Endpoint, path_int, read_body, read_query, reply
from ivr.web.api_debtor_schemas import (
    AttemptList,
    AttemptOut,
    AttemptsQuery,
    CallbackOut,
    DebtorOut,
    DebtOut,
    DebtPaymentIn,
    DebtPaymentOut,
    EventsSummary,
    ExplainOut,
    ExplainQuery,
    OverrideOut,
    PhoneOut,
    PromiseOut,
    ReasonOut,
    RecordingOut,
    ReviewList,
    ReviewOut,
    ReviewsQuery,
    SmsExplainOut,
)
from ivr.web.auth import current_user, json_error
from scheduler.eligibility import OVERRIDABLE
from scheduler.eligibility_sms import SmsVerdict
from scheduler.explain import explain, explain_sms

RECENT_ATTEMPTS = 10


async def _debtor(s: AsyncSession, ref: str, reader: User | None = None) -> Debtor:
    """The debtor ``reader`` may see: an agent only those whose calls reached them.

    Anyone else's record answers 404, the same as a debtor that does not
    exist, so an agent's key cannot even confirm that a reference is real.
    """
    debtor = await debtor_store.debtor_by_ref(s, ref)
    if debtor is None or (reader is not None and not await _may_read(s, reader, debtor.id)):
        raise json_error(404, f"no debtor with external_ref {ref!r}")
    return debtor


async def _may_read(s: AsyncSession, user: User, debtor_id: int) -> bool:
    return user.role is Role.SUPERVISOR or await reached_user(s, user.id, debtor_id)


def _recording(a: CallAttempt) -> RecordingOut | None:
    if a.recording_sid is None:
        return None
    return RecordingOut(
        sid=a.recording_sid,
        status=a.recording_status,
        duration_s=a.recording_duration_s,
        started_at=a.recording_started_at,
        deleted_at=a.recording_deleted_at,
    )


async def attempts_out(s: AsyncSession, rows: Sequence[CallAttempt]) -> list[AttemptOut]:
    """Attempts with a summary of their events, in two queries whatever the count."""
    summaries = await event_summaries(s, [a.id for a in rows])
    refs = await debtor_store.external_refs(
        s, {a.debtor_id for a in rows if a.debtor_id is not None}
    )
    out = []
    for a in rows:
        events = summaries[a.id]
        out.append(
            AttemptOut(
                id=a.id,
                debtor_ref=refs.get(a.debtor_id, "") if a.debtor_id is not None else "",
                debt_id=a.debt_id,
                campaign_id=a.campaign_id,
                to_number=a.to_number,
                direction=a.direction,
                status=a.status,
                outcome=a.outcome,
                answered_by=a.answered_by,
                duration_s=a.duration_s,
                claimed_at=a.claimed_at,
                placed_at=a.placed_at,
                answered_at=a.answered_at,
                ended_at=a.ended_at,
                error=a.error,
                override=_override(a),
                recording=_recording(a),
                events=EventsSummary(
                    count=sum(events.kinds.values()),
                    kinds=dict(sorted(events.kinds.items())),
                    first_at=events.first_at,
                    last_at=events.last_at,
                ),
            )
        )
    return out


def _override(a: CallAttempt) -> OverrideOut | None:
    if a.override_by is None:
        return None
    waived = [c for c in (a.override_codes or "").split(",") if c]
    return OverrideOut(
        by=a.override_by, reason=a.override_reason or "", waived=waived, at=a.claimed_at
    )


async def get_debtor(request: web.Request) -> web.Response:
    """A debtor with phones, debts, open promises, pending callbacks and recent attempts."""
    ref = request.match_info["ref"]
    async with request.app[SESSIONS]() as s:
        debtor = await _debtor(s, ref, current_user(request))
        debt_ids = [d.id for d in debtor.debts]
        paid = await debtor_store.paid_cents(s, debt_ids)
        promises = await debtor_store.recent_promises(s, debt_ids)
        callbacks = await debtor_store.pending_callbacks(s, debtor.id)
        attempts = await recent_attempts(s, debtor_id=debtor.id, limit=RECENT_ATTEMPTS)
        stopped = await debtor_store.number_opt_outs(s, [p.e164 for p in debtor.phones])
        out = DebtorOut(
            external_ref=debtor.external_ref,
            name=debtor.name,
            status=debtor.status,
            locale=debtor.locale,
            country=debtor.country,
            region=debtor.region,
            timezone=debtor.timezone,
            opted_out_at=debtor.opted_out_at,
            quiet_until=debtor.quiet_until,
            next_attempt_at=debtor.next_attempt_at,
            calls_allowed=debtor.calls_allowed,
            sms_allowed=debtor.sms_allowed,
            preferred_channel=debtor.preferred_channel,
            sms_opted_out_at=debtor.sms_opted_out_at,
            phones=[
                PhoneOut(
                    e164=p.e164,
                    position=p.position,
                    wrong_number_at=p.wrong_number_at,
                    opted_out_at=stopped.get(p.e164),
                )
                for p in debtor.phones
            ],
            debts=[
                DebtOut(
                    id=d.id,
                    creditor=d.creditor,
                    amount_cents=d.amount_cents,
                    paid_cents=paid.get(d.id, 0),
                    currency=d.currency,
                    due_date=d.due_date,
                    status=d.status,
                    campaign_id=d.campaign_id,
                    paused_until=d.paused_until,
                    paid_at=d.paid_at,
                    payment_url=d.payment_url,
                    pix_code=d.pix_code,
                    boleto_line=d.boleto_line,
                )
                for d in sorted(debtor.debts, key=lambda d: (d.due_date, d.id))
            ],
            promises=[PromiseOut.model_validate(p) for p in promises],
            callbacks=[CallbackOut.model_validate(c) for c in callbacks],
            recent_attempts=await attempts_out(s, attempts),
        )
    return reply(out)


def _instant(q: ExplainQuery) -> dt.datetime:
    if q.at is None:
        return utcnow()
    if q.at.tzinfo is None:
        return q.at.replace(tzinfo=ZoneInfo(q.tz) if q.tz else dt.UTC).astimezone(dt.UTC)
    return q.at.astimezone(dt.UTC)


async def explain_debtor(request: web.Request) -> web.Response:
    """Whether the debtor may be called now (or ``at``), with every reason against it."""
    ref = request.match_info["ref"]
    q = read_query(request, ExplainQuery)
    at = _instant(q)
    async with request.app[SESSIONS]() as s:
        debtor = await _debtor(s, ref, current_user(request))
        verdict = await explain(s, debtor.id, at)
        sms = await explain_sms(s, debtor.id, at)
    return reply(
        ExplainOut(
            debtor=ref,
            at=at,
            callable=verdict.callable,
            reasons=[
                ReasonOut(
                    code=r.code,
                    message=r.message,
                    detail=r.detail,
                    until=r.until,
                    overridable=r.code in OVERRIDABLE,
                )
                for r in verdict.reasons
            ],
            zones=list(verdict.zones),
            debt_id=verdict.debt_id,
            campaign_id=verdict.campaign_id,
            to_number=verdict.to_number,
            next_check_at=verdict.wake_at,
            sms=_sms_out(sms),
        )
    )


def _sms_out(v: SmsVerdict) -> SmsExplainOut:
    return SmsExplainOut(
        allowed=v.allowed,
        purpose=v.purpose.value,
        reasons=[
            ReasonOut(code=r.code, message=r.message, detail=r.detail, until=r.until)
            for r in v.reasons
        ],
        to_number=v.to_number,
        sent_today=v.sent_today,
        daily_cap=v.daily_cap,
        next_at=v.next_at,
    )


async def list_reviews(request: web.Request) -> web.Response:
    """Cases waiting for a supervisor (a debtor reported dead), oldest report first."""
    q = read_query(request, ReviewsQuery)
    async with request.app[SESSIONS]() as s:
        items = await open_reviews(s, limit=q.limit)
    return reply(
        ReviewList(
            items=[
                ReviewOut(
                    id=i.review.id,
                    kind=i.review.kind,
                    debtor_ref=i.external_ref,
                    debtor_name=i.name,
                    debtor_status=i.status,
                    attempt_id=i.review.attempt_id,
                    reported_on=i.review.e164,
                    reported_at=i.review.reported_at,
                )
                for i in items
            ]
        )
    )


async def list_attempts(request: web.Request) -> web.Response:
    """Recent attempts, newest first, for one debtor or campaign or all."""
    q = read_query(request, AttemptsQuery)
    async with request.app[SESSIONS]() as s:
        debtor = await _debtor(s, q.debtor) if q.debtor is not None else None
        rows = await recent_attempts(
            s,
            debtor_id=debtor.id if debtor is not None else None,
            campaign_id=q.campaign,
            limit=q.limit,
        )
        return reply(AttemptList(items=await attempts_out(s, rows)))


async def put_debt_payment(request: web.Request) -> web.Response:
    """Replace a debt's payment details (link, Pix code, boleto line), each checked."""
    debt_id = path_int(request, "id")
    body = await read_body(request, DebtPaymentIn)
    async with request.app[SESSIONS]() as s, s.begin():
        debt = await s.get(Debt, debt_id)
        if debt is None:
            raise json_error(404, f"no debt with id {debt_id}")
        before = audit_fields(debt, PAYMENT_COLUMNS)
        debt.payment_url, debt.pix_code = body.payment_url, body.pix_code
        debt.boleto_line = body.boleto_line
        after = audit_fields(debt, PAYMENT_COLUMNS)
        user = current_user(request)
        await record_audit(s, user, AuditEntity.DEBT, debt_id, AuditAction.UPDATE, before, after)
    return reply(DebtPaymentOut(debt_id=debt_id, **body.model_dump()))


_D = f"{API_PREFIX}/debtors/{{ref}}"
_READERS = (Role.AGENT, Role.SUPERVISOR)
# For the other endpoints about one debtor (payment plans): the same readers, the same 404.
READERS = _READERS
readable_debtor = _debtor

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        _D,
        get_debtor,
        "A debtor with phones, debts, promises, callbacks and recent attempts",
        roles=_READERS,
        tag="debtors",
        response=DebtorOut,
        errors=(404,),
    ),
    Endpoint(
        "GET",
        f"{_D}/explain",
        explain_debtor,
        "Why the debtor may or may not be called (and sent an SMS) now, or at ?at=",
        roles=_READERS,
        tag="debtors",
        query=ExplainQuery,
        response=ExplainOut,
        errors=(404, 422),
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/reviews",
        list_reviews,
        "Cases waiting for a supervisor: debtors reported dead, who reported it and when",
        tag="debtors",
        query=ReviewsQuery,
        response=ReviewList,
        errors=(422,),
    ),
    Endpoint(
        "PUT",
        f"{API_PREFIX}/debts/{{id}}/payment-details",
        put_debt_payment,
        "Replace a debt's payment details: link, Pix code, boleto line",
        tag="debtors",
        body=DebtPaymentIn,
        response=DebtPaymentOut,
        errors=(404, 422),
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/attempts",
        list_attempts,
        "Recent call attempts with outcomes and an events summary",
        tag="attempts",
        query=AttemptsQuery,
        response=AttemptList,
        errors=(404, 422),
    ),
)
