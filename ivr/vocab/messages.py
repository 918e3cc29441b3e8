"""Written messages: their direction, why we sent them, where they stand at the
carrier, and the channels a debtor may be reached on.

Message status follows Twilio's Messages resource (``MessageStatus`` in status
callbacks); a message only moves forward (see :data:`SMS_STATUS_RANK`), because
callbacks may arrive in any order:

* ``queued`` / ``accepted`` / ``scheduled`` -- taken by the carrier, not yet out.
* ``sending`` / ``sent`` -- handed to the network.
* ``delivered`` -- the handset confirmed it (final).
* ``undelivered`` -- the network could not deliver it (final, with an error code).
* ``failed`` -- refused before it left (final: invalid number, opted out...).
* ``canceled`` -- a scheduled message that was cancelled (final).
* ``receiving`` / ``received`` / ``read`` -- inbound messages, and read receipts.

Purpose (why we wrote, so the SMS cap and the history can tell them apart):

* ``payment_details`` -- the verified debtor asked, in a call, for a way to pay.
* ``reminder`` -- the day(s) before a promised date or instalment.
* ``opt_out_confirmation`` / ``opt_in_confirmation`` -- the single answer to
  SAIR/PARAR/STOP or VOLTAR/START.
* ``reply`` -- anything else the debtor wrote (inbound), kept in the history.
"""

from __future__ import annotations

import enum


class SmsDirection(enum.StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class SmsPurpose(enum.StrEnum):
    PAYMENT_DETAILS = "payment_details"
    REMINDER = "reminder"
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"
    OPT_IN_CONFIRMATION = "opt_in_confirmation"
    REPLY = "reply"


class SmsStatus(enum.StrEnum):
    QUEUED = "queued"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELED = "canceled"
    RECEIVING = "receiving"
    RECEIVED = "received"
    READ = "read"


FINAL_SMS_STATUSES = frozenset(
    {
        SmsStatus.DELIVERED,
        SmsStatus.UNDELIVERED,
        SmsStatus.FAILED,
        SmsStatus.CANCELED,
        SmsStatus.RECEIVED,
        SmsStatus.READ,
    }
)

# A status callback never moves a message backwards: "sent" arriving after
# "delivered" changes nothing.
SMS_STATUS_RANK: dict[SmsStatus, int] = {
    SmsStatus.ACCEPTED: 0,
    SmsStatus.SCHEDULED: 0,
    SmsStatus.QUEUED: 1,
    SmsStatus.SENDING: 2,
    SmsStatus.SENT: 3,
    SmsStatus.RECEIVING: 3,
    SmsStatus.DELIVERED: 4,
    SmsStatus.UNDELIVERED: 4,
    SmsStatus.FAILED: 4,
    SmsStatus.CANCELED: 4,
    SmsStatus.RECEIVED: 4,
    SmsStatus.READ: 5,
}


class SmsKeyword(enum.StrEnum):
    """What a whole inbound message asks for (see :mod:`ivr.messaging.keywords`)."""

    OPT_OUT = "opt_out"  # SAIR, PARAR, STOP and their synonyms
    OPT_IN = "opt_in"  # VOLTAR, START and their synonyms


class Channel(enum.StrEnum):
    """How the service may reach a debtor (a debtor's preference names one)."""

    CALL = "call"
    SMS = "sms"
