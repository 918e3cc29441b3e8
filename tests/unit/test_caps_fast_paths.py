"""The caps' short cuts for the common case answer as the full rules do.

``cap_blocks`` returns at once for a person with no attempt, and a stored
status is looked up in a set rather than converted to the enum; neither may
change an answer: a cap of 0 still blocks someone never called, and a status
outside the vocabulary is still refused.
"""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.caps import CapPolicy, PastAttempt, cap_blocks

NOW = dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC)
ZONES = ("America/Sao_Paulo",)


def test_no_attempt_and_ordinary_caps_block_nothing() -> None:
    assert cap_blocks([], NOW, ZONES, CapPolicy(retry_delays=(dt.timedelta(hours=1),))) == []


@pytest.mark.parametrize(
    ("policy", "code"),
    [(CapPolicy(daily_cap=0), "daily_cap"), (CapPolicy(weekly_cap=0), "weekly_cap")],
)
def test_a_cap_of_zero_blocks_someone_never_called(policy: CapPolicy, code: str) -> None:
    assert [b.code for b in cap_blocks([], NOW, ZONES, policy)] == [code]


def test_live_and_retry_read_statuses_as_the_enum_does() -> None:
    ringing = PastAttempt(NOW - dt.timedelta(minutes=1), "ringing")
    busy = PastAttempt(NOW - dt.timedelta(minutes=5), "busy", ended_at=NOW)
    assert ringing.live and not busy.live
    policy = CapPolicy(min_gap=dt.timedelta(0), retry_delays=(dt.timedelta(hours=1),))
    assert [b.code for b in cap_blocks([busy], NOW, ZONES, policy)] == ["retry_wait"]
    with pytest.raises(ValueError):
        _ = PastAttempt(NOW, "bogus").live
