"""How a call ended for the debtor: the ``outcome`` of a call attempt.

The call flow sets an outcome as the conversation goes (a later one replaces
an earlier one: ``right_party`` becomes ``promise`` when a promise is made);
the carrier's final status fills in ``voicemail`` or ``no_contact`` when the
flow set none. Reports count attempts by outcome.

* ``right_party`` -- we spoke with the debtor and they confirmed who they are;
  nothing more came of the call.
* ``promise`` -- the debtor promised to pay a given amount on a given date.
* ``refused`` -- the debtor said they cannot or will not pay now.
* ``callback`` -- the debtor asked to be called back at another time.
* ``opt_out`` -- the debtor asked not to be called again; no more calls.
* ``wrong_party`` -- whoever answered is not the debtor; that number is marked wrong.
* ``agent`` -- the call was handed to a person on the team.
* ``voicemail`` -- an answering machine took the call; a short message was left.
* ``no_contact`` -- nobody was identified: no answer, silence, or a hang-up
  before the debtor confirmed who they are.
* ``already_paid`` -- the debtor says they have paid; calls pause while we check.
* ``error`` -- the service failed during the call and ended it with an apology.
"""

from __future__ import annotations

import enum


class Outcome(enum.StrEnum):
    RIGHT_PARTY = "right_party"
    PROMISE = "promise"
    REFUSED = "refused"
    CALLBACK = "callback"
    OPT_OUT = "opt_out"
    WRONG_PARTY = "wrong_party"
    AGENT = "agent"
    VOICEMAIL = "voicemail"
    NO_CONTACT = "no_contact"
    ALREADY_PAID = "already_paid"
    ERROR = "error"


#: What the call flow (``flow.yaml``) may set; ``error`` is the service's own.
DIALOG_OUTCOMES: frozenset[Outcome] = frozenset(set(Outcome) - {Outcome.ERROR})

#: We spoke with the verified debtor (a "right-party contact"): the reports'
#: RPC rate, and what starts the quiet days after a conversation.
RIGHT_PARTY_OUTCOMES: frozenset[Outcome] = frozenset(
    {
        Outcome.RIGHT_PARTY,
        Outcome.PROMISE,
        Outcome.REFUSED,
        Outcome.CALLBACK,
        Outcome.AGENT,
        Outcome.ALREADY_PAID,
    }
)

#: No live person was heard: every other outcome is a live contact in the reports.
NOT_LIVE_OUTCOMES: tuple[Outcome, ...] = (Outcome.VOICEMAIL, Outcome.NO_CONTACT)
