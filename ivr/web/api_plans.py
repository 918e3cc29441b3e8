"""Payment plans: agree one on a debt, and read a debtor's with each instalment's state.

``POST /api/v1/debts/{id}/plans`` takes ``{"instalments": [{date,
amount}, ...]}`` (a bare list is read the same) and answers 422 naming the
field at fault: dates in the future of the debtor's calendar and increasing,
amounts positive, the total at most what is still owed, and the campaign's
limits (``max_instalments``, ``max_plan_days``; ``ivr.plan_rules``, the
rules the call and the agent's wrap-up apply too). A new plan replaces the
debt's live one. ``GET /api/v1/debtors/{ref}/plans`` lists the plans with
what the payments have covered of each instalment, allocated in order
(``scheduler.plan_allocation``).
"""

from __future__ import annotations

import datetime as dt

from aiohttp import web
from pydantic import Field, ValidationError
from sqlalchemy import select

from ivr.keys import SESSIONS
from ivr.plan_rules import plan_problems
from ivr.store import plans as plan_store
from ivr.store.audit import record_audit
from ivr.store.models import Debt, Debtor, DebtStatus, PlanSource, PlanStatus, Role, utcnow
from ivr.vocab.audit import AuditAction, AuditEntity
from ivr.web.api_common import (
    API_PREFIX,
    Endpoint,
    FieldError,
    from_pydantic,
    path_int,
    read_json,
    reply,
    unprocessable,
)
from ivr.web.api_debtors import READERS, readable_debtor
from ivr.web.api_schemas import Input, InstalmentIn, Output
from ivr.web.auth import current_user, json_error
from scheduler.plans import plan_allocations
from scheduler.windows import local_day
from scheduler.zones import primary_zone

MAX_INSTALMENTS_IN_BODY = 60


class PlanIn(Input):
    instalments: list[InstalmentIn] = Field(
        min_length=1, max_length=MAX_INSTALMENTS_IN_BODY, description="in date order"
    )


class InstalmentOut(Output):
    promise_id: int
    sequence: int
    date: dt.date
    amount_cents: int
    status: str = Field(description="open, kept, broken or cancelled")
    covered_cents: int = Field(description="what the payments, in order, have put into it")


class PlanOut(Output):
    id: int
    debt_id: int
    attempt_id: int | None
    source: PlanSource
    status: PlanStatus
    created_at: dt.datetime
    total_cents: int
    covered_cents: int
    instalments: list[InstalmentOut]


class PlanList(Output):
    items: list[PlanOut]


def debtor_today(debtor: Debtor, now: dt.datetime) -> dt.date:
    """The debtor's calendar day (the zone that dates their promises)."""
    return local_day(now, primary_zone(debtor.timezone, debtor.phones, debtor.country))


async def _body(request: web.Request) -> PlanIn:
    data = await read_json(request)
    if isinstance(data, list):
        data = {"instalments": data}
    if not isinstance(data, dict):
        raise unprocessable([FieldError("instalments", "must be a list of {date, amount}")])
    try:
        return PlanIn.model_validate(data)
    except ValidationError as exc:
        raise unprocessable(from_pydantic(exc)) from None


async def post_plan(request: web.Request) -> web.Response:
    """Agree a payment plan on a debt (replacing its live plan)."""
    debt_id = path_int(request, "id")
    body = await _body(request)
    items = [(i.date, i.cents()) for i in body.instalments]
    now = utcnow()
    async with request.app[SESSIONS]() as s, s.begin():
        debt = await s.scalar(select(Debt).where(Debt.id == debt_id).with_for_update())
        if debt is None:
            raise json_error(404, f"no debt {debt_id}")
        if debt.status is not DebtStatus.OPEN:
            raise json_error(409, f"debt {debt_id} is {debt.status}: no plan for it")
        debtor = await s.get(Debtor, debt.debtor_id)
        assert debtor is not None
        problems = plan_problems(
            items,
            earliest=debtor_today(debtor, now) + dt.timedelta(days=1),
            owed_cents=await plan_store.owed_cents(s, debt),
            limits=await plan_store.plan_limits(s, debt.campaign_id),
        )
        if problems:
            raise unprocessable([FieldError(f, r) for f, r in problems])
        plan, _ = await plan_store.create_plan(
            s, debt_id=debt.id, instalments=items, source=PlanSource.API, now=now
        )
        after = {
            "debt_id": debt.id,
            "debtor": debtor.external_ref,
            "instalments": [{"date": d, "amount_cents": c} for d, c in items],
        }
        await record_audit(
            s, current_user(request), AuditEntity.PLAN, plan.id, AuditAction.CREATE, None, after
        )
        out = await _plans_out(s, [plan])
    return reply(out.items[0], 201)


async def _plans_out(s, plans) -> PlanList:  # type: ignore[no-untyped-def]
    allocations = await plan_allocations(s, plans, today=None, paid_off_on=None)
    items = []
    for plan in plans:
        alloc, rows = allocations[plan.id]
        covered = {st.instalment.id: st.covered_cents for st in alloc.instalments}
        instalments = [
            InstalmentOut(
                promise_id=p.id,
                sequence=p.sequence or 0,
                date=p.promised_date,
                amount_cents=p.amount_cents,
                status=p.status.value,
                covered_cents=covered.get(p.id, 0),
            )
            for p in sorted(rows.values(), key=lambda p: (p.sequence or 0, p.id))
        ]
        items.append(
            PlanOut(
                id=plan.id,
                debt_id=plan.debt_id,
                attempt_id=plan.attempt_id,
                source=plan.source,
                status=plan.status,
                created_at=plan.created_at,
                total_cents=sum(i.amount_cents for i in instalments),
                covered_cents=sum(i.covered_cents for i in instalments),
                instalments=instalments,
            )
        )
    return PlanList(items=items)


async def list_plans(request: web.Request) -> web.Response:
    """A debtor's payment plans, newest first, with each instalment's status and cover."""
    async with request.app[SESSIONS]() as s:
        debtor = await readable_debtor(s, request.match_info["ref"], current_user(request))
        plans = await plan_store.plans_of_debts(s, [d.id for d in debtor.debts])
        out = await _plans_out(s, plans)
    return reply(out)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "POST",
        f"{API_PREFIX}/debts/{{id}}/plans",
        post_plan,
        "Agree a payment plan of dated instalments on a debt (replaces its live plan)",
        roles=(Role.SUPERVISOR,),
        tag="plans",
        body=PlanIn,
        response=PlanOut,
        status=201,
        errors=(404, 409, 422),
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/debtors/{{ref}}/plans",
        list_plans,
        "A debtor's payment plans with each instalment's status and covered amount",
        roles=READERS,
        tag="plans",
        response=PlanList,
        errors=(404,),
    ),
)
