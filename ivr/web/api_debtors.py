"""Debtor and attempt endpoints: what we know about a person, and why they are (not) called.

``/explain`` runs the scheduler's own eligibility function, the one the claim
runs under its row lock, so the answer a supervisor reads is the decision
the dialer makes. ``?at=`` asks the same question for another instant.
Agents may read the debtors whose calls were transferred to them (they need
the context); everything else here is for supervisors.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.keys import SESSIONS
from ivr.store.models import (
    Agent,
    CallAttempt,
    Callback,
    CallbackStatus,
    CallEvent,
    Debtor,
    Payment,
    Promise,
    Role,
    Transfer,
    User,
    utcnow,
)
from ivr.web.api_common import API_PREFIX, Endpoint, read_query, reply
from ivr.web.api_schemas import (
    AttemptList,
    AttemptOut,
    AttemptsQuery,
    CallbackOut,
    DebtorOut,
    DebtOut,
    EventsSummary,
    ExplainOut,
    ExplainQuery,
    OverrideOut,
    PhoneOut,
    PromiseOut,
    ReasonOut,
)
from ivr.web.auth import current_user, json_error
from scheduler.eligibility import OVERRIDABLE
from scheduler.explain import explain

RECENT_ATTEMPTS = 10


async def _debtor(s: AsyncSession, ref: str, reader: User | None = None) -> Debtor:
    """The debtor ``reader`` may see: an agent only those whose calls reached them.

    Anyone else's record answers 404, the same as a debtor that does not
    exist, so an agent's key cannot even confirm that a reference is real.
    """
    debtor = await s.scalar(select(Debtor).where(Debtor.external_ref == ref))
    if debtor is None or (reader is not None and not await _may_read(s, reader, debtor.id)):
        raise json_error(404, f"no debtor with external_ref {ref!r}")
    return debtor


async def _may_read(s: AsyncSession, user: User, debtor_id: int) -> bool:
    if user.role is Role.SUPERVISOR:
        return True
    transferred = await s.scalar(
        select(Transfer.id)
        .join(CallAttempt, CallAttempt.id == Transfer.attempt_id)
        .join(Agent, Agent.id == Transfer.agent_id)
        .where(Agent.user_id == user.id, CallAttempt.debtor_id == debtor_id)
        .limit(1)
    )
    return transferred is not None


async def attempts_out(s: AsyncSession, rows: Sequence[CallAttempt]) -> list[AttemptOut]:
    """Attempts with a summary of their events, in two queries whatever the count."""
    ids = [a.id for a in rows]
    kinds: dict[int, Counter[str]] = {i: Counter() for i in ids}
    bounds: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    refs: dict[int, str] = {}
    if ids:
        for attempt_id, kind, n, first, last in (
            await s.execute(
                select(
                    CallEvent.attempt_id,
                    CallEvent.kind,
                    func.count(),
                    func.min(CallEvent.at),
                    func.max(CallEvent.at),
                )
                .where(CallEvent.attempt_id.in_(ids))
                .group_by(CallEvent.attempt_id, CallEvent.kind)
            )
        ).all():
            kinds[attempt_id][kind] = n
            lo, hi = bounds.get(attempt_id, (first, last))
            bounds[attempt_id] = (min(lo, first), max(hi, last))
        debtor_ids = {a.debtor_id for a in rows}
        refs = {
            row.id: row.external_ref
            for row in await s.execute(
                select(Debtor.id, Debtor.external_ref).where(Debtor.id.in_(debtor_ids))
            )
        }
    out = []
    for a in rows:
        span = bounds.get(a.id)
        out.append(
            AttemptOut(
                id=a.id,
                debtor_ref=refs.get(a.debtor_id, ""),
                debt_id=a.debt_id,
                campaign_id=a.campaign_id,
                to_number=a.to_number,
                status=str(a.status),
                outcome=a.outcome,
                answered_by=a.answered_by,
                duration_s=a.duration_s,
                claimed_at=a.claimed_at,
                placed_at=a.placed_at,
                answered_at=a.answered_at,
                ended_at=a.ended_at,
                error=a.error,
                override=_override(a),
                events=EventsSummary(
                    count=sum(kinds[a.id].values()),
                    kinds=dict(sorted(kinds[a.id].items())),
                    first_at=_aware(span[0]) if span else None,
                    last_at=_aware(span[1]) if span else None,
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


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """Aggregates bypass the column type on SQLite, so restore the UTC zone here."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite's min()/max() of a DATETIME column
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


