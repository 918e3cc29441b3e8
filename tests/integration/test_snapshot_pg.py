"""PostgreSQL's one-statement snapshot load reads exactly what the portable loader reads.

The claim on PostgreSQL loads a batch through ``scheduler.eligibility_load_pg``;
SQLite (and this test, on PostgreSQL) through the portable queries. Every
kind of row the rules read is here in its edge cases (numbers opted out, on
two do-not-call lists, wrong; debts without a campaign, paused; attempts
inside and outside the look-back, live, inbound and verified; promises open,
broken recently and long ago, in plans that broke or were paid; callbacks
pending and done), and both loaders must give equal snapshots.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ivr.store.db import make_engine, make_sessionmaker
from ivr.store.models import (
    AttemptStatus,
    CallAttempt,
    Callback,
    CallbackStatus,
    CallWindow,
    Debt,
    DebtStatus,
    DncNumber,
    NumberOptOut,
    PaymentPlan,
    Phone,
    PlanSource,
    PlanStatus,
    Promise,
    PromiseStatus,
)
from ivr.vocab.attempts import AttemptDirection
from scheduler.batch_sql import lock_batch
from scheduler.eligibility_load import load_campaign_rules, load_snapshots_portable
from scheduler.eligibility_load_pg import load_snapshots_pg
from scheduler.snapshot import DebtorSnapshot
from tests.support.claims import make_campaign, make_debtor

pytestmark = pytest.mark.postgres

NOW = dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


def ordered(snap: DebtorSnapshot) -> DebtorSnapshot:
    """The portable loader leaves attempts, promises and callbacks in the
    database's order; the rules read them as sets."""
    snap.attempts.sort(key=lambda a: (a.claimed_at, a.attempt_id or 0))
    snap.promises.sort(key=lambda p: p.id)
    snap.callbacks.sort(key=lambda c: c.id)
    return snap


