"""Written messages to and from debtors (SMS), one row per message.

A row is written *before* the carrier is asked to send (status ``queued``,
no ``message_sid`` yet), so a send that crashes half-way is visible, and is
then completed with the carrier's sid, status and error code. Status
callbacks only move a message forward (:data:`ivr.vocab.messages.SMS_STATUS_RANK`).
Inbound messages are kept too, with the debtor when the number is known.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.models.base import Base, string_enum, utcnow
from ivr.vocab.messages import SmsDirection, SmsPurpose, SmsStatus

REMINDER_LIVE = "purpose = 'reminder' AND status <> 'failed'"


class SmsMessage(Base):
    __tablename__ = "sms_messages"
    __table_args__ = (
        # The SMS cap: messages to one debtor on one local day.
        Index("ix_sms_messages_debtor_day", "debtor_id", "local_day"),
        # One live reminder per promise, whichever replica writes it (a refused
        # one leaves the index, so it may be tried again: scheduler.reminders).
        Index(
            "uq_sms_messages_promise_reminder",
            "promise_id",
            unique=True,
            postgresql_where=text(REMINDER_LIVE),
            sqlite_where=text(REMINDER_LIVE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int | None] = mapped_column(
        ForeignKey("debtors.id", ondelete="CASCADE"), index=True
    )
    debt_id: Mapped[int | None] = mapped_column(ForeignKey("debts.id", ondelete="SET NULL"))
    promise_id: Mapped[int | None] = mapped_column(ForeignKey("promises.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    # The call in which the debtor asked for it (payment details), if any.
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_attempts.id", ondelete="SET NULL")
    )
    direction: Mapped[SmsDirection] = mapped_column(string_enum(SmsDirection))
    purpose: Mapped[SmsPurpose] = mapped_column(string_enum(SmsPurpose, length=30))
    to_number: Mapped[str] = mapped_column(String(20))
    from_number: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(Integer, default=1)
    message_sid: Mapped[str | None] = mapped_column(String(40), unique=True)
    status: Mapped[SmsStatus] = mapped_column(string_enum(SmsStatus), default=SmsStatus.QUEUED)
    error_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    # The debtor's local day the message counts against (outbound only).
    local_day: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status_at: Mapped[dt.datetime | None] = mapped_column()
