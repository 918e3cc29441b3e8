"""A batch's shared answers (``eligibility.Shared``) never change a verdict.

The claim evaluates a whole batch with one :class:`Shared`: whether the window
is open, and when it opens, worked out once per zone, campaign and country.
Every person here is evaluated alone and within a batch, at instants inside
and outside the window, on a holiday, with caps reached and without, and the
explanations (reasons, wake-up instant, what would be dialed) must be equal.
"""

from __future__ import annotations

import datetime as dt
import itertools

from scheduler.caps import CapPolicy, PastAttempt
from scheduler.eligibility import Shared, evaluate
from scheduler.snapshot import CampaignRules, DebtorSnapshot, DebtRow, PhoneRow
from scheduler.windows import Window

BR = CampaignRules(
    id=1,
    active=True,
    policy=CapPolicy(daily_cap=1, min_gap=dt.timedelta(hours=2)),
    country="BR",
    windows=(),
    blocked=frozenset({dt.date(2026, 11, 26)}),
    max_concurrent=5,
)
EVENINGS = CampaignRules(
    id=2,
    active=True,
    policy=CapPolicy(),
    country="BR",
    windows=tuple(Window(d, dt.time(18), dt.time(20)) for d in range(7)),
    blocked=frozenset(),
    max_concurrent=5,
)
US = CampaignRules(
    id=3,
    active=True,
    policy=CapPolicy(weekly_cap=1),
    country="US",
    windows=(),
    blocked=frozenset(),
    max_concurrent=5,
)
CAMPAIGNS = {c.id: c for c in (BR, EVENINGS, US)}
INSTANTS = [
    dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC),  # Tuesday 11:00 in São Paulo
    dt.datetime(2026, 11, 24, 22, 30, tzinfo=dt.UTC),  # 19:30 there, 17:30 in New York
    dt.datetime(2026, 11, 25, 4, 0, tzinfo=dt.UTC),  # the middle of the night
    dt.datetime(2026, 11, 15, 15, 0, tzinfo=dt.UTC),  # Sunday; 15 Nov is a holiday in Brazil
    dt.datetime(2026, 11, 26, 13, 0, tzinfo=dt.UTC),  # a date campaign 1 blocked
]


def people() -> list[DebtorSnapshot]:
    out: list[DebtorSnapshot] = []
    numbers = {"BR": ["+5511987654321", "+5592987654321"], "US": ["+12085550100"]}
    for i, (camp, zone, called) in enumerate(
        itertools.product(CAMPAIGNS.values(), [None, "America/Manaus"], [False, True])
    ):
        country = camp.country
        s = DebtorSnapshot(i, country, None, zone if country == "BR" else None, None, None)
        s.phones = [PhoneRow(10 * i + k, n, k, None) for k, n in enumerate(numbers[country])]
        s.debts = [DebtRow(i, "open", camp.id, dt.date(2026, 1, 10), None)]
        if called:
            at = INSTANTS[0] - dt.timedelta(hours=1)
            s.attempts = [PastAttempt(at, "completed", "no_contact", at, 10 * i, i)]
        out.append(s)
    return out


def test_a_batch_evaluates_as_each_person_alone() -> None:
    everyone = people()
    for now in INSTANTS:
        shared = Shared()
        for _round in range(2):  # the second round reads what the first worked out
            for s in everyone:
                assert evaluate(s, CAMPAIGNS, now, shared=shared) == evaluate(s, CAMPAIGNS, now)
    verdicts = {evaluate(s, CAMPAIGNS, now).callable for s in everyone for now in INSTANTS}
    assert verdicts == {True, False}
