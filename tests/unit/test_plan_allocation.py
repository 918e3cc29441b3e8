"""Payments fill a plan's instalments in order (scheduler.plan_allocation)."""

from __future__ import annotations

import datetime as dt

from ivr.vocab.debts import PlanStatus, PromiseStatus
from scheduler.plan_allocation import Instalment, PaidAmount, allocate

D = dt.date
PLAN = [
    Instalment(11, 1, D(2026, 3, 10), 10_000),
    Instalment(12, 2, D(2026, 4, 10), 10_000),
    Instalment(13, 3, D(2026, 5, 10), 10_000),
]


def _states(alloc):  # type: ignore[no-untyped-def]
    return [(s.covered_cents, s.status) for s in alloc.instalments]


def test_first_payment_keeps_only_the_first_instalment() -> None:
    """The old rule compared each promise with all money paid by its date:
    one payment of 100 kept the first *and* the second instalment."""
    alloc = allocate(PLAN, [PaidAmount(1, D(2026, 3, 9), 10_000)], today=D(2026, 3, 20))
    assert _states(alloc) == [
        (10_000, PromiseStatus.KEPT),
        (0, PromiseStatus.OPEN),
        (0, PromiseStatus.OPEN),
    ]
    assert alloc.plan_status is PlanStatus.OPEN


def test_partial_payments_carry_over_in_order() -> None:
    pays = [
        PaidAmount(2, D(2026, 3, 8), 6_000),
        PaidAmount(1, D(2026, 3, 5), 7_000),  # earlier day first, whatever the id
        PaidAmount(3, D(2026, 4, 1), 9_000),
    ]
    alloc = allocate(PLAN, pays, today=D(2026, 4, 2))
    assert _states(alloc) == [
        (10_000, PromiseStatus.KEPT),  # 7000 + 3000 of the second payment, by 03-08
        (10_000, PromiseStatus.KEPT),  # 3000 left over + 7000 of the third, by 04-01
        (2_000, PromiseStatus.OPEN),
    ]
    assert alloc.instalments[0].covered_on == D(2026, 3, 8)


def test_same_day_payments_go_by_id() -> None:
    pays = [PaidAmount(9, D(2026, 3, 1), 10_000), PaidAmount(4, D(2026, 3, 1), 5_000)]
    alloc = allocate(PLAN[:2], pays, today=None)
    assert alloc.instalments[0].covered_on == D(2026, 3, 1)
    assert [s.covered_cents for s in alloc.instalments] == [10_000, 5_000]


def test_date_passed_without_cover_is_broken_and_late_money_fills_it() -> None:
    late = [PaidAmount(1, D(2026, 3, 12), 15_000)]
    alloc = allocate(PLAN, late, today=D(2026, 3, 13))
    assert _states(alloc) == [
        (10_000, PromiseStatus.BROKEN),  # covered, but after its date
        (5_000, PromiseStatus.OPEN),  # the rest counts for the next one
        (0, PromiseStatus.OPEN),
    ]
    assert alloc.plan_status is PlanStatus.BROKEN


def test_not_covered_before_the_date_passes_is_open() -> None:
    alloc = allocate(PLAN, [PaidAmount(1, D(2026, 3, 1), 4_000)], today=D(2026, 3, 10))
    assert alloc.instalments[0].status is PromiseStatus.OPEN  # its day is today
    alloc = allocate(PLAN, [PaidAmount(1, D(2026, 3, 1), 4_000)], today=D(2026, 3, 11))
    assert alloc.instalments[0].status is PromiseStatus.BROKEN
    # Money alone (today=None) never breaks an uncovered instalment.
    alloc = allocate(PLAN, [PaidAmount(1, D(2026, 3, 1), 4_000)], today=None)
    assert alloc.instalments[0].status is PromiseStatus.OPEN


def test_overpayment_covers_everything_and_is_left_over() -> None:
    alloc = allocate(PLAN, [PaidAmount(1, D(2026, 3, 1), 35_000)], today=D(2026, 3, 2))
    assert all(s.status is PromiseStatus.KEPT for s in alloc.instalments)
    assert alloc.unallocated_cents == 5_000
    assert alloc.plan_status is PlanStatus.COMPLETED


def test_late_money_that_catches_up_completes_the_plan() -> None:
    pays = [PaidAmount(1, D(2026, 3, 15), 20_000), PaidAmount(2, D(2026, 5, 1), 10_000)]
    alloc = allocate(PLAN, pays, today=D(2026, 5, 2))
    assert [s.status for s in alloc.instalments] == [
        PromiseStatus.BROKEN,
        PromiseStatus.KEPT,
        PromiseStatus.KEPT,
    ]
    assert alloc.plan_status is PlanStatus.COMPLETED


def test_debt_paid_off_another_way_keeps_what_was_not_yet_due() -> None:
    alloc = allocate(PLAN, [], today=None, paid_off_on=D(2026, 4, 1))
    assert [s.status for s in alloc.instalments] == [
        PromiseStatus.BROKEN,
        PromiseStatus.KEPT,
        PromiseStatus.KEPT,
    ]
