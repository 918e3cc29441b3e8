"""What the caller agreed to during a call, and the guards the flow tests on it.

The flow's ``when``/``unless`` conditions are names (so ``flow.yaml`` stays
readable); this module maps each name to its test, over the call's context and
the caller's answers so far. The loader checks names against :data:`GUARDS`,
the conversation evaluates them. The amounts and times the answers commit the
debtor to are derived here too, so a guard, a recorded promise and the prompt
that reads it back all use one computation.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ivr.dialog.events import CallContext
from ivr.dialog.nlu_dates import add_months
from ivr.dialog.nlu_multipart import PlannedPayment
from ivr.plan_rules import PlanLimits, too_many, within_limits
from ivr.vocab.debts import ClosedDayPromise
from ivr.vocab.verification import VerificationPolicy

#: Dated amounts: (day, cents), in order of the day.
DatedAmounts = tuple[tuple[dt.date, int], ...]


def latest_promise_date(ctx: CallContext) -> dt.date:
    """The last day a promise to pay may name."""
    return ctx.today + dt.timedelta(days=ctx.max_promise_days)


def installment_cents(ctx: CallContext) -> int:
    """One installment, rounded up so the installments cover the whole amount."""
    return math.ceil(ctx.amount_cents / max(ctx.installments, 1))


def instalment_schedule(ctx: CallContext, first: dt.date) -> DatedAmounts:
    """The offered "N parcelas de X" as dated amounts, the first on ``first``.

    Monthly, as the offer is understood; when N months would run past the
    campaign's longest plan, the instalments are spread evenly inside it
    instead. Every instalment but the last is the amount the offer said (rounded
    up), the last takes the rest, so the plan sums to the debt. Each date is
    moved to a payable day as a single promise's would be. An offer that cannot
    be split (one instalment, or too little to split) is one promise.
    """
    count = max(ctx.installments, 1)
    each = installment_cents(ctx)
    last = ctx.amount_cents - each * (count - 1)
    if count == 1 or last <= 0:
        return ((first, ctx.amount_cents if count == 1 else each),)
    days = [add_months(first, k) for k in range(count)]
    if (days[-1] - first).days > ctx.max_plan_days:
        step = max(ctx.max_plan_days // (count - 1), 1)
        days = [first + dt.timedelta(days=step * k) for k in range(count)]
    payable = [first, *(payable_day(ctx, d) for d in days[1:])]
    if any(b <= a for a, b in itertools.pairwise(payable)):
        payable = days  # moving to business days would merge two instalments
    return tuple(zip(payable, [*([each] * (count - 1)), last], strict=True))


def payable_day(ctx: CallContext, day: dt.date) -> dt.date:
    """The day a payment promised for ``day`` is recorded for: the campaign
    either accepts a weekend or holiday as said, or moves it to the next
    business day in the debtor's calendar."""
    if ctx.promise_on_closed_day == ClosedDayPromise.ACCEPT:
        return day
    from scheduler.windows import business_day_on_or_after

    return business_day_on_or_after(day, ctx.calendar_country, ctx.region)


