"""The dialer: retries on the same attempt, never twice after a timeout, re-checks, pacing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from ivr.store.models import AttemptStatus, CallAttempt, Debt, Debtor
from scheduler.claim import claim_batch
from scheduler.dialer import Dialer, TokenBucket
from tests.support.claims import RecordingCarrier, make_campaign, make_debtor

T0 = dt.datetime(2026, 11, 24, 13, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in São Paulo


async def no_sleep(_: float) -> None:
    return None


async def one_claim(sessions, **camp):
    async with sessions() as s, s.begin():
        c = await make_campaign(s, **camp)
        await make_debtor(s, c)
    claims = await claim_batch(sessions, T0, 10, "w")
    assert len(claims) == 1
    return claims[0]


def dialer(sessions, carrier, now=T0, **kw) -> Dialer:
    clock = now if callable(now) else (lambda: now)
    return Dialer(
        sessions, carrier, clock=clock, sleep=no_sleep, bucket=TokenBucket(1e9, 1e9), **kw
    )


async def attempt_row(sessions, attempt_id: int) -> CallAttempt:
    async with sessions() as s:
        a = await s.get(CallAttempt, attempt_id)
        assert a is not None
        return a


async def count_attempts(sessions) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(CallAttempt)) or 0)


async def test_placed(sessions) -> None:
    claim = await one_claim(sessions)
    carrier = RecordingCarrier()
    out = await dialer(sessions, carrier).dial(claim)
    assert out.result == "placed" and out.call_sid == carrier.calls[0].sid
    a = await attempt_row(sessions, claim.attempt_id)
    assert a.status is AttemptStatus.QUEUED and a.call_sid == out.call_sid
    assert a.placed_at == T0


async def test_retryable_errors_retry_the_same_attempt(sessions) -> None:
    claim = await one_claim(sessions)
    carrier = RecordingCarrier(script=["retry", "retry", "ok"])
    out = await dialer(sessions, carrier).dial(claim)
    assert out.result == "placed" and out.tries == 3
    assert carrier.requests == [claim.attempt_id] * 3
    assert len(carrier.calls) == 1  # one call created, for one attempt row
    assert await count_attempts(sessions) == 1


async def test_retries_are_bounded(sessions) -> None:
    claim = await one_claim(sessions)
    carrier = RecordingCarrier(script=["retry"] * 10)
    out = await dialer(sessions, carrier, max_retries=2).dial(claim)
    assert out.result == "failed" and out.tries == 3
    a = await attempt_row(sessions, claim.attempt_id)
    assert a.status is AttemptStatus.FAILED and "429" in (a.error or "")


async def test_fatal_error_is_not_retried(sessions) -> None:
    claim = await one_claim(sessions)
    carrier = RecordingCarrier(script=["fatal", "ok"])
    out = await dialer(sessions, carrier).dial(claim)
    assert out.result == "failed" and carrier.requests == [claim.attempt_id]


async def test_timeout_is_reconciled_by_listing_calls_never_redialled(sessions) -> None:
    claim = await one_claim(sessions)
    carrier = RecordingCarrier(script=["timeout_created"], clock=lambda: T0)
    d = dialer(sessions, carrier)
    out = await d.dial(claim)
    assert out.result == "unknown"
    a = await attempt_row(sessions, claim.attempt_id)
    assert a.status is AttemptStatus.UNKNOWN and a.call_sid is None
    # The person is still "in progress": no new claim while the outcome is unknown.
    assert await claim_batch(sessions, T0 + dt.timedelta(hours=5), 10, "w") == []
    # Too early to reconcile; then it adopts the call the carrier did create.
    assert await d.reconcile(T0 + dt.timedelta(seconds=5)) == 0
    assert await d.reconcile(T0 + dt.timedelta(seconds=40)) == 1
    a = await attempt_row(sessions, claim.attempt_id)
    assert a.call_sid == carrier.calls[0].sid and a.status is AttemptStatus.QUEUED
    assert carrier.requests == [claim.attempt_id]  # placed once, only once


async def test_timeout_with_no_call_gives_up_after_a_while(sessions) -> None:
    claim = await one_claim(sessions)
    carrier = RecordingCarrier(script=["timeout_lost"])
    d = dialer(sessions, carrier)
    assert (await d.dial(claim)).result == "unknown"
    assert await d.reconcile(T0 + dt.timedelta(minutes=1)) == 0
    assert (await attempt_row(sessions, claim.attempt_id)).status is AttemptStatus.UNKNOWN
    assert await d.reconcile(T0 + dt.timedelta(minutes=11)) == 1
    a = await attempt_row(sessions, claim.attempt_id)
    assert a.status is AttemptStatus.CANCELED and carrier.calls == []


async def test_reconcile_by_sid_uses_fetch(sessions) -> None:
    claim = await one_claim(sessions)
    carrier = RecordingCarrier()
    d = dialer(sessions, carrier)
    await d.dial(claim)
    carrier.calls[0].status = "completed"
    # A lost status callback: mark unknown again to reconcile by sid.
    async with sessions() as s, s.begin():
        a = await s.get(CallAttempt, claim.attempt_id)
        a.status = AttemptStatus.UNKNOWN
    assert await d.reconcile(T0 + dt.timedelta(minutes=1)) == 1
    a = await attempt_row(sessions, claim.attempt_id)
    assert a.status is AttemptStatus.COMPLETED and a.ended_at is not None


async def test_window_closed_before_placing_cancels(sessions) -> None:
    claim = await one_claim(sessions)
    carrier = RecordingCarrier()
    late = dt.datetime(2026, 11, 24, 23, 5, tzinfo=dt.UTC)  # 20:05 local
    out = await dialer(sessions, carrier, now=late).dial(claim)
    assert out.result == "cancelled" and carrier.requests == []
    a = await attempt_row(sessions, claim.attempt_id)
    assert a.status is AttemptStatus.CANCELED and "window" in (a.error or "")


async def test_paid_or_opted_out_before_placing_cancels(sessions) -> None:
    claim = await one_claim(sessions)
    async with sessions() as s, s.begin():
        debt = await s.get(Debt, claim.debt_id)
        debt.paused_until = T0 + dt.timedelta(days=2)
    carrier = RecordingCarrier()
    assert (await dialer(sessions, carrier).dial(claim)).result == "cancelled"
    async with sessions() as s, s.begin():
        (await s.get(Debt, claim.debt_id)).paused_until = None
        (await s.get(Debtor, claim.debtor_id)).opted_out_at = T0
    claims = await claim_batch(sessions, T0 + dt.timedelta(hours=5), 10, "w")
    assert claims == []  # opted out: never claimed again
    assert carrier.requests == []


async def test_already_taken_claim_is_skipped(sessions) -> None:
    claim = await one_claim(sessions)
    carrier = RecordingCarrier()
    d = dialer(sessions, carrier)
    assert (await d.dial(claim)).result == "placed"
    assert (await d.dial(claim)).result == "skipped"  # a second dial of the same claim
    assert len(carrier.requests) == 1


async def test_stale_claims_are_swept(sessions) -> None:
    claim = await one_claim(sessions)
    d = dialer(sessions, RecordingCarrier())
    assert await d.sweep_stale_claims(T0 + dt.timedelta(minutes=5)) == 0
    assert await d.sweep_stale_claims(T0 + dt.timedelta(minutes=20)) == 1
    assert (await attempt_row(sessions, claim.attempt_id)).status is AttemptStatus.CANCELED
    assert (await d.dial(claim)).result == "skipped"


async def test_token_bucket_paces_calls() -> None:
    t = [0.0]
    slept: list[float] = []

    async def fake_sleep(s: float) -> None:
        slept.append(s)
        t[0] += s

    bucket = TokenBucket(2.0, monotonic=lambda: t[0], sleep=fake_sleep)
    for _ in range(6):
        await bucket.acquire()
    # 2 at once (capacity), then one every half second.
    assert t[0] == 2.0
    assert all(abs(s - 0.5) < 1e-9 for s in slept)
