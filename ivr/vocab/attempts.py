"""Where an outbound call stands: the ``status`` of a call attempt.

The first two are ours, the rest are the carrier's (Twilio's call statuses,
spelled as Twilio spells them). A status only moves forward; once final, the
attempt is over and counts against the debtor's caps as it ended.

* ``claimed`` -- a dialer reserved this call (the caps were checked); not yet
  sent to the carrier.
* ``unknown`` -- the request to the carrier timed out: whether the call was
  placed is being reconciled.
* ``queued``, ``initiated`` -- the carrier accepted the call and is starting it.
* ``ringing`` -- the debtor's phone is ringing.
* ``in-progress`` -- someone (or a machine) answered; the call is live.
* ``completed`` -- the call was answered and has ended (the outcome says how).
* ``busy`` -- the line was busy.
* ``failed`` -- the carrier could not place the call (bad number, network).
* ``no-answer`` -- it rang and nobody answered.
* ``canceled`` -- we called it off before it was answered (e.g. a payment arrived).
"""

from __future__ import annotations

import enum


class AttemptStatus(enum.StrEnum):
    """Our claim states, then Twilio's call states."""

    CLAIMED = "claimed"  # reserved by a dialer, not yet sent to the carrier
    UNKNOWN = "unknown"  # the REST call timed out: outcome to be reconciled
    QUEUED = "queued"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    FAILED = "failed"
    NO_ANSWER = "no-answer"
    CANCELED = "canceled"


#: The call is over: nothing moves it on any more.
FINAL_ATTEMPT_STATUSES: frozenset[AttemptStatus] = frozenset(
    {
        AttemptStatus.COMPLETED,
        AttemptStatus.BUSY,
        AttemptStatus.FAILED,
        AttemptStatus.NO_ANSWER,
        AttemptStatus.CANCELED,
    }
)

#: The call may still be ringing or talking: at most one per debtor at a time.
LIVE_ATTEMPT_STATUSES: frozenset[AttemptStatus] = frozenset(
    set(AttemptStatus) - FINAL_ATTEMPT_STATUSES
)


class AttemptDirection(enum.StrEnum):
    """Who placed the call: we did (``outbound``, a dialer or ``ivr call``), or
    the person called the service's number (``inbound``).

    Both are the person's contact history; only outbound attempts count
    against the caps and frequency limits, which limit how often *we* call.
    """

    OUTBOUND = "outbound"
    INBOUND = "inbound"