async def get_debtor(request: web.Request) -> web.Response:
    """A debtor with phones, debts, open promises, pending callbacks and recent attempts."""
    ref = request.match_info["ref"]
    async with request.app[SESSIONS]() as s:
        debtor = await _debtor(s, ref, current_user(request))
        debt_ids = [d.id for d in debtor.debts]
        paid: dict[int, int] = {}
        promises: list[Promise] = []
        if debt_ids:
            paid = {
                debt_id: int(total)
                for debt_id, total in (
                    await s.execute(
                        select(Payment.debt_id, func.sum(Payment.amount_cents))
                        .where(Payment.debt_id.in_(debt_ids))
                        .group_by(Payment.debt_id)
                    )
                ).all()
            }
            promises = list(
                (
                    await s.scalars(
                        select(Promise)
                        .where(Promise.debt_id.in_(debt_ids))
                        .order_by(Promise.created_at.desc(), Promise.id.desc())
                        .limit(20)
                    )
                ).all()
            )
        callbacks = (
            await s.scalars(
                select(Callback)
                .where(Callback.debtor_id == debtor.id, Callback.status == CallbackStatus.PENDING)
                .order_by(Callback.due_at)
            )
        ).all()
        attempts = (
            await s.scalars(
                select(CallAttempt)
                .where(CallAttempt.debtor_id == debtor.id)
                .order_by(CallAttempt.claimed_at.desc(), CallAttempt.id.desc())
                .limit(RECENT_ATTEMPTS)
            )
        ).all()
        out = DebtorOut(
            external_ref=debtor.external_ref,
            name=debtor.name,
            locale=debtor.locale,
            country=debtor.country,
            region=debtor.region,
            timezone=debtor.timezone,
            opted_out_at=debtor.opted_out_at,
            quiet_until=debtor.quiet_until,
            next_attempt_at=debtor.next_attempt_at,
            phones=[PhoneOut.model_validate(p) for p in debtor.phones],
            debts=[
                DebtOut(
                    id=d.id,
                    creditor=d.creditor,
                    amount_cents=d.amount_cents,
                    paid_cents=paid.get(d.id, 0),
                    currency=d.currency,
                    due_date=d.due_date,
                    status=str(d.status),
                    campaign_id=d.campaign_id,
                    paused_until=d.paused_until,
                    paid_at=d.paid_at,
                )
                for d in sorted(debtor.debts, key=lambda d: (d.due_date, d.id))
            ],
            promises=[
                PromiseOut(
                    id=p.id,
                    debt_id=p.debt_id,
                    promised_date=p.promised_date,
                    amount_cents=p.amount_cents,
                    status=str(p.status),
                    source=p.source,
                    created_at=p.created_at,
                )
                for p in promises
            ],
            callbacks=[
                CallbackOut(
                    id=c.id,
                    debt_id=c.debt_id,
                    due_at=c.due_at,
                    status=str(c.status),
                    reason=c.reason,
                )
                for c in callbacks
            ],
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
        )
    )


async def list_attempts(request: web.Request) -> web.Response:
    """Recent attempts, newest first, for one debtor or campaign or all."""
    q = read_query(request, AttemptsQuery)
    stmt = select(CallAttempt)
    async with request.app[SESSIONS]() as s:
        if q.debtor is not None:
            debtor = await _debtor(s, q.debtor)
            stmt = stmt.where(CallAttempt.debtor_id == debtor.id)
        if q.campaign is not None:
            stmt = stmt.where(CallAttempt.campaign_id == q.campaign)
        rows = (
            await s.scalars(
                stmt.order_by(CallAttempt.claimed_at.desc(), CallAttempt.id.desc()).limit(q.limit)
            )
        ).all()
        return reply(AttemptList(items=await attempts_out(s, rows)))


_D = f"{API_PREFIX}/debtors/{{ref}}"
_READERS = (Role.AGENT, Role.SUPERVISOR)

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
        "Why the debtor may or may not be called now (or at ?at=)",
        roles=_READERS,
        tag="debtors",
        query=ExplainQuery,
        response=ExplainOut,
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
