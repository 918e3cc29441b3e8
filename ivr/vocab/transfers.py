"""A hand-off from the machine to a person: a transfer's status and its wrap-up outcome.

Statuses move ``requested -> dialing -> connected -> completed``; a caller
may wait ``queued`` on the way, and a transfer no agent answered ends
``abandoned``, ``callback`` or ``failed``. The transfer report counts them.

* ``requested`` -- the debtor asked for a person (or the machine could not help).
* ``dialing`` -- an agent's phone is ringing (they hear a one-sentence whisper).
* ``queued`` -- no agent was free: the caller is on hold in the queue.
* ``connected`` -- an agent answered; they are talking with the debtor.
* ``completed`` -- the conversation ended; the agent wraps up.
* ``callback`` -- the caller left the queue, accepting a call back later.
* ``abandoned`` -- the caller hung up before an agent answered.
* ``failed`` -- the call could not be brought to an agent or the queue.

The wrap-up outcome is what the agent records after talking (or ``callback``
when the caller took a callback from the queue); it is the agent's word, not
the call's :class:`~ivr.vocab.outcomes.Outcome`:

* ``promise`` -- the debtor promised to pay (the promise is recorded too).
* ``callback`` -- the debtor will be called back.
* ``paid`` -- the debtor showed or said they have paid.
* ``dispute`` -- the debtor disputes the debt.
* ``no_agreement`` -- they talked; nothing was agreed.
* ``wrong_person`` -- the agent found it was not the debtor.
* ``other`` -- anything else (see the notes).
"""

from __future__ import annotations

import enum


class TransferStatus(enum.StrEnum):
    REQUESTED = "requested"
    DIALING = "dialing"
    QUEUED = "queued"
    CONNECTED = "connected"
    COMPLETED = "completed"
    CALLBACK = "callback"
    ABANDONED = "abandoned"
    FAILED = "failed"


#: No agent has answered yet.
BEFORE_ANSWER: tuple[TransferStatus, ...] = (
    TransferStatus.REQUESTED,
    TransferStatus.DIALING,
    TransferStatus.QUEUED,
)
#: Not over yet: waiting for an agent or talking with one.
OPEN_TRANSFER_STATUSES: tuple[TransferStatus, ...] = (*BEFORE_ANSWER, TransferStatus.CONNECTED)


class TransferOutcome(enum.StrEnum):
    PROMISE = "promise"
    CALLBACK = "callback"
    PAID = "paid"
    DISPUTE = "dispute"
    NO_AGREEMENT = "no_agreement"
    WRONG_PERSON = "wrong_person"
    OTHER = "other"
