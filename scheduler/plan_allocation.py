"""How payments fill the instalments of a plan: a pure function, no database.

A plan of N instalments is kept instalment by instalment. Comparing each
instalment with *all* the money paid up to its date would let the first
payment keep the second instalment too; instead the payments on the debt,
in order of ``paid_on`` then id, pour into the instalments in ``sequence``
order, a partial payment carrying over into the next. Then each instalment
is:

* ``kept`` -- fully covered by money paid on or before its date;
* ``broken`` -- its date has passed (``today`` is the debtor's local day)
  without full cover, or it was covered only after its date. Late money
  still fills it, so what comes after it counts for the next instalments;
* ``open`` -- otherwise.

``today=None`` judges by the money alone (a payment being recorded: the
date-passed pass of ``scheduler.jobs`` breaks what the calendar breaks).
``paid_off_on`` is the day the debt was paid in full, if it is: whatever
the plan's own money left uncovered counts as covered that day (a debt paid
another way keeps the instalments not yet due).

The plan itself is ``completed`` when every instalment is covered (late or
not), ``broken`` when any is broken and some are still uncovered, ``open``
otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ivr.vocab.debts import PlanStatus, PromiseStatus


@dataclass(frozen=True)
class Instalment:
    """One instalment as agreed: its promise id, place in the plan, date and amount."""

    id: int
    sequence: int
    due: dt.date
    amount_cents: int


@dataclass(frozen=True)
class PaidAmount:
    """One payment on the debt."""

    id: int
    paid_on: dt.date
    amount_cents: int


@dataclass(frozen=True)
class InstalmentState:
    """An instalment after allocation: how much is covered and what it is now."""

    instalment: Instalment
    covered_cents: int
    covered_on: dt.date | None  # the day the last cent arrived (None: not fully covered)
    status: PromiseStatus

    @property
    def fully_covered(self) -> bool:
        return self.covered_on is not None


@dataclass(frozen=True)
class Allocation:
    instalments: tuple[InstalmentState, ...]
    unallocated_cents: int  # paid beyond the whole plan

    @property
    def plan_status(self) -> PlanStatus:
        return plan_status(
            [s.fully_covered for s in self.instalments], [s.status for s in self.instalments]
        )


def plan_status(covered: Sequence[bool], statuses: Sequence[PromiseStatus]) -> PlanStatus:
    """Completed when every instalment is covered, broken when one is broken
    and money is still missing, open otherwise."""
    if all(covered):
        return PlanStatus.COMPLETED
    if any(s is PromiseStatus.BROKEN for s in statuses):
        return PlanStatus.BROKEN
    return PlanStatus.OPEN


def allocate(
    instalments: Sequence[Instalment],
    payments: Sequence[PaidAmount],
    *,
    today: dt.date | None,
    paid_off_on: dt.date | None = None,
) -> Allocation:
    """Fill ``instalments`` (by sequence) with ``payments`` (by day, then id)."""
    ordered = sorted(instalments, key=lambda i: (i.sequence, i.id))
    need = [i.amount_cents for i in ordered]
    covered = [0] * len(ordered)
    covered_on: list[dt.date | None] = [None] * len(ordered)
    at = 0
    left_over = 0
    for pay in sorted(payments, key=lambda p: (p.paid_on, p.id)):
        money = max(pay.amount_cents, 0)
        while money > 0 and at < len(ordered):
            take = min(money, need[at] - covered[at])
            covered[at] += take
            money -= take
            if covered[at] >= need[at]:
                covered_on[at] = pay.paid_on
                at += 1
        left_over += money
    if paid_off_on is not None:
        for k in range(at, len(ordered)):
            covered[k], covered_on[k] = need[k], paid_off_on
    states = []
    for k, inst in enumerate(ordered):
        day = covered_on[k]
        if day is not None and day <= inst.due:
            status = PromiseStatus.KEPT
        elif day is not None or (today is not None and inst.due < today):
            status = PromiseStatus.BROKEN
        else:
            status = PromiseStatus.OPEN
        states.append(InstalmentState(inst, covered[k], day, status))
    return Allocation(tuple(states), left_over)