@pytest.mark.parametrize("quiet_days", [0, 12])
async def test_pg_snapshots_equal_the_portable_ones(pg_url: str, quiet_days: int) -> None:
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s, s.begin():
            camp = await make_campaign(s, quiet_days_after_rpc=quiet_days)
            other = await make_campaign(s, active=False, followup_after_broken_days=5)
            rich = await make_debtor(
                s, camp, phones=("+5511987654321", "+5521987654321", "+5592987654321")
            )
            plain = await make_debtor(
                s, camp, phones=("+5511912345678",), timezone=None, region=None
            )
            bare = await make_debtor(s, None, phones=())
            await s.flush()
            phones = {p.e164: p for p in rich.phones}
            phones["+5592987654321"].wrong_number_at = NOW - 3 * D
            s.add(NumberOptOut(e164="+5521987654321", created_at=NOW - 2 * D))
            for name, e164 in [
                ("procon", "+5511987654321"),
                ("nao-me-ligue", "+5511987654321"),
                ("procon", plain.phones[0].e164),
            ]:
                s.add(DncNumber(list_name=name, e164=e164, source="t", added_by="t"))
            extra = Debt(
                debtor_id=rich.id,
                campaign_id=other.id,
                creditor="Outra",
                amount_cents=500,
                due_date=dt.date(2026, 3, 1),
                status=DebtStatus.OPEN,
                paused_until=NOW + 2 * D,
            )
            closed = Debt(
                debtor_id=plain.id,
                creditor="Paga",
                amount_cents=700,
                due_date=dt.date(2026, 2, 1),
                status=DebtStatus.PAID,
            )
            s.add_all([extra, closed])
            await s.flush()
            main_debt = rich.debts[0]
            p1 = phones["+5511987654321"]
            for ago, status, direction, outcome, verified in [
                (1 * H, AttemptStatus.COMPLETED, AttemptDirection.OUTBOUND, "no_contact", None),
                (30 * H, AttemptStatus.BUSY, AttemptDirection.OUTBOUND, None, None),
                (6 * D, AttemptStatus.COMPLETED, AttemptDirection.OUTBOUND, "promise", None),
                (10 * D, AttemptStatus.COMPLETED, AttemptDirection.OUTBOUND, "promise", None),
                (20 * D, AttemptStatus.NO_ANSWER, AttemptDirection.OUTBOUND, None, None),
                (2 * H, AttemptStatus.COMPLETED, AttemptDirection.INBOUND, None, NOW - H),
                (40 * D, AttemptStatus.UNKNOWN, AttemptDirection.OUTBOUND, None, None),
            ]:
                s.add(
                    CallAttempt(
                        debtor_id=rich.id,
                        debt_id=main_debt.id,
                        phone_id=p1.id,
                        campaign_id=camp.id,
                        to_number=p1.e164,
                        direction=direction,
                        status=status,
                        outcome=outcome,
                        local_day=(NOW - ago).date(),
                        claimed_at=NOW - ago,
                        ended_at=None if status == AttemptStatus.UNKNOWN else NOW - ago + H,
                        verified_at=verified,
                    )
                )
            # Ended long after it was claimed: inside the look-back by its end.
            s.add(
                CallAttempt(
                    debtor_id=plain.id,
                    to_number=plain.phones[0].e164,
                    status=AttemptStatus.COMPLETED,
                    local_day=(NOW - 9 * D).date(),
                    claimed_at=NOW - 9 * D,
                    ended_at=NOW - 7 * D,
                )
            )
            # Either side of the 8-day look-back (quiet days 0; 12 takes both).
            for ago in (8 * D - dt.timedelta(minutes=1), 8 * D + dt.timedelta(minutes=1)):
                s.add(
                    CallAttempt(
                        debtor_id=plain.id,
                        to_number=plain.phones[0].e164,
                        status=AttemptStatus.NO_ANSWER,
                        local_day=(NOW - ago).date(),
                        claimed_at=NOW - ago,
                        ended_at=NOW - ago,
                    )
                )
            ivr = PlanSource.IVR
            broken_plan = PaymentPlan(debt_id=main_debt.id, source=ivr, status=PlanStatus.BROKEN)
            kept_plan = PaymentPlan(debt_id=extra.id, source=ivr, status=PlanStatus.COMPLETED)
            s.add_all([broken_plan, kept_plan])
            await s.flush()
            for debt, days, status, plan in [
                (main_debt, 5, PromiseStatus.OPEN, None),
                (main_debt, -1, PromiseStatus.BROKEN, None),
                (main_debt, -4, PromiseStatus.BROKEN, None),
                (main_debt, -30, PromiseStatus.BROKEN, None),
                (main_debt, 10, PromiseStatus.OPEN, broken_plan),
                (main_debt, -2, PromiseStatus.BROKEN, broken_plan),
                (extra, -2, PromiseStatus.BROKEN, kept_plan),
                (extra, -6, PromiseStatus.BROKEN, None),
                # Either side of the follow-up look-back: today - (5 + 2) days.
                (extra, -7, PromiseStatus.BROKEN, None),
                (extra, -8, PromiseStatus.BROKEN, None),
                (extra, -3, PromiseStatus.KEPT, None),
            ]:
                s.add(
                    Promise(
                        debt_id=debt.id,
                        promised_date=NOW.date() + dt.timedelta(days=days),
                        amount_cents=100,
                        status=status,
                        plan_id=plan.id if plan else None,
                    )
                )
            for due, status in [
                (NOW + 2 * H, CallbackStatus.PENDING),
                (NOW - H, CallbackStatus.PENDING),
                (NOW - 2 * H, CallbackStatus.DONE),
            ]:
                s.add(Callback(debtor_id=rich.id, debt_id=main_debt.id, due_at=due, status=status))
            s.add(Phone(debtor_id=plain.id, e164="+5531987654321", position=0))
            ids = [rich.id, plain.id, bare.id, 999_999]

        async with sessions() as s, s.begin():
            fast = await load_snapshots_pg(s, ids, NOW)
            portable, _campaigns = await load_snapshots_portable(s, ids, NOW)
            # The claim's way: the people's own columns come from its lock.
            locked = await lock_batch(s, NOW, 10)
            known = [i for i in ids if i in locked.people]
            from_lock = await load_snapshots_pg(s, known, NOW, locked.people)
    finally:
        await engine.dispose()

    assert set(fast) == set(portable) == set(from_lock) == {rich.id, plain.id, bare.id}
    for debtor_id in fast:
        assert ordered(fast[debtor_id]) == ordered(portable[debtor_id]), debtor_id
        assert ordered(from_lock[debtor_id]) == ordered(portable[debtor_id]), debtor_id
    got = fast[rich.id]
    # The test reaches what it means to: every kind of row is there.
    assert [p.dnc_lists for p in got.phones] == [("nao-me-ligue", "procon"), (), ()]
    assert got.phones[1].opted_out_at == NOW - 2 * D
    assert len(got.debts) == 2 and len(got.callbacks) == 2
    assert {a.status for a in got.attempts} >= {"unknown", "busy"}
    assert len(got.attempts) == (6 if quiet_days > 9 else 5)
    assert len(got.promises) == 7
    assert len(fast[plain.id].attempts) == (3 if quiet_days > 9 else 2)


async def test_pg_campaign_rules_read_every_column(pg_url: str) -> None:
    """The rules statement reads the JSON lists and the windows as the ORM wrote them."""
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s, s.begin():
            camp = await make_campaign(
                s,
                [
                    CallWindow(weekday=1, start=dt.time(9), end=dt.time(12)),
                    CallWindow(weekday=1, start=dt.time(14), end=dt.time(18)),
                ],
                blocked_dates=["2026-12-25", "not a date"],
                retry_delays_minutes=[30, 120],
                country="us",
                daily_cap=3,
                max_concurrent_calls=7,
                inbound_suppresses_today=False,
            )
            bare = await make_campaign(s)
            ids = [camp.id, bare.id]
        async with sessions() as s, s.begin():
            rules = await load_campaign_rules(s, ids)
    finally:
        await engine.dispose()
    got = rules[ids[0]]
    assert got.blocked == frozenset({dt.date(2026, 12, 25)})
    assert got.policy.retry_delays == (dt.timedelta(minutes=30), dt.timedelta(minutes=120))
    assert [(w.weekday, w.start, w.end) for w in got.windows] == [
        (1, dt.time(9), dt.time(12)),
        (1, dt.time(14), dt.time(18)),
    ]
    assert (got.country, got.policy.daily_cap, got.max_concurrent) == ("US", 3, 7)
    assert got.inbound_suppresses_today is False
    assert rules[ids[1]].windows == () and rules[ids[1]].blocked == frozenset()
