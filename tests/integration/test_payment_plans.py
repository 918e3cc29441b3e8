"""Payment plans over a real database: payments against a 3-instalment plan,
the follow-up after a broken instalment, and the plans API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from ivr.store.models import DebtStatus, PaymentPlan, PlanSource, PlanStatus, Promise
from ivr.store.plans import create_plan
from scheduler.claim import claim_batch
from scheduler.explain import explain
from scheduler.jobs import follow_up_promises
from scheduler.payments import record_payment
from tests.support.api import Api, new_campaign, new_debtor
from tests.support.claims import make_campaign, make_debtor

D = dt.date
AGREED = dt.datetime(2026, 11, 24, 13, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in São Paulo


def at_8h_sp(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 11, 0, tzinfo=dt.UTC)


async def statuses(sessions, plan_id: int) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    async with sessions() as s:
        plan = await s.get(PaymentPlan, plan_id)
        rows = await s.scalars(
            select(Promise).where(Promise.plan_id == plan_id).order_by(Promise.sequence)
        )
        assert plan is not None
        return plan.status.value, [p.status.value for p in rows]


async def pay(sessions, debt_id: int, cents: int, day: dt.date, ref: str):  # type: ignore[no-untyped-def]
    async with sessions() as s, s.begin():
        return await record_payment(
            s, debt_id=debt_id, amount_cents=cents, paid_on=day, payment_ref=ref, now=at_8h_sp(day)
        )


async def test_payments_against_a_three_instalment_plan(sessions) -> None:  # type: ignore[no-untyped-def]
    async with sessions() as s, s.begin():
        camp = await make_campaign(s)
        debtor = await make_debtor(s, camp, amount_cents=30_000, ref="PLAN-1")
        debt_id, debtor_id = debtor.debts[0].id, debtor.id
        plan, promises = await create_plan(
            s,
            debt_id=debt_id,
            instalments=[
                (D(2027, 1, 4), 10_000),
                (D(2026, 12, 1), 10_000),
                (D(2027, 2, 1), 10_000),
            ],
            source=PlanSource.IVR,
            now=AGREED,
        )
        plan_id = plan.id
    assert [p.sequence for p in promises] == [1, 2, 3]
    assert [p.promised_date for p in promises] == [D(2026, 12, 1), D(2027, 1, 4), D(2027, 2, 1)]

    # The first instalment's money keeps the first instalment, not the second
    # (the old rule compared every promise with all money paid by its date).
    result = await pay(sessions, debt_id, 10_000, D(2026, 11, 30), "P1")
    assert (result.promises_kept, result.promises_broken) == (1, 0)
    assert await statuses(sessions, plan_id) == ("open", ["kept", "open", "open"])

    # The open plan holds calls back until its last date.
    async with sessions() as s:
        why = await explain(s, debtor_id, at_8h_sp(D(2026, 12, 15)))
    assert "open_promise" in why.codes

    # The second date passes with nothing paid: broken, the plan too; it no
    # longer shields the debtor, but the follow-up wait holds for 2 days.
    counts = await follow_up_promises(sessions, at_8h_sp(D(2027, 1, 5)))
    assert counts == {"kept": 0, "broken": 1}
    assert await statuses(sessions, plan_id) == ("broken", ["kept", "broken", "open"])
    async with sessions() as s:
        why = await explain(s, debtor_id, at_8h_sp(D(2027, 1, 5)))
    assert "broken_promise_followup" in why.codes and "open_promise" not in why.codes
    assert await claim_batch(sessions, at_8h_sp(D(2027, 1, 6)), 10, "w") == []
    claimed = await claim_batch(sessions, at_8h_sp(D(2027, 1, 7)), 10, "w")
    assert [c.debtor_id for c in claimed] == [debtor_id]

    # Late money fills the broken instalment first, the rest goes to the third.
    result = await pay(sessions, debt_id, 14_000, D(2027, 1, 10), "P2")
    assert (result.promises_kept, result.promises_broken) == (0, 0)
    assert await statuses(sessions, plan_id) == ("broken", ["kept", "broken", "open"])
    result = await pay(sessions, debt_id, 6_000, D(2027, 1, 20), "P3")
    assert result.debt_paid and result.promises_kept == 1
    assert await statuses(sessions, plan_id) == ("completed", ["kept", "broken", "kept"])


async def test_a_new_plan_replaces_the_live_one_and_ignores_earlier_money(sessions) -> None:  # type: ignore[no-untyped-def]
    async with sessions() as s, s.begin():
        camp = await make_campaign(s)
        debtor = await make_debtor(s, camp, amount_cents=30_000)
        debt_id = debtor.debts[0].id
        old, _ = await create_plan(
            s,
            debt_id=debt_id,
            instalments=[(D(2026, 12, 1), 15_000), (D(2027, 1, 4), 15_000)],
            source=PlanSource.API,
            now=AGREED,
        )
    await pay(sessions, debt_id, 10_000, D(2026, 11, 25), "E1")
    async with sessions() as s, s.begin():
        new, _ = await create_plan(
            s,
            debt_id=debt_id,
            instalments=[(D(2026, 12, 10), 10_000), (D(2027, 1, 10), 10_000)],
            source=PlanSource.AGENT,
            now=at_8h_sp(D(2026, 11, 26)),
        )
    assert await statuses(sessions, old.id) == ("cancelled", ["cancelled", "cancelled"])
    # The 100.00 paid before the new plan lowered what it had to cover.
    result = await pay(sessions, debt_id, 10_000, D(2026, 12, 9), "E2")
    assert result.promises_kept == 1
    assert await statuses(sessions, new.id) == ("open", ["kept", "open"])


# ---------------------------------------------------------------- the API


def _plan(*items: tuple[str, Any]) -> dict[str, Any]:
    return {"instalments": [{"date": d, "amount": a} for d, a in items]}


def _days(*offsets: int) -> list[str]:
    today = dt.datetime.now(dt.UTC).date()
    return [(today + dt.timedelta(days=k)).isoformat() for k in offsets]


async def _fields(resp) -> list[str]:  # type: ignore[no-untyped-def]
    assert resp.status == 422, await resp.text()
    return [e["field"] for e in (await resp.json())["errors"]]


async def test_plans_api_validates_each_field(api: Api) -> None:
    camp = await new_campaign(api, max_instalments=3, max_plan_days=60)
    debtor = await new_debtor(api, camp["id"], ref="PL-1", amount_cents=30_000)
    url = f"/api/v1/debts/{debtor.debts[0].id}/plans"
    a, b, c, d, far = _days(2, 20, 40, 50, 90)
    post = api.client.post
    assert await _fields(await post(url, json=_plan((_days(-1)[0], 100)), headers=api.sup())) == [
        "instalments[0].date"
    ]
    assert await _fields(await post(url, json=_plan((b, 100), (a, 100)), headers=api.sup())) == [
        "instalments[1].date"
    ]
    assert await _fields(await post(url, json=_plan((a, 0)), headers=api.sup())) == [
        "instalments[0].amount"
    ]
    assert await _fields(await post(url, json=_plan((a, 200), (b, 101)), headers=api.sup())) == [
        "instalments"
    ]  # 301.00 of 300.00 owed
    four = _plan((a, 10), (b, 10), (c, 10), (d, 10))
    assert await _fields(await post(url, json=four, headers=api.sup())) == ["instalments"]
    assert await _fields(await post(url, json=_plan((a, 10), (far, 10)), headers=api.sup())) == [
        "instalments[1].date"
    ]
    resp = await post(url, json=[{"date": a}], headers=api.sup())
    assert await _fields(resp) == ["instalments[0].amount"]
    resp = await post("/api/v1/debts/999999/plans", json=_plan((a, 10)), headers=api.sup())
    assert resp.status == 404
    resp = await post(url, json=_plan((a, 10)), headers=api.agent())
    assert resp.status == 403
    # Campaign limits are validated where they are set, naming the field.
    resp = await api.client.patch(
        f"/api/v1/campaigns/{camp['id']}", json={"max_instalments": 0}, headers=api.sup()
    )
    assert await _fields(resp) == ["max_instalments"]


async def test_plans_api_creates_and_lists_with_cover(api: Api) -> None:
    camp = await new_campaign(api)
    assert (camp["max_instalments"], camp["max_plan_days"]) == (6, 180)
    assert camp["followup_after_broken_days"] == 2
    debtor = await new_debtor(api, camp["id"], ref="PL-2", amount_cents=30_000)
    a, b, c = _days(5, 35, 65)
    url = f"/api/v1/debts/{debtor.debts[0].id}/plans"
    resp = await api.client.post(
        url, json=_plan((a, "100.00"), (b, 100), (c, 100)), headers=api.sup()
    )
    assert resp.status == 201, await resp.text()
    made = await resp.json()
    assert (made["source"], made["status"], made["total_cents"]) == ("api", "open", 30_000)
    assert [i["sequence"] for i in made["instalments"]] == [1, 2, 3]

    today = dt.datetime.now(dt.UTC).date().isoformat()
    pay = {"external_ref": "PL-2", "amount": "150.00", "paid_on": today, "payment_ref": "PL2-1"}
    resp = await api.client.post("/api/v1/payments", json=pay, headers=api.sup())
    assert resp.status == 201 and (await resp.json())["promises_kept"] == 1

    resp = await api.client.get("/api/v1/debtors/PL-2/plans", headers=api.sup())
    assert resp.status == 200
    (plan,) = (await resp.json())["items"]
    assert plan["covered_cents"] == 15_000
    assert [(i["status"], i["covered_cents"]) for i in plan["instalments"]] == [
        ("kept", 10_000),
        ("open", 5_000),
        ("open", 0),
    ]
    resp = await api.client.get("/api/v1/debtors/PL-2/plans", headers=api.agent())
    assert resp.status == 404  # an agent sees only debtors whose calls reached them
    async with api.sessions() as s:
        assert await s.scalar(select(PaymentPlan.status)) is PlanStatus.OPEN
        assert debtor.debts[0].status is DebtStatus.OPEN
