"""The vocabulary between the call flow and the rest of the service.

The dialog receives *events* (what the caller or the line did) and returns
*actions* (what the service should do). It never sees Twilio, aiohttp or
audio, so every branch is testable with events alone. The transport (see
``ivr.web.media``) turns WebSocket traffic into events and executes actions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ivr.vocab.debts import ClosedDayPromise
from ivr.vocab.verification import VerificationPolicy

# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class CallAnswered:
    """The stream started and a person (or unknown) answered."""


@dataclass(frozen=True)
class MachineAnswered:
    """Answering-machine detection says a machine took the call."""


@dataclass(frozen=True)
class Digits:
    """One or more keypad digits (``"1"``, ``"#"``, ``"28112026"``)."""

    digits: str


@dataclass(frozen=True)
class Speech:
    """Recognized text; ``final`` is False for partial results (barge-in)."""

    text: str
    confidence: float = 1.0
    final: bool = True


@dataclass(frozen=True)
class Silence:
    """The listening window ended without input."""


@dataclass(frozen=True)
class PromptDone:
    """The prompt with this play id finished playing (Twilio echoed the mark)."""

    play_id: str


@dataclass(frozen=True)
class Hangup:
    """The caller or the line ended the call."""


@dataclass(frozen=True)
class CallerLookup:
    """The answer to :class:`LookUpCaller`: the people the keyed reference
    names (empty: nobody). Each context is that person's, unverified."""

    found: tuple[CallContext, ...]


Event = (
    CallAnswered | MachineAnswered | Digits | Speech | Silence | PromptDone | Hangup | CallerLookup
)

# ---------------------------------------------------------------- actions


@dataclass(frozen=True)
class Play:
    """Speak a prompt. ``barge_in`` lets caller speech or keys interrupt it."""

    prompt_id: str
    variables: dict[str, Any] = field(default_factory=dict)
    variant: int = 0
    barge_in: bool = True
    play_id: str = ""


@dataclass(frozen=True)
class Listen:
    """Listen with the grammar ``grammar`` and/or keypad for ``timeout_s``.

    ``max_digits`` is how many keys end keypad input (``#`` ends it early).
    ``entry_pending``: keys typed so far wait for the rest of an entry; the
    question is the same, only the wait (a short pause) changes.
    """

    grammar: str
    timeout_s: float = 6.0
    max_digits: int = 1
    entry_pending: bool = False


@dataclass(frozen=True)
class RecordOutcome:
    """Set the attempt's outcome (right_party, promise, refused, callback,
    opt_out, wrong_party, agent, voicemail, no_contact, already_paid)."""

    outcome: str


@dataclass(frozen=True)
class RecordPromise:
    """A confirmed promise to pay; persisted before the read-back ends."""

    date: dt.date
    amount_cents: int


@dataclass(frozen=True)
class RecordPlan:
    """A confirmed payment plan: its dated amounts, in date order, are stored
    as one plan's instalments (numbered 1..N); persisted before the read-back ends."""

    instalments: tuple[tuple[dt.date, int], ...]


@dataclass(frozen=True)
class RecordAlreadyPaid:
    """The debtor says they paid: pause calls on this debt."""


@dataclass(frozen=True)
class OptOut:
    """Stop calling this person, at once (said by the verified person)."""


@dataclass(frozen=True)
class OptOutNumber:
    """Stop calling this number, at once: asked before we knew who answered,
    so it binds the number, not the person (who may be reached elsewhere)."""


@dataclass(frozen=True)
class ReportDeceased:
    """Whoever answered says the person has died: stop every contact with
    them at once and put the case in a supervisor's review list."""


@dataclass(frozen=True)
class MarkWrongNumber:
    """The number does not reach the debtor."""


@dataclass(frozen=True)
class ScheduleCallback:
    """Call back at this local date/time (the scheduler keeps it inside windows);
    ``None`` means the next time the windows allow."""

    at: dt.datetime | None


@dataclass(frozen=True)
class IdentifyCaller:
    """An inbound caller said who they are (chose a name, keyed a reference):
    the call belongs to this person's history from now on. Not a verification."""

    debtor_id: int


@dataclass(frozen=True)
class LookUpCaller:
    """Find who an inbound caller is by the reference they keyed; the service
    answers with a :class:`CallerLookup` event."""

    reference: str


@dataclass(frozen=True)
class CallerVerified:
    """The person on the line met the campaign's verification policy."""


@dataclass(frozen=True)
class SendPaymentDetails:
    """The verified caller agreed, in the call, to get the payment details by
    SMS. ``promises`` are the (date, cents) this call promised, in order: the
    message is about them; empty: about the open debt (asked before a promise).
    Whether it may go and what it says is the service's to decide."""

    promises: tuple[tuple[dt.date, int], ...] = ()


@dataclass(frozen=True)
class TransferToAgent:
    """Hand the call to a live agent; ``reason`` goes on the agent's screen."""

    reason: str


@dataclass(frozen=True)
class EndCall:
    """Hang up after everything queued has played."""

    reason: str = ""


@dataclass(frozen=True)
class LogTurn:
    """A turn for the call's event log (prompt id, text, confidence, DTMF)."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


Action = (
    Play
    | Listen
    | RecordOutcome
    | RecordPromise
    | RecordPlan
    | RecordAlreadyPaid
    | OptOut
    | OptOutNumber
    | ReportDeceased
    | MarkWrongNumber
    | ScheduleCallback
    | IdentifyCaller
    | LookUpCaller
    | CallerVerified
    | SendPaymentDetails
    | TransferToAgent
    | EndCall
    | LogTurn
)


@dataclass(frozen=True)
class CallContext:
    """What the dialog knows about the person and debt when the call starts."""

    locale: str
    first_name: str
    creditor: str
    company: str
    amount_cents: int
    currency: str
    due_date: dt.date
    today: dt.date
    birth_year: int | None = None
    # The campaign's verification policy (``ivr.vocab.verification``) and the
    # stored hash of the document's last digits (``ivr.document_digits``).
    verification: str = VerificationPolicy.NAME
    document_digits: str | None = None
    max_promise_days: int = 30
    installments: int = 3
    # The campaign's limits on a payment plan (ivr.plan_rules).
    max_instalments: int = 6
    max_plan_days: int = 180
    first_contact: bool = True
    callback_number: str = ""
    # How this call names the creditor, with its article (ivr.dialog.creditor_names);
    # "": none was set, a safe form is derived from ``creditor``.
    creditor_spoken: str = ""
    # The debtor's calendar (business days, holidays): ISO country and region;
    # no country means the locale's ("pt-BR" -> BR).
    country: str = ""
    region: str | None = None
    promise_on_closed_day: ClosedDayPromise = ClosedDayPromise.NEXT_BUSINESS_DAY

    @property
    def calendar_country(self) -> str:
        return self.country or self.locale.rsplit("-", 1)[-1]

    recorded: bool = False  # the carrier records this call: the notice says so
    # The service can text this debtor the payment details now (a mobile number
    # on this call, SMS allowed and not stopped, a way to pay on file): only then
    # is the caller asked "may I text you the payment details?".
    sms_possible: bool = False
    # Inbound: the person called us. ``candidates`` are the people the caller
    # may be (by caller ID, or the reference keyed), each with their own
    # context; the call speaks as one of them only once the caller chose.
    inbound: bool = False
    debtor_id: int | None = None
    candidates: tuple[CallContext, ...] = ()
