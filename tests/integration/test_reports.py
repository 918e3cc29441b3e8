"""Collection reports over a real database: the KPI definitions on a crafted
day, the roll-ups against a recount from scratch, and the reports API."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select

from ivr.reports.kpis import compute_counts
from ivr.reports.rollups import refresh
from ivr.store.call_attempts import record_transfer, set_outcome
from ivr.store.models import (
    AttemptStatus,
    CallAttempt,
    CallEvent,
    DailyCampaignStats,
    Debtor,
    Promise,
    PromiseStatus,
    Transfer,
    TransferStatus,
    utcnow,
)
from ivr.store.queries import StatusUpdate, apply_status, record_plan, record_promise
from scheduler.jobs import follow_up_promises
from scheduler.payments import record_payment
from tests.support.api import Api, add_attempt, new_campaign, new_debtor

R = "/api/v1/reports"
COLUMNS = [c.name for c in DailyCampaignStats.__table__.columns]


def _at(days_ago: int, hour: int = 13) -> dt.datetime:
    day = utcnow().date() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(hour), dt.UTC)


async def _transfer(api: Api, attempt_id: int, status: TransferStatus, **fields: object) -> None:
    async with api.sessions() as s, s.begin():
        s.add(Transfer(attempt_id=attempt_id, reason="asked", status=status, **fields))


async def _crafted_day(api: Api) -> tuple[int, Debtor]:
    """Yesterday of one campaign, every kind of call once; another campaign beside it."""
    camp = await new_campaign(api)
    d = await new_debtor(api, camp["id"], amount_cents=100_000)
    t = _at(1)
    step = dt.timedelta(minutes=30)
    promise_at = await add_attempt(api, d, t, outcome="promise", answered_by="human")
    await add_attempt(api, d, t + step, outcome="right_party")
    await add_attempt(api, d, t + 2 * step, outcome="wrong_party", answered_by="human")
    await add_attempt(api, d, t + 3 * step, outcome="voicemail", answered_by="machine_end_beep")
    # A machine the dialog took for a person: still not a contact.
    await add_attempt(api, d, t + 4 * step, outcome="opt_out", answered_by="machine_start")
    # A silent call: answered (detection guessed human), nobody spoke.
    await add_attempt(api, d, t + 5 * step, outcome="no_contact", answered_by="human")
    await add_attempt(api, d, t + 6 * step, status=AttemptStatus.NO_ANSWER, outcome="no_contact")
    plan_at = await add_attempt(api, d, t + 7 * step, outcome="agent", answered_by="human")
    # Claimed and cancelled before dialling: not a call.
    await add_attempt(
        api, d, t + 8 * step, status=AttemptStatus.CANCELED, outcome=None, placed=False
    )
    yesterday = t.date()
    async with api.sessions() as s, s.begin():
        a = await s.get(CallAttempt, promise_at)
        assert a is not None
        p = await record_promise(s, a, yesterday, 30_000)
        p.status = PromiseStatus.KEPT
        b = await s.get(CallAttempt, plan_at)
        assert b is not None
        await record_plan(s, b, [(yesterday, 10_000), (yesterday + dt.timedelta(days=30), 10_000)])
        await record_payment(
            s, debt_id=d.debts[0].id, amount_cents=25_000, paid_on=yesterday, payment_ref="P1"
        )
    answered = t + 7 * step + dt.timedelta(seconds=40)
    await _transfer(
        api,
        plan_at,
        TransferStatus.COMPLETED,
        requested_at=answered - dt.timedelta(seconds=20),
        answered_at=answered,
        ended_at=answered + dt.timedelta(seconds=200),
        queue_wait_s=20.0,
    )
    async with api.sessions() as s, s.begin():
        s.add(
            CallEvent(
                attempt_id=plan_at,
                kind="agent_wrapup",
                at=answered + dt.timedelta(seconds=230),
                data={},
            )
        )
    await _transfer(api, promise_at, TransferStatus.ABANDONED, requested_at=t)
    other = await new_campaign(api)
    o = await new_debtor(api, other["id"], phone="+5511987654329")
    await add_attempt(api, o, t, outcome="promise", answered_by="human")
    return camp["id"], d


async def test_kpi_definitions_on_a_crafted_day(api: Api) -> None:
    campaign_id, _ = await _crafted_day(api)
    async with api.sessions() as s, s.begin():
        await refresh(s, utcnow())
    yesterday = _at(1).date()
    resp = await api.client.get(
        f"{R}/campaigns/{campaign_id}",
        params={"from": yesterday.isoformat(), "to": yesterday.isoformat()},
        headers=api.sup(),
    )
    body = await resp.json()
    assert resp.status == 200, body
    day = body["days"][0]
    assert day["day"] == yesterday.isoformat() and body["from"] == yesterday.isoformat()
    assert day["attempts"] == 8
    # promise, right_party, wrong_party, agent; not the voicemail, the machine
    # that said words, the silent call or the unanswered one.
    assert day["contacts"] == 4 and day["contact_rate"] == 0.5
    assert day["rpcs"] == 3 and day["rpc_rate"] == 0.375  # promise, right_party, agent
    assert day["promises"] == 2  # the single promise and the plan (once)
    assert day["promised_cents"] == 50_000 and day["promise_rate"] == round(2 / 3, 4)
    # Falling due yesterday: the promise (kept) and the plan's first instalment.
    assert (day["promises_falling_due"], day["promises_due"], day["promises_kept"]) == (2, 2, 1)
    assert day["kept_rate"] == 0.5
    assert day["collected_cents"] == 25_000
    assert day["transfers"] == 2 and day["abandoned"] == 1 and day["abandonment_rate"] == 0.5
    assert day["handled"] == 1
    assert (day["talk_s"], day["hold_s"], day["wrap_s"]) == (200.0, 20.0, 30.0)
    assert day["aht_s"] == 250.0
    # Liquidation: collected over the campaign's assigned debt (100,000 today):
    # the debt was assigned after yesterday, so yesterday has nothing to divide by.
    assert day["liquidation"] is None
    assert body["totals"]["attempts"] == 8

    summary = await (
        await api.client.get(f"{R}/summary", params={"day": str(yesterday)}, headers=api.sup())
    ).json()
    assert [c["attempts"] for c in summary["campaigns"]][-2:] == [8, 1]
    assert summary["totals"]["attempts"] == 9 and summary["totals"]["contacts"] == 5
    today = await (await api.client.get(f"{R}/summary", headers=api.sup())).json()
    assert today["totals"]["assigned_cents"] == 100_000 + 15_000
    assert today["totals"]["liquidation"] == 0.0  # nothing collected today
    # Over yesterday and today: collected / assigned up to the range's last day.
    both = await (
        await api.client.get(
            f"{R}/campaigns/{campaign_id}", params={"from": str(yesterday)}, headers=api.sup()
        )
    ).json()
    assert len(both["days"]) == 2 and both["totals"]["liquidation"] == 0.25
    assert both["totals"]["contact_rate"] == 0.5 and both["totals"]["kept_rate"] == 0.5


async def _recount_matches(api: Api) -> int:
    async with api.sessions() as s:
        stored = {
            (r.campaign_id, r.local_day): {k: getattr(r, k) for k in COLUMNS}
            for r in await s.scalars(select(DailyCampaignStats))
        }
        recount = await compute_counts(s, dt.date(2000, 1, 1), dt.date(2099, 1, 1))
    expected = {k: c.as_dict() for k, c in recount.items() if not c.is_empty()}
    got = {
        k: {f: round(v, 3) if isinstance(v, float) else v for f, v in row.items()}
        for k, row in stored.items()
    }
    for row in got.values():
        for f in ("campaign_id", "local_day", "refreshed_at"):
            row.pop(f)
    want = {
        k: {f: round(v, 3) if isinstance(v, float) else v for f, v in row.items()}
        for k, row in expected.items()
    }
    assert got == want
    return len(got)


async def test_rollups_equal_a_recount_after_a_mixed_scenario(api: Api) -> None:
    """Calls, callbacks twice, outcomes changing, promises, a plan replacing
    them, a payment dated long ago, the promise follow-up: refreshed as the job
    would, the stored rows always equal a recount from scratch."""
    camp = await new_campaign(api)
    d = await new_debtor(api, camp["id"], amount_cents=60_000)
    e = await new_debtor(api, camp["id"], phone="+5511987654322")
    # History from before the job ever ran: its first run counts all of it.
    await add_attempt(api, e, _at(30), outcome="right_party", answered_by="human")
    async with api.sessions() as s, s.begin():
        await refresh(s, utcnow())
        assert (await s.get(DailyCampaignStats, (camp["id"], _at(30).date()))) is not None
    first = await add_attempt(
        api, d, _at(0, 12), status=AttemptStatus.RINGING, outcome=None, duration_s=None
    )
    for status, seq in (("in-progress", 2), ("completed", 3), ("completed", 3)):
        async with api.sessions() as s, s.begin():
            await apply_status(s, first, StatusUpdate("CA1", status, seq, 30, "human"))
    async with api.sessions() as s, s.begin():
        await set_outcome(s, first, "right_party")
        a = await s.get(CallAttempt, first)
        assert a is not None
        await record_promise(s, a, _at(-3).date(), 20_000)
    async with api.sessions() as s, s.begin():
        await refresh(s, utcnow())
    assert await _recount_matches(api) >= 1

    # A plan later replaces the promise; another call goes to an agent.
    second = await add_attempt(api, e, _at(0, 14), outcome="right_party", answered_by="human")
    async with api.sessions() as s, s.begin():
        await set_outcome(s, first, "promise")
        a = await s.get(CallAttempt, first)
        assert a is not None
        await record_plan(s, a, [(_at(2).date(), 5_000), (_at(-20).date(), 5_000)])
        await record_transfer(s, second, "asked", True)
    await _transfer(api, second, TransferStatus.QUEUED, requested_at=_at(0, 14))
    # A payment imported today but dated 40 days ago: outside the look-back window.
    async with api.sessions() as s, s.begin():
        await record_payment(
            s, debt_id=e.debts[0].id, amount_cents=7_000, paid_on=_at(40).date(), payment_ref="OLD"
        )
    await follow_up_promises(api.sessions, utcnow())
    async with api.sessions() as s, s.begin():
        report = await refresh(s, utcnow())
        # The callback applied twice counted the call once.
        row = await s.get(DailyCampaignStats, (camp["id"], _at(0).date()))
        assert row is not None and row.attempts == 2 and row.contacts == 2
        broken = await s.scalar(
            select(Promise.status).where(Promise.promised_date == _at(2).date())
        )
    assert broken is PromiseStatus.BROKEN
    assert report.late_keys >= 1
    n = await _recount_matches(api)
    assert n >= 3
    async with api.sessions() as s:
        old = await s.get(DailyCampaignStats, (camp["id"], _at(40).date()))
    assert old is not None and old.collected_cents == 7_000
    # Another run with nothing new changes nothing.
    async with api.sessions() as s, s.begin():
        await refresh(s, utcnow())
    assert await _recount_matches(api) == n


async def test_report_ranges_roles_and_csv_injection(api: Api) -> None:
    camp = await new_campaign(api, name='=HYPERLINK("http://x","y")')
    d = await new_debtor(api, camp["id"])
    await add_attempt(api, d, _at(2), outcome="right_party", answered_by="human")
    async with api.sessions() as s, s.begin():
        await refresh(s, utcnow())
    url = f"{R}/campaigns/{camp['id']}"
    cases = [
        ({"from": "2026-03-10", "to": "2026-03-01"}, "to", "before"),
        ({"from": "2024-01-01", "to": "2025-01-01"}, "to", "366"),
        ({"from": "2026-02-30"}, "from", "date"),
        ({"to": "9999-12-31"}, "to", "between"),
        ({"format": "xlsx"}, "format", "csv"),
        ({"since": "2026-01-01"}, "since", "extra"),
    ]
    for params, field, reason in cases:
        resp = await api.client.get(url, params=params, headers=api.sup())
        assert resp.status == 422, params
        error = (await resp.json())["errors"][0]
        assert error["field"] == field and reason in error["reason"].lower(), error
    resp = await api.client.get(f"{R}/summary", params={"day": "yesterday"}, headers=api.sup())
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "day"
    resp = await api.client.get(f"{R}/campaigns/999999", headers=api.sup())
    assert resp.status == 404
    ok = await api.client.get(
        url, params={"from": "2025-01-01", "to": "2025-12-31"}, headers=api.sup()
    )
    assert ok.status == 200 and len((await ok.json())["days"]) == 365
    for path in (url, f"{R}/summary"):
        assert (await api.client.get(path, headers=api.agent())).status == 403
        assert (await api.client.get(path)).status == 401

    resp = await api.client.get(url, params={"format": "csv"}, headers=api.sup())
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert len(rows) == 31 and rows[-1]["campaign_name"] == "total"
    assert {r["campaign_name"] for r in rows[:-1]} == {'\'=HYPERLINK("http://x","y")'}
    assert sum(int(r["attempts"]) for r in rows[:-1]) == int(rows[-1]["attempts"]) == 1
    resp = await api.client.get(
        f"{R}/summary", params={"format": "csv", "day": str(_at(2).date())}, headers=api.sup()
    )
    text = await resp.text()
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
