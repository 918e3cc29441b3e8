"""Each answer a batch shares (``eligibility.Shared``) is keyed by everything it depends on.

Two people of one batch who share a campaign but differ in exactly one fact
the shared answer reads (the record's country for the caps' legal floor, the
country of a number for the hours, the zone for the local day) must each get
their own answer, whichever of them is evaluated first. Each case checks the
two verdicts really differ, so a key missing that fact would fail it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from scheduler.caps import CapPolicy, PastAttempt
from scheduler.eligibility import Explanation, Shared, evaluate
from scheduler.snapshot import CampaignRules, DebtorSnapshot, DebtRow, PhoneRow
from scheduler.windows import Window

CAMPAIGN = CampaignRules(
    id=1,
    active=True,
    policy=CapPolicy(daily_cap=5, weekly_cap=9, min_gap=dt.timedelta(0)),
    country="BR",
    windows=tuple(Window(d, dt.time(8), dt.time(21)) for d in range(7)),
    blocked=frozenset(),
    max_concurrent=5,
)
CAMPAIGNS = {CAMPAIGN.id: CAMPAIGN}
TUESDAY = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)  # 12:00 in São Paulo


def person(
    debtor_id: int,
    *,
    country: str = "BR",
    zone: str = "America/Sao_Paulo",
    number: str = "+5511987654321",
) -> DebtorSnapshot:
    s = DebtorSnapshot(debtor_id, country, None, zone, None, None)
    s.phones = [PhoneRow(debtor_id, number, 0, None)]
    s.debts = [DebtRow(debtor_id, "open", CAMPAIGN.id, dt.date(2026, 10, 1), None)]
    return s


def spoke_days_ago(s: DebtorSnapshot, now: dt.datetime, days: int) -> DebtorSnapshot:
    at = now - dt.timedelta(days=days)
    talk = PastAttempt(at, "completed", "promise", at, s.id, 100 + s.id)
    return dataclasses.replace(s, attempts=[talk])


def in_one_batch(first: DebtorSnapshot, second: DebtorSnapshot, now: dt.datetime) -> None:
    """Both orders of one batch give each person the verdict they get alone."""
    alone = {s.id: evaluate(s, CAMPAIGNS, now) for s in (first, second)}
    for order in ((first, second), (second, first)):
        shared = Shared()
        for s in order:
            assert evaluate(s, CAMPAIGNS, now, shared=shared) == alone[s.id]


def differ(a: Explanation, b: Explanation, field: str) -> bool:
    return bool(getattr(a, field) != getattr(b, field))


def test_the_caps_policy_is_shared_only_within_one_record_country() -> None:
    # A conversation 3 days ago: nothing in Brazil, inside the US 7-day floor.
    br = spoke_days_ago(person(1, country="BR"), TUESDAY, 3)
    us = spoke_days_ago(person(2, country="US"), TUESDAY, 3)
    assert "quiet_after_contact" in evaluate(us, CAMPAIGNS, TUESDAY).codes
    assert "quiet_after_contact" not in evaluate(br, CAMPAIGNS, TUESDAY).codes
    in_one_batch(br, us, TUESDAY)


def test_the_hours_are_shared_only_among_people_bound_by_the_same_countries() -> None:
    # Someone of the US (record and number) gets the US hours, not the campaign's.
    home = person(1)
    abroad = person(2, country="US", number="+12085550100")
    one, other = evaluate(home, CAMPAIGNS, TUESDAY), evaluate(abroad, CAMPAIGNS, TUESDAY)
    assert differ(one, other, "windows")
    in_one_batch(home, abroad, TUESDAY)


def test_the_local_day_is_shared_only_within_one_zone() -> None:
    # 03:30 UTC: already Wednesday in São Paulo, still Tuesday in Manaus.
    night = dt.datetime(2026, 11, 25, 3, 30, tzinfo=dt.UTC)
    east = person(1, zone="America/Sao_Paulo")
    west = person(2, zone="America/Manaus", number="+5592987654321")
    assert differ(evaluate(east, CAMPAIGNS, night), evaluate(west, CAMPAIGNS, night), "local_day")
    in_one_batch(east, west, night)


@pytest.mark.parametrize("country", ["BR", "US"])
def test_the_caps_policy_follows_the_campaigns_of_each_person(country: str) -> None:
    # Same country, one person in a second, stricter campaign as well.
    strict = dataclasses.replace(CAMPAIGN, id=2, policy=CapPolicy(daily_cap=1))
    both = {1: CAMPAIGN, 2: strict}
    one = spoke_days_ago(person(1, country=country), TUESDAY, 0)
    one = dataclasses.replace(one, attempts=[dataclasses.replace(one.attempts[0], outcome=None)])
    two = dataclasses.replace(
        one, id=2, debts=[*one.debts, DebtRow(9, "open", 2, dt.date(2026, 10, 1), None)]
    )
    alone = {s.id: evaluate(s, both, TUESDAY) for s in (one, two)}
    assert "daily_cap" in alone[2].codes and "daily_cap" not in alone[1].codes
    for order in ((one, two), (two, one)):
        shared = Shared()
        for s in order:
            assert evaluate(s, both, TUESDAY, shared=shared) == alone[s.id]
