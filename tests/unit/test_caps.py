"""Caps as pure functions: daily per local day (every zone), rolling week, gap, quiet days."""

from __future__ import annotations

import datetime as dt

from scheduler.caps import CapPolicy, PastAttempt, cap_blocks

NOW = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)  # 12:00 in São Paulo
SP = ("America/Sao_Paulo",)


def done(at: dt.datetime, outcome: str = "no_contact") -> PastAttempt:
    return PastAttempt(claimed_at=at, status="completed", outcome=outcome, ended_at=at)


def codes(history, now=NOW, zones=SP, policy=None, **kw) -> list[str]:
    return [b.code for b in cap_blocks(history, now, zones, policy or CapPolicy(), **kw)]


def test_nothing_blocks_a_fresh_person() -> None:
    assert codes([]) == []


def test_daily_cap_counts_the_local_day() -> None:
    # 01:00 UTC on the 24th is 22:00 on the 23rd in São Paulo: yesterday, locally.
    late_yesterday = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)
    this_morning = dt.datetime(2026, 11, 24, 11, 0, tzinfo=dt.UTC)
    assert codes([done(late_yesterday), done(this_morning)]) == []
    blocks = cap_blocks(
        [done(this_morning), done(this_morning + dt.timedelta(hours=1))],
        NOW,
        SP,
        CapPolicy(min_gap=dt.timedelta(0)),
    )
    assert [b.code for b in blocks] == ["daily_cap"]
    # It clears at local midnight.
    assert blocks[0].until == dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)


def test_daily_cap_holds_in_every_candidate_zone() -> None:
    # Two calls at 00:30 and 03:30 UTC on the 24th: for Phoenix (UTC-7) both are on the 23rd;
    # for New York (UTC-5) the second is on the 23rd too (22:30), the first 19:30 on the 23rd.
    zones = ("America/New_York", "America/Phoenix")
    a = dt.datetime(2026, 11, 24, 0, 30, tzinfo=dt.UTC)
    b = dt.datetime(2026, 11, 24, 3, 30, tzinfo=dt.UTC)
    now = dt.datetime(2026, 11, 24, 6, 30, tzinfo=dt.UTC)  # 23:30 on the 23rd in Phoenix
    policy = CapPolicy(min_gap=dt.timedelta(0))
    assert codes([done(a), done(b)], now, ("America/New_York",), policy) == []
    assert codes([done(a), done(b)], now, zones, policy) == ["daily_cap"]


def test_rolling_week_and_when_it_clears() -> None:
    days = [NOW - dt.timedelta(days=d, hours=1) for d in range(6, -1, -1)]
    policy = CapPolicy(daily_cap=5, min_gap=dt.timedelta(0))
    blocks = cap_blocks([done(t) for t in days], NOW, SP, policy)
    assert [b.code for b in blocks] == ["weekly_cap"]
    assert blocks[0].until == days[0] + dt.timedelta(days=7)
    # Exactly seven days after the oldest, it no longer counts.
    assert codes([done(t) for t in days], days[0] + dt.timedelta(days=7), SP, policy) == []
    assert codes(
        [done(t) for t in days], blocks[0].until - dt.timedelta(seconds=1), SP, policy
    ) == ["weekly_cap"]


def test_attempts_stamped_in_the_future_still_count() -> None:
    """A replica whose clock lags must not slip an attempt in behind a faster one."""
    ahead = NOW + dt.timedelta(minutes=10)
    assert codes([done(ahead)]) == ["min_gap"]
    week = [NOW + dt.timedelta(hours=h) for h in range(1, 8)]
    policy = CapPolicy(daily_cap=99, min_gap=dt.timedelta(0))
    assert codes([done(t) for t in week], NOW, SP, policy) == ["weekly_cap"]


def test_min_gap() -> None:
    last = NOW - dt.timedelta(hours=3, minutes=59)
    blocks = cap_blocks([done(last)], NOW, SP, CapPolicy())
    assert [b.code for b in blocks] == ["min_gap"]
    assert blocks[0].until == last + dt.timedelta(hours=4)
    assert codes([done(NOW - dt.timedelta(hours=4))]) == []


def test_quiet_days_after_a_conversation_and_the_callback_waiver() -> None:
    policy = CapPolicy(quiet_days_after_contact=7)
    talked = NOW - dt.timedelta(days=6)
    assert codes([done(talked, "right_party")], policy=policy) == ["quiet_after_contact"]
    assert codes([done(talked, "voicemail")], policy=policy) == []
    assert codes([done(NOW - dt.timedelta(days=7), "promise")], policy=policy) == []
    assert codes([done(talked, "refused")], policy=policy, waive_quiet=True) == []


def test_us_floor_of_seven_quiet_days() -> None:
    assert CapPolicy(quiet_days_after_contact=0).with_floor("US").quiet_days_after_contact == 7
    assert CapPolicy(quiet_days_after_contact=0).with_floor("BR").quiet_days_after_contact == 0
    assert CapPolicy(quiet_days_after_contact=9).with_floor("US").quiet_days_after_contact == 9


def test_in_progress_blocks() -> None:
    live = PastAttempt(claimed_at=NOW - dt.timedelta(days=3), status="ringing", attempt_id=5)
    blocks = cap_blocks([live], NOW, SP, CapPolicy())
    assert [b.code for b in blocks] == ["in_progress"]
    assert blocks[0].detail["attempt_ids"] == [5]


def test_strictest_policy_across_campaigns() -> None:
    a = CapPolicy(daily_cap=3, weekly_cap=5, min_gap=dt.timedelta(hours=1))
    b = CapPolicy(
        daily_cap=2, weekly_cap=7, min_gap=dt.timedelta(hours=4), quiet_days_after_contact=2
    )
    s = CapPolicy.strictest([a, b])
    assert s == CapPolicy(2, 5, dt.timedelta(hours=4), 2)


def test_every_limit_reported_at_once() -> None:
    policy = CapPolicy(daily_cap=1, weekly_cap=1, quiet_days_after_contact=1)
    history = [done(NOW - dt.timedelta(hours=1), "right_party")]
    assert codes(history, policy=policy) == [
        "daily_cap",
        "weekly_cap",
        "min_gap",
        "quiet_after_contact",
    ]
