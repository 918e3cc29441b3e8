"""Payments, and the period KPIs of the demo, over a real database (the daily
reports: test_reports.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ivr.store.models import (
    AttemptStatus,
    CallAttempt,
    Callback,
    CallbackStatus,
    Debt,
    DebtStatus,
    Promise,
    PromiseStatus,
)
from ivr.vocab.attempts import AttemptDirection
from tests.support.api import WEDNESDAY_10H_SP, Api, add_attempt, new_campaign, new_debtor

P = "/api/v1/payments"


async def test_payment_settles_the_debt_and_cancels_the_callback(api: Api) -> None:
    camp = await new_campaign(api)
    debtor = await new_debtor(api, camp["id"], ref="PAY-1", amount_cents=15_000)
    claimed = await add_attempt(
        api, debtor, WEDNESDAY_10H_SP, status=AttemptStatus.CLAIMED, outcome=None, placed=False
    )
    async with api.sessions() as s, s.begin():
        s.add(Callback(debtor_id=debtor.id, due_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)))
    today = dt.date.today().isoformat()

    partial = {"external_ref": "PAY-1", "amount": "50.00", "paid_on": today, "payment_ref": "R1"}
    resp = await api.client.post(P, json=partial, headers=api.sup())
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert (body["debt_paid"], body["debt_status"], body["callbacks_cancelled"]) == (
        False,
        "open",
        0,
    )

    rest = {"external_ref": "PAY-1", "amount": 100, "paid_on": today, "payment_ref": "R2"}
    resp = await api.client.post(P, json=rest, headers=api.sup())
    body = await resp.json()
    assert resp.status == 201
    assert (body["debt_paid"], body["debt_status"]) == (True, "paid")
    assert (body["callbacks_cancelled"], body["attempts_cancelled"]) == (1, 1)
    async with api.sessions() as s:
        debt = await s.scalar(select(Debt).where(Debt.debtor_id == debtor.id))
        assert debt is not None and debt.status is DebtStatus.PAID and debt.paid_at is not None
        cb = await s.scalar(select(Callback).where(Callback.debtor_id == debtor.id))
        assert cb is not None and cb.status is CallbackStatus.CANCELLED
        attempt = await s.get(CallAttempt, claimed)
        assert attempt is not None and attempt.status is AttemptStatus.CANCELED

    # The same payment again changes nothing and says so.
    resp = await api.client.post(P, json=rest, headers=api.sup())
    assert resp.status == 200 and (await resp.json())["duplicate"] is True
    # And the debtor's explain now says why they are not called.
    resp = await api.client.get(
        "/api/v1/debtors/PAY-1/explain",
        params={"at": WEDNESDAY_10H_SP.isoformat()},
        headers=api.sup(),
    )
    assert "debt_not_open" in [r["code"] for r in (await resp.json())["reasons"]]


async def test_a_payment_recorded_by_hand_is_in_the_audit_log(api: Api) -> None:
    camp = await new_campaign(api)
    debtor = await new_debtor(api, camp["id"], ref="PAY-A", amount_cents=15_000)
    pay = {
        "external_ref": "PAY-A",
        "amount": "150.00",
        "paid_on": "2026-11-30",
        "payment_ref": "R9",
    }
    resp = await api.client.post(P, json=pay, headers=api.sup())
    assert resp.status == 201, await resp.text()
    payment_id = (await resp.json())["payment_id"]
    resp = await api.client.post(P, json=pay, headers=api.sup())  # a retry changes nothing
    assert resp.status == 200 and (await resp.json())["duplicate"] is True
    resp = await api.client.get("/api/v1/audit", params={"entity": "payment"}, headers=api.sup())
    assert resp.status == 200, await resp.text()
    entries = (await resp.json())["items"]
    assert [(e["action"], e["username"], e["entity_id"]) for e in entries] == [
        ("create", "sofia", str(payment_id))
    ]
    assert entries[0]["changes"] == {
        "debt_id": [None, debtor.debts[0].id],
        "debtor": [None, "PAY-A"],
        "amount_cents": [None, 15_000],
        "paid_on": [None, "2026-11-30"],
        "payment_ref": [None, "R9"],
        "debt_paid": [None, True],
    }


async def test_payment_by_debt_id(api: Api) -> None:
    camp = await new_campaign(api)
    debtor = await new_debtor(api, camp["id"], amount_cents=1_000)
    ref = f"debt:{debtor.debts[0].id}"
    body = {"external_ref": ref, "amount": "10", "paid_on": "2025-06-01", "payment_ref": "X"}
    resp = await api.client.post(P, json=body, headers=api.sup())
    assert resp.status == 201 and (await resp.json())["debt_paid"] is True


async def test_payment_validation(api: Api) -> None:
    camp = await new_campaign(api)
    await new_debtor(api, camp["id"], ref="V-1")
    future = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    good = {"external_ref": "V-1", "amount": "10.00", "paid_on": "2025-06-01", "payment_ref": "V"}
    cases = [
        ({"external_ref": "NOBODY"}, "external_ref", "no debtor"),
        ({"amount": "-5"}, "amount", "greater than 0"),
        ({"amount": "1.234"}, "amount", "decimal places"),
        ({"paid_on": future}, "paid_on", "future"),
        ({"paid_on": "31/02/2025"}, "paid_on", "date"),
        ({"payment_ref": "  "}, "payment_ref", "blank"),
    ]
    for change, field, reason in cases:
        resp = await api.client.post(P, json={**good, **change}, headers=api.sup())
        assert resp.status == 422, change
        errors = (await resp.json())["errors"]
        assert errors[0]["field"] == field and reason in errors[0]["reason"].lower(), errors
    resp = await api.client.post(
        P, json={k: v for k, v in good.items() if k != "amount"}, headers=api.sup()
    )
    assert [e["field"] for e in (await resp.json())["errors"]] == ["amount"]


async def test_period_kpis(api: Api) -> None:
    """The period KPIs of ``ivr demo`` count with the reports' definitions."""
    from ivr.kpis import campaign_kpis

    camp = await new_campaign(api)
    other = await new_campaign(api)
    d = await new_debtor(api, camp["id"])
    t = WEDNESDAY_10H_SP - dt.timedelta(days=30)
    step = dt.timedelta(hours=5)
    promise_at = await add_attempt(api, d, t, outcome="promise", answered_by="human")
    await add_attempt(api, d, t + step, outcome="right_party")
    await add_attempt(api, d, t + 2 * step, outcome="wrong_party", answered_by="human")
    await add_attempt(api, d, t + 3 * step, outcome="voicemail", answered_by="machine_end_beep")
    await add_attempt(api, d, t + 4 * step, status=AttemptStatus.NO_ANSWER, outcome="no_contact")
    # Claimed and cancelled before dialling: not a call.
    await add_attempt(
        api, d, t + 5 * step, status=AttemptStatus.CANCELED, outcome=None, placed=False
    )
    async with api.sessions() as s, s.begin():
        s.add(
            Promise(
                debt_id=d.debts[0].id,
                attempt_id=promise_at,
                promised_date=dt.date(2025, 5, 20),
                amount_cents=15_000,
                status=PromiseStatus.KEPT,
            )
        )
    o = await new_debtor(api, other["id"], phone="+5511987654329")
    await add_attempt(api, o, t, outcome="promise")

    async with api.sessions() as s:
        one = await campaign_kpis(s, campaign_id=camp["id"], today=dt.date(2026, 12, 1))
        everything = await campaign_kpis(s, today=dt.date(2026, 12, 1))
        later = await campaign_kpis(s, campaign_id=camp["id"], since=t + 2 * step)
    c = one.counts
    assert c.attempts == 5
    assert c.live_contacts == 3  # promise, right_party, wrong_party
    assert c.right_party_contacts == 2
    assert c.promises == 1
    assert (one.contact_rate, one.rpc_rate, one.ptp_rate) == (0.6, 0.4, 0.5)
    assert (c.promises_due, c.promises_kept, one.promise_kept_rate) == (1, 1, 1.0)
    assert everything.counts.attempts == 6 and everything.counts.right_party_contacts == 3
    assert later.counts.attempts == 3 and later.counts.right_party_contacts == 0
    assert later.ptp_rate is None


