"""The rule book, pure: a verified conversation on a call the person placed to us
keeps our calls away for the rest of their local day (campaign setting)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from scheduler.caps import CapPolicy, PastAttempt
from scheduler.eligibility import evaluate
from scheduler.snapshot import CallbackRow, CampaignRules, DebtorSnapshot, DebtRow, PhoneRow

NOW = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)  # Tuesday 12:00 in São Paulo
MIDNIGHT = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)  # Wednesday 00:00 in São Paulo
CAMP = CampaignRules(
    id=1,
    active=True,
    policy=CapPolicy(min_gap=dt.timedelta(0)),
    country="BR",
    windows=(),
    blocked=frozenset(),
    max_concurrent=5,
)


def snap(*attempts: PastAttempt) -> DebtorSnapshot:
    s = DebtorSnapshot(7, "BR", "SP", "America/Sao_Paulo", None, None)
    s.phones = [PhoneRow(1, "+5511987654321", 0, None)]
    s.debts = [DebtRow(10, "open", 1, dt.date(2026, 1, 10), None)]
    s.attempts = list(attempts)
    return s


def inbound(at: dt.datetime, *, verified: bool = True) -> PastAttempt:
    """A call the person placed at ``at``, verified a minute in when ``verified``."""
    return PastAttempt(
        at,
        "completed",
        "promise",
        at + dt.timedelta(minutes=4),
        1,
        99,
        "inbound",
        at + dt.timedelta(minutes=1) if verified else None,
    )


def test_a_verified_inbound_call_today_suppresses_us_until_local_midnight() -> None:
    v = evaluate(snap(inbound(NOW - dt.timedelta(hours=2))), {1: CAMP}, NOW)
    assert not v.callable
    assert v.codes == ["inbound_today"]
    r = v.reasons[0]
    assert r.until == MIDNIGHT
    assert r.detail["attempt_id"] == 99
    assert "called us today" in r.message
    # Next look: the window's opening on their next local day, not midnight.
    assert v.wake_at is not None and v.wake_at >= MIDNIGHT
    assert evaluate(snap(inbound(NOW - dt.timedelta(hours=2))), {1: CAMP}, MIDNIGHT).codes == [
        "outside_window"
    ]
    morning = MIDNIGHT + dt.timedelta(hours=9)  # Wednesday 09:00 local
    assert evaluate(snap(inbound(NOW - dt.timedelta(hours=2))), {1: CAMP}, morning).callable


def test_yesterday_an_unverified_caller_or_the_setting_off_suppress_nothing() -> None:
    late_yesterday = dt.datetime(2026, 11, 24, 2, 30, tzinfo=dt.UTC)  # Mon 23:30 local
    assert evaluate(
        snap(inbound(late_yesterday - dt.timedelta(minutes=5))), {1: CAMP}, NOW
    ).callable
    assert evaluate(
        snap(inbound(NOW - dt.timedelta(hours=1), verified=False)), {1: CAMP}, NOW
    ).callable
    off = dataclasses.replace(CAMP, inbound_suppresses_today=False)
    assert evaluate(snap(inbound(NOW - dt.timedelta(hours=1))), {1: off}, NOW).callable


def test_a_callback_the_person_asked_for_is_still_made() -> None:
    asked = CallbackRow(5, 10, NOW)
    v = evaluate(snap(inbound(NOW - dt.timedelta(hours=1))), {1: CAMP}, NOW, callback=asked)
    assert v.callable, v.codes


def test_the_strictest_campaign_wins() -> None:
    s = snap(inbound(NOW - dt.timedelta(hours=1)))
    s.debts.append(DebtRow(11, "open", 2, dt.date(2026, 1, 10), None))
    off = dataclasses.replace(CAMP, id=2, inbound_suppresses_today=False)
    assert evaluate(s, {1: CAMP, 2: off}, NOW).codes == ["inbound_today"]
