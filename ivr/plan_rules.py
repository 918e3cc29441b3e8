"""What makes a payment plan acceptable: the campaign's limits and the plain checks.

One place for the rules every source of a plan applies -- the call
(``ivr.dialog.flow_guards``), the agent's wrap-up and the supervisor API --
so a plan the dialog would refuse is refused by the API with the same words.
Problems are ``(field, reason)`` pairs: the API answers 422 with them, the
dialog only asks whether there are any.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_MAX_INSTALMENTS = 6
DEFAULT_MAX_PLAN_DAYS = 180

Problem = tuple[str, str]


@dataclass(frozen=True)
class PlanLimits:
    """A campaign's limits: how many instalments, and days from the first to the last."""

    max_instalments: int = DEFAULT_MAX_INSTALMENTS
    max_plan_days: int = DEFAULT_MAX_PLAN_DAYS


def too_many(count: int, limits: PlanLimits) -> bool:
    return count > limits.max_instalments


def too_long(dates: Sequence[dt.date], limits: PlanLimits) -> bool:
    return bool(dates) and (max(dates) - min(dates)).days > limits.max_plan_days


def within_limits(dates: Sequence[dt.date], limits: PlanLimits) -> bool:
    return not too_many(len(dates), limits) and not too_long(dates, limits)


def plan_problems(
    items: Sequence[tuple[dt.date, int]],
    *,
    earliest: dt.date,
    owed_cents: int,
    limits: PlanLimits,
    field: str = "instalments",
) -> list[Problem]:
    """Every reason the dated amounts ``items`` cannot be a plan.

    Dates from ``earliest`` on and strictly increasing, amounts positive, the
    total at most ``owed_cents``, within the campaign's ``limits``.
    """
    out: list[Problem] = []
    if not items:
        return [(field, "a plan needs at least one instalment")]
    if too_many(len(items), limits):
        out.append(
            (
                field,
                f"{len(items)} instalments: this campaign allows at most {limits.max_instalments}",
            )
        )
    previous: dt.date | None = None
    for k, (day, cents) in enumerate(items):
        if day < earliest:
            out.append((f"{field}[{k}].date", f"must be on or after {earliest}"))
        elif previous is not None and day <= previous:
            out.append((f"{field}[{k}].date", "must be after the previous instalment's date"))
        previous = day
        if cents <= 0:
            out.append((f"{field}[{k}].amount", "must be positive"))
    dates = [d for d, _ in items]
    if too_long(dates, limits):
        out.append(
            (
                f"{field}[{len(items) - 1}].date",
                f"the plan spans {(max(dates) - min(dates)).days} days: this campaign allows"
                f" at most {limits.max_plan_days} from the first instalment to the last",
            )
        )
    total = sum(c for _, c in items)
    if total > owed_cents:
        out.append(
            (field, f"the instalments add up to {total} cents, more than the {owed_cents} owed")
        )
    return out
