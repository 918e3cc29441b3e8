"""The life of a debt, and of what the debtor agreed about it (a promise, a callback).

Debt status (only an ``open`` debt is called about):

* ``open`` -- owed; the debtor may be called about it.
* ``paid`` -- payments covered it; no more calls about it.
* ``disputed`` -- the debtor contests it; no calls while it is so marked.
* ``closed`` -- taken out of collection for another reason.

Promise status (a promise to pay an amount on a date):

* ``open`` -- the date has not passed and no payment settled it yet.
* ``kept`` -- the amount was paid by the date.
* ``broken`` -- the date passed without the payment (or it was paid late).
* ``cancelled`` -- withdrawn; left out of the kept-promise rate.

Plan status (a payment plan: N dated instalments, each a promise with its
``sequence``; payments fill them in order, see ``scheduler.plan_allocation``):

* ``open`` -- instalments are still to come and none is broken.
* ``completed`` -- payments cover every instalment (late money included).
* ``broken`` -- an instalment's date passed without full cover. The plan no
  longer shields the debtor from calls (after the campaign's follow-up
  days a person calls to talk it over), but its later instalments stay
  open and payments keep filling them: it becomes ``completed`` if the
  money catches up.
* ``cancelled`` -- replaced by a new plan, or withdrawn.

Where a plan comes from (``PlanSource``): the call (``ivr``), an agent's
wrap-up (``agent``) or the supervisor API (``api``).

A promise for a day the banks are closed (a weekend or a holiday), as a
campaign sets it (``promise_on_closed_day``):

* ``accept`` -- kept as said; the read-back names its weekday.
* ``next_business_day`` -- moved to the next business day, and the caller is
  told so before confirming (the default: a payment slip or a transfer
  scheduled for a Saturday clears on Monday anyway).

Callback status (the debtor asked to be called at a given time):

* ``pending`` -- still to be made.
* ``done`` -- the call was placed.
* ``cancelled`` -- dropped: the debtor opted out, paid, or can no longer be
  called lawfully.
"""

from __future__ import annotations

import enum


class DebtStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"
    DISPUTED = "disputed"
    CLOSED = "closed"


class PromiseStatus(enum.StrEnum):
    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class PlanStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class PlanSource(enum.StrEnum):
    IVR = "ivr"
    AGENT = "agent"
    API = "api"


class ClosedDayPromise(enum.StrEnum):
    ACCEPT = "accept"
    NEXT_BUSINESS_DAY = "next_business_day"


class CallbackStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"