def split_amounts(ctx: CallContext, plan: Sequence[PlannedPayment]) -> DatedAmounts:
    """A plan said instalment by instalment as dated amounts of this debt.

    A fraction is of the whole debt, "the rest" what the others leave; when
    every part is a fraction and they add up to the whole, the last part takes
    the rounding, so the parts always sum to the debt. Nothing beyond the
    debt is promised, parts on the same (payable) day are one, empty parts go.
    """
    total = ctx.amount_cents
    parts: list[int | None] = [
        p.amount_cents
        if p.amount_cents is not None
        else round(total * p.fraction)
        if p.fraction is not None
        else None
        for p in plan
    ]
    fractions = [p.fraction for p in plan if p.fraction is not None]
    if len(fractions) == len(plan) and abs(sum(fractions) - 1) < 1e-6:
        parts[-1] = None  # the last fraction is the rest
    known = sum(p for p in parts if p is not None)
    rests = parts.count(None)
    left = max(total - known, 0)
    per_rest = [left // rests + (1 if i < left % rests else 0) for i in range(rests)]
    by_day: dict[dt.date, int] = {}
    promised = 0
    for planned, part in zip(plan, parts, strict=True):
        cents = part if part is not None else per_rest.pop(0)
        cents = min(cents, total - promised)
        if cents <= 0:
            continue
        promised += cents
        day = payable_day(ctx, planned.date)
        by_day[day] = by_day.get(day, 0) + cents
    return tuple(sorted(by_day.items()))


@dataclass
class CallerAnswers:
    """What the caller told us during this call: the promise, the payment plan
    and the callback time (unlike the language understanding's per-utterance
    slots, these are kept only once an answer led somewhere in the flow)."""

    promise_date: dt.date | None = None
    promise_amount_cents: int | None = None
    plan: str = "full"
    callback_date: dt.date | None = None
    callback_time: dt.time | None = None
    # A day the caller said that banks are closed on, and the day it moved to.
    moved: tuple[dt.date, dt.date] | None = None
    # A plan the caller proposed ("metade agora e o resto dia 20").
    split: DatedAmounts = ()
    # How many instalments the caller asked for, when they said a number.
    asked_count: int | None = None
    verified: bool = False  # the campaign's verification policy was met
    # The promises recorded in this call (what a payment-details SMS is about).
    promised: DatedAmounts = ()
    chosen: int | None = None  # inbound: which candidate the caller said they are

    def promise_cents(self, ctx: CallContext) -> int:
        """The amount promised: one installment, the amount said (at most the
        debt), or the whole debt when no amount was said."""
        if self.plan == "installments":
            return installment_cents(ctx)
        wanted = self.promise_amount_cents
        if not wanted or wanted <= 0:
            return ctx.amount_cents
        return min(wanted, ctx.amount_cents)

    def to_record(self, ctx: CallContext) -> tuple[DatedAmounts, bool]:
        """What a confirmed promise records, and whether it is one plan: the
        split the caller proposed, the offered "N parcelas de X" from the first
        date said, or a single dated amount."""
        if self.split:
            return self.split, True
        day = self.promise_date
        if day is None:
            return (), False
        if self.plan == "installments":
            made = instalment_schedule(ctx, day)
            return made, len(made) > 1
        return ((day, self.promise_cents(ctx)),), False

    def callback_at(self, today: dt.date) -> dt.datetime | None:
        """When to call back (a time alone means today); ``None`` = any time."""
        day, at = self.callback_date, self.callback_time
        if day is None and at is None:
            return None
        return dt.datetime.combine(day or today, at or dt.time(0, 0))


def _in_range(c: CallContext, day: dt.date | None) -> bool:
    return day is not None and c.today <= day <= latest_promise_date(c)


def _date_ok(c: CallContext, s: CallerAnswers) -> bool:
    return _in_range(c, s.promise_date)


def plan_limits(c: CallContext) -> PlanLimits:
    return PlanLimits(c.max_instalments, c.max_plan_days)


def plan_over_limits(c: CallContext, s: CallerAnswers) -> bool:
    """The caller proposed more instalments, or a longer plan, than the campaign
    allows: a split said part by part, or a count ("em doze vezes")."""
    if len(s.split) >= 2:
        return not within_limits([d for d, _ in s.split], plan_limits(c))
    return s.asked_count is not None and too_many(s.asked_count, plan_limits(c))


GUARDS: dict[str, Callable[[CallContext, CallerAnswers], bool]] = {
    "first_contact": lambda c, s: c.first_contact,
    "has_birth_year": lambda c, s: c.birth_year is not None,
    "has_document_digits": lambda c, s: bool(c.document_digits),
    "factor_required": lambda c, s: c.verification == VerificationPolicy.NAME_AND_FACTOR,
    "verified": lambda c, s: s.verified,
    # The service can text the payment details (ivr.calls.context says so).
    "sms_possible": lambda c, s: c.sms_possible,
    "promised": lambda c, s: bool(s.promised),
    "inbound": lambda c, s: c.inbound,
    "one_candidate": lambda c, s: len(c.candidates) == 1,
    "several_candidates": lambda c, s: len(c.candidates) > 1,
    "installments_available": lambda c, s: c.installments >= 2,
    "installment_plan": lambda c, s: s.plan == "installments",
    "promise_date_past": lambda c, s: s.promise_date is not None and s.promise_date < c.today,
    "promise_date_too_far": lambda c, s: (
        s.promise_date is not None and s.promise_date > latest_promise_date(c)
    ),
    "promise_date_ok": _date_ok,
    "has_callback_time": lambda c, s: s.callback_date is not None or s.callback_time is not None,
    "day_moved": lambda c, s: s.moved is not None,
    "split_plan": lambda c, s: len(s.split) >= 2,
    "split_dates_ok": lambda c, s: bool(s.split) and all(_in_range(c, d) for d, _ in s.split),
    "plan_over_limits": plan_over_limits,
}


def all_hold(names: tuple[str, ...], ctx: CallContext, answers: CallerAnswers) -> bool:
    """Every guard named holds (true when none is named)."""
    return all(GUARDS[name](ctx, answers) for name in names)


def any_holds(names: tuple[str, ...], ctx: CallContext, answers: CallerAnswers) -> bool:
    """Some guard named holds (false when none is named)."""
    return any(GUARDS[name](ctx, answers) for name in names)
