"""The retry plan as a cap: merged across campaigns, waived for a callback the debtor asked for."""

from __future__ import annotations

import datetime as dt

from scheduler.caps import CapPolicy, PastAttempt, cap_blocks

NOW = dt.datetime(2026, 6, 10, 15, 0, tzinfo=dt.UTC)
ZONES = ("America/Sao_Paulo",)
M = dt.timedelta(minutes=1)


def _busy(minutes_ago: int, status: str = "busy") -> PastAttempt:
    at = NOW - minutes_ago * M
    return PastAttempt(at, status, None, at + M, 1, minutes_ago)


def test_a_person_in_two_campaigns_waits_the_longest_step() -> None:
    a = CapPolicy(min_gap=dt.timedelta(0), retry_delays=(30 * M, 120 * M))
    b = CapPolicy(min_gap=dt.timedelta(0), retry_delays=(60 * M,))
    none = CapPolicy(min_gap=dt.timedelta(0))
    merged = CapPolicy.strictest([a, b, none])
    assert merged.retry_delays == (60 * M, 120 * M)
    assert merged.retry_delay(1) == 60 * M and merged.retry_delay(5) == 120 * M
    assert CapPolicy.strictest([none]).retry_delay(1) is None
    # The legal floor keeps the plan.
    assert a.with_floor("US").retry_delays == a.retry_delays


def test_only_a_callback_the_debtor_asked_for_skips_the_wait() -> None:
    policy = CapPolicy(min_gap=dt.timedelta(0), retry_delays=(30 * M,))
    history = [_busy(10, "no-answer")]
    codes = [b.code for b in cap_blocks(history, NOW, ZONES, policy)]
    assert codes == ["retry_wait"]
    assert cap_blocks(history, NOW, ZONES, policy, waive_quiet=True) == []
    # A failed carrier request counts like busy; 21 minutes after it ended, 9 remain.
    (block,) = cap_blocks([_busy(30, "failed")], NOW - 9 * M, ZONES, policy)
    assert block.until == NOW - 29 * M + 30 * M
