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
import math
from collections.abc import Callable
from dataclasses import dataclass

from ivr.dialog.events import CallContext
from ivr.vocab.verification import VerificationPolicy


def latest_promise_date(ctx: CallContext) -> dt.date:
    """The last day a promise to pay may name."""
    return ctx.today + dt.timedelta(days=ctx.max_promise_days)


def installment_cents(ctx: CallContext) -> int:
    """One installment, rounded up so the installments cover the whole amount."""
    return math.ceil(ctx.amount_cents / max(ctx.installments, 1))


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
    verified: bool = False  # the campaign's verification policy was met

    def promise_cents(self, ctx: CallContext) -> int:
        """The amount promised: one installment, the amount said (at most the
        debt), or the whole debt when no amount was said."""
        if self.plan == "installments":
            return installment_cents(ctx)
        wanted = self.promise_amount_cents
        if not wanted or wanted <= 0:
            return ctx.amount_cents
        return min(wanted, ctx.amount_cents)

    def callback_at(self, today: dt.date) -> dt.datetime | None:
        """When to call back (a time alone means today); ``None`` = any time."""
        day, at = self.callback_date, self.callback_time
        if day is None and at is None:
            return None
        return dt.datetime.combine(day or today, at or dt.time(0, 0))


def _date_ok(c: CallContext, s: CallerAnswers) -> bool:
    return s.promise_date is not None and c.today <= s.promise_date <= latest_promise_date(c)


GUARDS: dict[str, Callable[[CallContext, CallerAnswers], bool]] = {
    "first_contact": lambda c, s: c.first_contact,
    "has_birth_year": lambda c, s: c.birth_year is not None,
    "has_document_digits": lambda c, s: bool(c.document_digits),
    "factor_required": lambda c, s: c.verification == VerificationPolicy.NAME_AND_FACTOR,
    "verified": lambda c, s: s.verified,
    "installments_available": lambda c, s: c.installments >= 2,
    "installment_plan": lambda c, s: s.plan == "installments",
    "promise_date_past": lambda c, s: s.promise_date is not None and s.promise_date < c.today,
    "promise_date_too_far": lambda c, s: (
        s.promise_date is not None and s.promise_date > latest_promise_date(c)
    ),
    "promise_date_ok": _date_ok,
    "has_callback_time": lambda c, s: s.callback_date is not None or s.callback_time is not None,
}


def all_hold(names: tuple[str, ...], ctx: CallContext, answers: CallerAnswers) -> bool:
    """Every guard named holds (true when none is named)."""
    return all(GUARDS[name](ctx, answers) for name in names)


def any_holds(names: tuple[str, ...], ctx: CallContext, answers: CallerAnswers) -> bool:
    """Some guard named holds (false when none is named)."""
    return any(GUARDS[name](ctx, answers) for name in names)
