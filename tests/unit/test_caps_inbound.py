"""The person's own calls to us never count against the caps on our calls."""

from __future__ import annotations

import datetime as dt

from scheduler.caps import CapPolicy, PastAttempt, cap_blocks

NOW = dt.datetime(2026, 12, 1, 14, 0, tzinfo=dt.UTC)
ZONES = ["America/Sao_Paulo"]


def _policy() -> CapPolicy:
    return CapPolicy(daily_cap=2, weekly_cap=7, min_gap=dt.timedelta(hours=4))


def test_inbound_calls_today_do_not_reach_the_daily_cap_or_the_gap() -> None:
    inbound = [
        PastAttempt(NOW - dt.timedelta(minutes=m), "completed", "no_contact", direction="inbound")
        for m in (10, 30, 50)
    ]
    assert cap_blocks(inbound, NOW, ZONES, _policy()) == []
    outbound = [PastAttempt(NOW - dt.timedelta(minutes=m), "completed") for m in (10, 30)]
    codes = {b.code for b in cap_blocks(outbound, NOW, ZONES, _policy())}
    assert {"daily_cap", "min_gap"} <= codes


def test_an_inbound_call_in_progress_still_blocks_our_call() -> None:
    live = [PastAttempt(NOW - dt.timedelta(minutes=1), "in-progress", direction="inbound")]
    assert [b.code for b in cap_blocks(live, NOW, ZONES, _policy())] == ["in_progress"]
