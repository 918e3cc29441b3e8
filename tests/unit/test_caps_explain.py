"""``explain``: every reason a debtor cannot be called, one limit at a time and all at once."""

from __future__ import annotations

import datetime as dt

import pytest

from ivr.store.models import (
    AttemptStatus,
    CallAttempt,
    Callback,
    DebtStatus,
    Promise,
)
from scheduler.explain import explain
from scheduler.windows import add_business_days
from tests.support.claims import make_campaign, make_debtor

NOW = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)  # Tuesday 12:00 in São Paulo
PHONE = "+5511987654321"


def attempt(debtor_id: int, at: dt.datetime, **kw) -> CallAttempt:
    kw.setdefault("status", AttemptStatus.COMPLETED)
    kw.setdefault("outcome", "no_contact")
    return CallAttempt(
        debtor_id=debtor_id, to_number=PHONE, local_day=at.date(), claimed_at=at, **kw
    )


async def setup(sessions, camp_kw=None, **debtor_kw):
    async with sessions() as s, s.begin():
        camp = await make_campaign(s, **(camp_kw or {}))
        d = await make_debtor(s, camp, **debtor_kw)
    return camp, d


async def why(sessions, debtor_id: int, now: dt.datetime = NOW):
    async with sessions() as s:
        return await explain(s, debtor_id, now)


async def test_callable_debtor_has_no_reasons(sessions) -> None:
    _, d = await setup(sessions)
    e = await why(sessions, d.id)
    assert e.callable and e.reasons == []
    assert e.to_number == PHONE and e.debt_id == d.debts[0].id
    assert e.local_day == dt.date(2026, 11, 24)


@pytest.mark.parametrize(
    ("now", "code"),
    [
        (dt.datetime(2026, 11, 24, 23, 30, tzinfo=dt.UTC), "outside_window"),  # 20:30 local
        (dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC), "holiday"),  # Black Awareness Day
        (dt.datetime(2026, 7, 9, 15, 0, tzinfo=dt.UTC), "holiday"),  # SP state holiday
    ],
)
async def test_time_reasons(sessions, now: dt.datetime, code: str) -> None:
    _, d = await setup(sessions)
    e = await why(sessions, d.id, now)
    assert not e.callable and e.codes == [code]
    assert e.reasons[0].detail["zones"] == ["America/Sao_Paulo"]
    assert e.wake_at is not None and e.wake_at > now


async def test_blocked_date(sessions) -> None:
    _, d = await setup(sessions, {"blocked_dates": ["2026-11-24"]})
    e = await why(sessions, d.id)
    assert e.codes == ["blocked_date"]
    assert e.wake_at == dt.datetime(2026, 11, 25, 11, 0, tzinfo=dt.UTC)


async def test_each_cap(sessions) -> None:
    _, d = await setup(sessions, {"daily_cap": 2, "weekly_cap": 3, "quiet_days_after_rpc": 2})
    async with sessions() as s, s.begin():
        s.add(attempt(d.id, NOW - dt.timedelta(days=3)))
        s.add(attempt(d.id, NOW - dt.timedelta(hours=2, minutes=30), outcome="right_party"))
        s.add(attempt(d.id, NOW - dt.timedelta(hours=2)))
    e = await why(sessions, d.id)
    assert e.codes == ["daily_cap", "weekly_cap", "min_gap", "quiet_after_contact"]
    by = {r.code: r for r in e.reasons}
    assert by["daily_cap"].detail["count"] == 2
    assert by["weekly_cap"].detail == {"cap": 3, "count": 3}
    assert by["min_gap"].until == NOW + dt.timedelta(hours=2)
    # Not before the quiet days end (and then inside a window).
    assert e.wake_at is not None and e.wake_at >= by["quiet_after_contact"].until


async def test_us_debtor_gets_seven_quiet_days(sessions) -> None:
    _, d = await setup(
        sessions,
        {"country": "US"},
        country="US",
        region="NY",
        timezone="America/New_York",
        phones=["+12125550123"],
    )
    async with sessions() as s, s.begin():
        s.add(attempt(d.id, NOW - dt.timedelta(days=6), outcome="promise"))
    assert (await why(sessions, d.id)).codes == ["quiet_after_contact"]
    assert (await why(sessions, d.id, NOW + dt.timedelta(days=1))).callable


async def test_in_progress(sessions) -> None:
    _, d = await setup(sessions, {"min_gap_minutes": 0})
    async with sessions() as s, s.begin():
        s.add(attempt(d.id, NOW - dt.timedelta(minutes=2), status=AttemptStatus.RINGING))
    assert "in_progress" in (await why(sessions, d.id)).codes


async def test_person_and_debt_reasons(sessions) -> None:
    camp, d = await setup(sessions)
    async with sessions() as s, s.begin():
        debtor = await s.get(type(d), d.id)
        debtor.opted_out_at = NOW - dt.timedelta(days=1)
        debtor.quiet_until = NOW + dt.timedelta(days=1)
        debtor.phones[0].wrong_number_at = NOW - dt.timedelta(days=2)
        debtor.debts[0].status = DebtStatus.DISPUTED
        debtor.debts[0].paused_until = NOW + dt.timedelta(days=1)
        s.add(Promise(debt_id=debtor.debts[0].id, promised_date=NOW.date(), amount_cents=5000))
        s.add(Callback(debtor_id=d.id, due_at=NOW + dt.timedelta(hours=3)))
        (await s.get(type(camp), camp.id)).active = False
    e = await why(sessions, d.id)
    assert not e.callable
    assert set(e.codes) == {
        "opted_out",
        "debtor_quiet",
        "no_valid_phone",
        "callback_scheduled",
        "debt_not_open",
        "campaign_paused",
        "paid_pause",
        "open_promise",
    }
    for r in e.reasons:
        assert r.message


async def test_open_promise_until_the_day_after(sessions) -> None:
    _, d = await setup(sessions)
    async with sessions() as s, s.begin():
        s.add(Promise(debt_id=d.debts[0].id, promised_date=dt.date(2026, 11, 26), amount_cents=1))
    e = await why(sessions, d.id)
    assert e.codes == ["open_promise"]
    # Clears at midnight after the promised date, local time; then the window opens at 08:00.
    assert e.reasons[0].until == dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)
    assert e.wake_at == dt.datetime(2026, 11, 27, 11, 0, tzinfo=dt.UTC)
    assert (await why(sessions, d.id, e.wake_at)).callable


async def test_no_campaign(sessions) -> None:
    async with sessions() as s, s.begin():
        d = await make_debtor(s, None)
    assert (await why(sessions, d.id)).codes == ["no_campaign"]


async def test_unknown_debtor(sessions) -> None:
    async with sessions() as s:
        with pytest.raises(LookupError):
            await explain(s, 999, NOW)


def test_paid_pause_counts_business_days() -> None:
    # Said on Thursday 2026-11-19; Friday the 20th is a holiday, then the weekend:
    # two business days are Mon 23 and Tue 24; calls may resume Wednesday.
    said = dt.datetime(2026, 11, 19, 15, 0, tzinfo=dt.UTC)
    until = add_business_days(said, 2, "America/Sao_Paulo", "BR", "SP")
    assert until == dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
