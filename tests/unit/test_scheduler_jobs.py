"""Promise follow-up, retention purge, payments (record and CSV import), the running scheduler."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.config import Settings
from ivr.store.models import (
    AttemptStatus,
    CallAttempt,
    Callback,
    CallbackStatus,
    CallEvent,
    Debt,
    Debtor,
    DebtStatus,
    Payment,
    Promise,
    PromiseStatus,
)
from ivr.vocab.recordings import RecordingStatus
from scheduler.claim import claim_batch
from scheduler.explain import explain
from scheduler.jobs import follow_up_promises, purge_personal_data, purge_recordings
from scheduler.payments import (
    PaymentRejected,
    import_payments_csv,
    parse_amount,
    record_payment,
)
from scheduler.planner import Scheduler
from tests.support.claims import RecordingCarrier, make_campaign, make_debtor

T0 = dt.datetime(2026, 11, 24, 13, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in São Paulo


async def debtor_with_promise(sessions, promised: dt.date, amount: int = 5000):
    async with sessions() as s, s.begin():
        camp = await make_campaign(s)
        d = await make_debtor(s, camp, amount_cents=10_000, ref="P-1")
        p = Promise(debt_id=d.debts[0].id, promised_date=promised, amount_cents=amount)
        s.add(p)
        await s.flush()
        return d.id, d.debts[0].id, p.id


async def get(sessions, cls, id_):
    async with sessions() as s:
        return await s.get(cls, id_)


async def test_promise_broken_the_day_after_then_callable_after_the_followup_wait(
    sessions,
) -> None:
    debtor_id, _debt_id, pid = await debtor_with_promise(sessions, dt.date(2026, 11, 24))
    assert await claim_batch(sessions, T0, 10, "w") == []  # promise not yet due
    # 23:30 local on the promised date: still the promised day.
    late = dt.datetime(2026, 11, 25, 2, 30, tzinfo=dt.UTC)
    assert await follow_up_promises(sessions, late) == {"kept": 0, "broken": 0}
    nextday = dt.datetime(2026, 11, 25, 11, 0, tzinfo=dt.UTC)  # 08:00 local on the 25th
    assert await follow_up_promises(sessions, nextday) == {"kept": 0, "broken": 1}
    assert (await get(sessions, Promise, pid)).status is PromiseStatus.BROKEN
    assert (await get(sessions, Debtor, debtor_id)).next_attempt_at is None
    # The campaign's follow-up wait (2 days by default) after the day it broke.
    assert await claim_batch(sessions, nextday, 10, "w") == []
    async with sessions() as s:
        why = await explain(s, debtor_id, nextday)
    assert why.codes == ["broken_promise_followup"]
    assert why.reasons[0].detail["callable_from"] == "2026-11-27"
    friday = dt.datetime(2026, 11, 27, 11, 0, tzinfo=dt.UTC)
    assert [c.debtor_id for c in await claim_batch(sessions, friday, 10, "w")] == [debtor_id]


async def test_promise_kept_by_payment_on_time(sessions) -> None:
    _debtor_id, debt_id, pid = await debtor_with_promise(sessions, dt.date(2026, 11, 24))
    async with sessions() as s, s.begin():
        r = await record_payment(
            s, debt_id=debt_id, amount_cents=5000, paid_on=dt.date(2026, 11, 24), payment_ref="X1"
        )
    assert r.promises_kept == 1 and not r.debt_paid  # half paid: the debt stays open
    assert (await get(sessions, Promise, pid)).status is PromiseStatus.KEPT
    assert (await get(sessions, Debt, debt_id)).status is DebtStatus.OPEN


async def test_payment_settles_debt_and_stops_calls_at_once(sessions) -> None:
    debtor_id, debt_id, pid = await debtor_with_promise(sessions, dt.date(2026, 11, 20))
    async with sessions() as s, s.begin():
        s.add(Callback(debtor_id=debtor_id, debt_id=debt_id, due_at=T0 + dt.timedelta(days=1)))
        s.add(
            CallAttempt(
                debtor_id=debtor_id,
                debt_id=debt_id,
                to_number="+5511987654321",
                local_day=T0.date(),
                claimed_at=T0,
            )
        )
    async with sessions() as s, s.begin():
        r = await record_payment(
            s,
            debt_id=debt_id,
            amount_cents=10_000,
            paid_on=dt.date(2026, 11, 23),
            payment_ref="X2",
            now=T0,
        )
    assert r.debt_paid and r.callbacks_cancelled == 1 and r.attempts_cancelled == 1
    assert r.promises_broken == 1  # paid, but after the promised date
    assert (await get(sessions, Promise, pid)).status is PromiseStatus.BROKEN
    async with sessions() as s:
        assert (await s.scalar(select(Callback.status))) is CallbackStatus.CANCELLED
        assert (await s.scalar(select(CallAttempt.status))) is AttemptStatus.CANCELED
        debt = await s.get(Debt, debt_id)
        assert debt.status is DebtStatus.PAID and debt.paid_at == T0
    # Idempotent on the payment reference.
    async with sessions() as s, s.begin():
        again = await record_payment(
            s, debt_id=debt_id, amount_cents=10_000, paid_on=dt.date(2026, 11, 23), payment_ref="X2"
        )
    assert again.duplicate
    assert await claim_batch(sessions, T0 + dt.timedelta(hours=1), 10, "w") == []


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1234.56", 123456),
        ("1.234,56", 123456),
        ("R$ 99,90", 9990),
        ("$1,234.5", 123450),
        ("1.234", 123400),
        ("100", 10000),
    ],
)
def test_parse_amount(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "-5", "0,00"])
def test_parse_amount_rejects(text: str) -> None:
    with pytest.raises(PaymentRejected):
        parse_amount(text)


async def test_import_payments_csv_reports_bad_rows_and_lands_good_ones(
    sessions, tmp_path: Path
) -> None:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s)
        a = await make_debtor(s, camp, ref="A-1", amount_cents=9990)
        await make_debtor(s, camp, ref="B-2", amount_cents=50_000)
        a_debt = a.debts[0].id
    csv_file = tmp_path / "pay.csv"
    csv_file.write_text(
        "external_ref,amount,paid_on,payment_ref\n"
        'A-1,"99,90",2026-11-20,P1\n'  # line 2: pays A-1 in full
        "B-2,100.00,20/11/2026,P2\n"  # line 3: partial
        "NOPE,10.00,2026-11-20,P3\n"  # line 4: unknown debtor
        "B-2,abc,2026-11-20,P4\n"  # line 5: bad amount
        "B-2,10.00,2099-01-01,P5\n"  # line 6: future
        "A-1,99.90,2026-11-20,P1\n"  # line 7: the same payment again
        f"debt:{a_debt},1.00,2026-11-21,\n",  # line 8: no payment_ref
        encoding="utf-8",
    )
    report = await import_payments_csv(sessions, csv_file, now=T0)
    assert report.imported == 2 and report.duplicates == 1 and report.debts_paid == 1
    assert [(e.line, e.reason.split()[0]) for e in report.errors] == [
        (4, "no"),
        (5, "amount"),
        (6, "paid_on"),
        (8, "payment_ref"),
    ]
    async with sessions() as s:
        refs = sorted((await s.scalars(select(Payment.external_ref))).all())
    assert refs == ["P1", "P2"]


async def test_import_rejects_missing_columns(sessions, tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("ref,amount\nA,1\n", encoding="utf-8")
    report = await import_payments_csv(sessions, f)
    assert report.imported == 0 and report.errors[0].line == 1


async def test_retention_purge(sessions) -> None:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s)
        d = await make_debtor(s, camp)
        att = CallAttempt(
            debtor_id=d.id,
            to_number="+5511987654321",
            local_day=T0.date(),
            claimed_at=T0,
            status=AttemptStatus.COMPLETED,
        )
        s.add(att)
        await s.flush()
        old = T0 - dt.timedelta(days=91)
        s.add_all(
            [
                CallEvent(attempt_id=att.id, kind="transcript", at=old, data={"text": "oi"}),
                CallEvent(attempt_id=att.id, kind="speech", at=T0, data={"text": "sim"}),
                CallEvent(attempt_id=att.id, kind="status", at=old, data={}),
            ]
        )
    assert await purge_personal_data(sessions, T0, 90) == 1
    async with sessions() as s:
        kinds = sorted((await s.scalars(select(CallEvent.kind))).all())
    assert kinds == ["speech", "status"]


async def test_recordings_are_deleted_at_the_carrier_before_the_store_says_so(sessions) -> None:
    """Only recordings past the retention period; marked deleted only once the carrier
    confirmed; a carrier failure leaves the recording as it was for the next run."""
    async with sessions() as s, s.begin():
        camp = await make_campaign(s)
        d = await make_debtor(s, camp)
        rows = {}
        for name, started in (("old", T0 - dt.timedelta(days=91)), ("new", T0)):
            att = CallAttempt(
                debtor_id=d.id,
                to_number="+5511987654321",
                local_day=T0.date(),
                claimed_at=started,
                status=AttemptStatus.COMPLETED,
                recording_requested=True,
                recording_sid=f"RE{name:0>32}",
                recording_status=RecordingStatus.COMPLETED,
                recording_duration_s=30,
                recording_url=f"https://api.twilio.com/r/RE{name:0>32}",
                recording_started_at=started,
            )
            s.add(att)
            await s.flush()
            rows[name] = att.id
    asked: list[str] = []

    async def carrier_down(sid: str) -> None:
        asked.append(sid)
        raise RuntimeError("carrier answered 503")

    assert await purge_recordings(sessions, carrier_down, T0, 90) == 0
    assert asked == ["RE" + "old".rjust(32, "0")]
    kept = await get(sessions, CallAttempt, rows["old"])
    assert kept.recording_deleted_at is None and kept.recording_url is not None

    async def carrier_up(sid: str) -> None:
        asked.append(sid)

    assert await purge_recordings(sessions, carrier_up, T0, 90) == 1
    gone = await get(sessions, CallAttempt, rows["old"])
    assert gone.recording_status is RecordingStatus.DELETED
    assert gone.recording_deleted_at == T0 and gone.recording_url is None
    assert gone.recording_sid == "RE" + "old".rjust(32, "0")
    fresh = await get(sessions, CallAttempt, rows["new"])
    assert fresh.recording_deleted_at is None
    assert await purge_recordings(sessions, carrier_up, T0, 90) == 0
    assert len(asked) == 2  # never asked again for a deleted one


async def test_scheduler_runs_its_jobs_and_stops(sessions) -> None:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s)
        await make_debtor(s, camp)
    settings = Settings(scheduler_tick_seconds=0.2, account_cps=50)
    carrier = RecordingCarrier()
    sched = Scheduler(settings, sessions, carrier, clock=lambda: T0, worker_id="t")
    await sched.start()
    try:
        for _ in range(100):
            if carrier.calls:
                break
            await asyncio.sleep(0.05)
    finally:
        await sched.stop()
    assert len(carrier.calls) == 1
    async with sessions() as s:
        a = (await s.scalars(select(CallAttempt))).one()
    assert a.status is AttemptStatus.QUEUED and a.claimed_by == "t"
