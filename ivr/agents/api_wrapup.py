"""The agent's wrap-up after a transfer: notes, an outcome, a promise or a plan.

Only the agent the transfer was routed to may write it; a promise or plan is
checked by the same rules as the call's (``ivr.plan_rules``) and stored with
the transfer's debt.
"""

from __future__ import annotations

import datetime as dt

import structlog
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.agents import presence as presence_ops
from ivr.agents.hub import AgentEvent
from ivr.agents.keys import AGENT_HUB, TRANSFER_SERVICE
from ivr.agents.schemas import (
    WrapupIn,
)
from ivr.agents.transfers import describe
from ivr.keys import SESSIONS
from ivr.plan_rules import plan_problems
from ivr.store import agents as agent_store
from ivr.store import plans as plan_store
from ivr.store.debtors import add_promise
from ivr.store.models import (
    Agent,
    CallAttempt,
    Debt,
    Debtor,
    PlanSource,
    Role,
    utcnow,
)
from ivr.store.queries import add_event
from ivr.store.transfers import transfer_call
from ivr.web.api_common import (
    FieldError,
    path_int,
    read_body,
    unprocessable,
)
from ivr.web.api_plans import debtor_today
from ivr.web.auth import json_error, require

log = structlog.get_logger(__name__)


async def signed_in_agent(request: web.Request) -> Agent:
    """The agent the signed-in user is; 404 for a user who is not one."""
    user = await require(Role.AGENT)(request)
    async with request.app[SESSIONS]() as s:
        agent = await agent_store.agent_for_user(s, user.id)
    if agent is None:
        raise json_error(404, "this user is not an agent")
    return agent


async def post_wrapup(request: web.Request) -> web.Response:
    """The agent's notes after the call: outcome, notes, and a promise if one was made."""
    agent = await signed_in_agent(request)
    transfer_id = path_int(request, "transfer_id")
    body = await read_body(request, WrapupIn)
    cents = body.promise_cents()
    if (body.promise_date is None) != (cents is None):
        field = "promise_date" if body.promise_date is None else "promise_amount"
        raise unprocessable([FieldError(field, "a promise needs both a date and an amount")])
    if body.plan is not None and body.promise_date is not None:
        raise unprocessable([FieldError("plan", "a plan or a single promise, not both")])
    if body.outcome == "promise" and body.promise_date is None and body.plan is None:
        raise unprocessable([FieldError("promise_date", "a promise needs a date and an amount")])
    now = utcnow()
    async with request.app[SESSIONS]() as s, s.begin():
        found = await transfer_call(s, transfer_id)
        if found is None or found.transfer.agent_id != agent.id:
            raise json_error(404, "no such transfer for this agent")
        transfer, attempt = found.transfer, found.attempt
        if transfer.status not in ("connected", "completed"):
            raise json_error(409, f"transfer is {transfer.status}: nothing to wrap up")
        transfer.outcome = body.outcome
        transfer.notes = body.notes or None
        promise_id = None
        if body.promise_date is not None and cents is not None:
            if attempt.debt_id is None:
                raise unprocessable(
                    [FieldError("promise_date", "this call has no debt to promise against")]
                )
            promise = await add_promise(
                s,
                debt_id=attempt.debt_id,
                attempt_id=attempt.id,
                promised_date=body.promise_date,
                amount_cents=cents,
                source="agent",
            )
            promise_id = promise.id
        plan_id = None
        if body.plan is not None:
            plan_id = await _wrapup_plan(s, attempt, body, now)
        await add_event(
            s,
            attempt.id,
            "agent_wrapup",
            {"transfer_id": transfer_id, "agent_id": agent.id, "outcome": body.outcome},
        )
        freed = False
        if transfer.status == "completed":
            freed = await presence_ops.end_wrapup(s, agent.id, now)
        result = describe(transfer) | {"promise_id": promise_id, "plan_id": plan_id}
    await request.app[AGENT_HUB].publish(AgentEvent(agent.id, "presence"))
    if freed:
        await request.app[TRANSFER_SERVICE].dispatch_queue()
    return web.json_response(result)


async def _wrapup_plan(
    s: AsyncSession, attempt: CallAttempt, body: WrapupIn, now: dt.datetime
) -> int:
    """The plan the agent agreed, checked like the API's (``ivr.plan_rules``);
    the first instalment may be today in the debtor's calendar."""
    assert body.plan is not None
    if attempt.debt_id is None:
        raise unprocessable([FieldError("plan", "this call has no debt to promise against")])
    debt = await s.get(Debt, attempt.debt_id)
    debtor = await s.get(Debtor, attempt.debtor_id)
    assert debt is not None and debtor is not None
    items = [(i.date, i.cents()) for i in body.plan]
    problems = plan_problems(
        items,
        earliest=debtor_today(debtor, now),
        owed_cents=await plan_store.owed_cents(s, debt),
        limits=await plan_store.plan_limits(s, debt.campaign_id),
        field="plan",
    )
    if problems:
        raise unprocessable([FieldError(f, r) for f, r in problems])
    plan, _ = await plan_store.create_plan(
        s,
        debt_id=debt.id,
        instalments=items,
        source=PlanSource.AGENT,
        attempt_id=attempt.id,
        now=now,
    )
    return plan.id


# ------------------------------------------------------------------ supervisors