async def test_a_silent_line_is_not_a_contact(api: Api) -> None:
    """AMD said "human" but nobody spoke (outcome ``no_contact``): not a live contact."""
    from ivr.kpis import campaign_kpis

    camp = await new_campaign(api)
    d = await new_debtor(api, camp["id"])
    t = WEDNESDAY_10H_SP - dt.timedelta(days=3)
    await add_attempt(api, d, t, outcome="no_contact", answered_by="human")
    await add_attempt(api, d, t + dt.timedelta(hours=5), outcome="opt_out", answered_by="human")
    promise_at = await add_attempt(api, d, t + dt.timedelta(hours=10), outcome="promise")
    async with api.sessions() as s, s.begin():
        for cents, status in ((12_345, PromiseStatus.OPEN), (999, PromiseStatus.CANCELLED)):
            s.add(
                Promise(
                    debt_id=d.debts[0].id,
                    attempt_id=promise_at,
                    promised_date=dt.date(2025, 5, 20),
                    amount_cents=cents,
                    status=status,
                )
            )

    async with api.sessions() as s:
        kpis = await campaign_kpis(s, campaign_id=camp["id"])
    counts = kpis.counts
    assert (counts.attempts, counts.live_contacts, kpis.contact_rate) == (3, 2, 0.6667)
    assert kpis.outcomes == {"no_contact": 1, "opt_out": 1, "promise": 1}
    assert kpis.promised_cents == {"BRL": 12_345}
    assert kpis.abandonment_rate is None  # no transfer was asked for


async def test_a_call_from_the_debtor_is_not_a_dialling_attempt(api: Api) -> None:
    """Seen: the debtor's own call to the service counted as one of our attempts
    (and as a contact), flattering the campaign's contact rate."""
    from ivr.kpis import campaign_kpis

    camp = await new_campaign(api)
    d = await new_debtor(api, camp["id"])
    t = WEDNESDAY_10H_SP - dt.timedelta(days=3)
    await add_attempt(api, d, t, outcome="no_contact")
    inbound = await add_attempt(
        api,
        d,
        t + dt.timedelta(hours=5),
        outcome="promise",
        direction=AttemptDirection.INBOUND,
        verified_at=t + dt.timedelta(hours=5, seconds=30),
    )
    async with api.sessions() as s, s.begin():
        s.add(
            Promise(
                debt_id=d.debts[0].id,
                attempt_id=inbound,
                promised_date=dt.date(2025, 5, 20),
                amount_cents=5_000,
            )
        )
    async with api.sessions() as s:
        kpis = await campaign_kpis(s, campaign_id=camp["id"])
    assert (kpis.counts.attempts, kpis.counts.live_contacts, kpis.contact_rate) == (1, 0, 0.0)
    assert kpis.outcomes == {"no_contact": 1}
    assert (kpis.inbound.calls, kpis.inbound.verified, kpis.inbound.promises) == (1, 1, 1)
