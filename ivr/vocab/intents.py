"""What the debtor meant: the intents the call flow branches on.

The language understanding (``ivr.dialog.nlu``) maps each answer, spoken or
keyed, to one of the NLU intents; the flow engine adds two of its own from
keypad identity checks. Transcripts and turn logs show them.

* ``yes`` / ``no`` -- a plain yes or no.
* ``wrong_person`` -- "this is not them" (or "I don't know them").
* ``agent`` -- the debtor asks for a person.
* ``cannot_pay`` -- the debtor says they cannot pay.
* ``already_paid`` -- the debtor says they have paid.
* ``callback`` -- "call me later" (perhaps with a day or time).
* ``stop_calling`` -- "stop calling me": an opt-out, never missed.
* ``promise`` -- a date (and perhaps an amount) the debtor will pay.
* ``installments`` -- the debtor asks to pay in parts.
* ``repeat`` -- "say that again".
* ``dispute`` -- the debtor does not recognise the debt.
* ``payment_details`` -- the debtor asks how to pay (boleto, Pix key, a link).
* ``deceased`` -- the person called has died (said by a relative).
* ``not_available`` -- the person is not there or cannot come now.
* ``unknown`` -- nothing understood.
* ``verified`` / ``not_verified`` -- the engine's own: the keyed birth year
  matched the debtor's, or did not.
* ``person_chosen`` -- the engine's own: an inbound caller on a shared number
  said (or keyed) which of the people it belongs to they are.
* ``found`` / ``not_found`` -- the engine's own: the reference an inbound
  caller keyed names someone, or nobody.
"""

from __future__ import annotations

import enum


class Intent(enum.StrEnum):
    YES = "yes"
    NO = "no"
    WRONG_PERSON = "wrong_person"
    AGENT = "agent"
    CANNOT_PAY = "cannot_pay"
    ALREADY_PAID = "already_paid"
    CALLBACK = "callback"
    STOP_CALLING = "stop_calling"
    PROMISE = "promise"
    INSTALLMENTS = "installments"
    REPEAT = "repeat"
    DISPUTE = "dispute"
    PAYMENT_DETAILS = "payment_details"
    DECEASED = "deceased"
    NOT_AVAILABLE = "not_available"
    UNKNOWN = "unknown"
    VERIFIED = "verified"
    NOT_VERIFIED = "not_verified"
    PERSON_CHOSEN = "person_chosen"
    FOUND = "found"
    NOT_FOUND = "not_found"


#: Intents the engine derives from keypad checks, never the NLU.
ENGINE_INTENTS: frozenset[Intent] = frozenset(
    {
        Intent.VERIFIED,
        Intent.NOT_VERIFIED,
        Intent.PERSON_CHOSEN,
        Intent.FOUND,
        Intent.NOT_FOUND,
    }
)

#: Intents the language understanding produces (a contract with ``nlu.py``),
#: as plain strings.
NLU_INTENTS: tuple[str, ...] = tuple(i.value for i in Intent if i not in ENGINE_INTENTS)
