"""Outbound calls: each attempt, everything that happened in it, and the shared call rate."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ivr.store.models.base import Base, string_enum, utcnow
from ivr.vocab.attempts import AttemptDirection, AttemptStatus
from ivr.vocab.outcomes import Outcome
from ivr.vocab.recordings import RecordingStatus

# SQL for "this attempt is not final yet": the partial unique index below makes
# a second live outbound attempt for one debtor impossible, whatever the code
# does (migration 0012 limited it to outbound calls: a person may call us while
# a callback to them is being claimed). A new live status needs a migration.
_LIVE_SQL = (
    "direction = 'outbound' AND "
    "status IN ('claimed', 'unknown', 'queued', 'initiated', 'ringing', 'in-progress')"
)
# Recordings still held at the carrier: what the retention job looks through.
_KEPT_RECORDING_SQL = "recording_sid IS NOT NULL AND recording_deleted_at IS NULL"


class CallAttempt(Base):
    """One call with a debtor: outbound (claimed in the same transaction that
    checks the caps) or inbound (the person called us; never capped).

    An inbound call from a number no debtor has is nobody's until the caller
    identifies (``debtor_id`` NULL until then)."""

    __tablename__ = "call_attempts"
    __table_args__ = (
        Index("ix_call_attempts_debtor_claimed", "debtor_id", "claimed_at"),
        Index("ix_call_attempts_campaign_claimed", "campaign_id", "claimed_at"),
        Index("ix_call_attempts_status", "status"),
        # Today's attempts per campaign (the wallboard; the daily roll-ups too).
        # On PostgreSQL it carries what the wallboard counts, so today's
        # counts are an index-only scan instead of a visit to every row.
        Index(
            "ix_call_attempts_campaign_day",
            "campaign_id",
            "local_day",
            postgresql_include=["direction", "answered_at", "claimed_at"],
        ),
        # The carrier's sids are unique once known; an attempt has none until it
        # is placed (and most never record), so the indexes hold only those
        # that have one: a claim writes two index entries fewer per attempt.
        *(
            Index(
                f"uq_call_attempts_{col}",
                col,
                unique=True,
                postgresql_where=text(f"{col} IS NOT NULL"),
                sqlite_where=text(f"{col} IS NOT NULL"),
            )
            for col in ("call_sid", "recording_sid")
        ),
        Index(
            "uq_call_attempts_live_debtor",
            "debtor_id",
            unique=True,
            postgresql_where=text(_LIVE_SQL),
            sqlite_where=text(_LIVE_SQL),
        ),
        Index(
            "ix_call_attempts_recording_kept",
            "recording_started_at",
            postgresql_where=text(_KEPT_RECORDING_SQL),
            sqlite_where=text(_KEPT_RECORDING_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    debt_id: Mapped[int | None] = mapped_column(ForeignKey("debts.id", ondelete="SET NULL"))
    phone_id: Mapped[int | None] = mapped_column(ForeignKey("phones.id", ondelete="SET NULL"))
    # No index of its own: ix_call_attempts_campaign_claimed and _campaign_day lead with it.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id", ondelete="SET NULL"))
    # The debtor's side of the line: the number called, or (inbound) the caller ID.
    to_number: Mapped[str] = mapped_column(String(20))
    direction: Mapped[AttemptDirection] = mapped_column(
        string_enum(AttemptDirection, length=10),
        default=AttemptDirection.OUTBOUND,
        server_default=AttemptDirection.OUTBOUND.value,
    )
    # When the person on the line met the verification policy (none: never).
    verified_at: Mapped[dt.datetime | None] = mapped_column()
    call_sid: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[AttemptStatus] = mapped_column(
        string_enum(AttemptStatus), default=AttemptStatus.CLAIMED
    )
    last_sequence: Mapped[int] = mapped_column(Integer, default=-1)
    answered_by: Mapped[str | None] = mapped_column(String(30))
    outcome: Mapped[Outcome | None] = mapped_column(string_enum(Outcome, length=30))
    duration_s: Mapped[int | None] = mapped_column(Integer)
    local_day: Mapped[dt.date] = mapped_column(Date)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    placed_at: Mapped[dt.datetime | None] = mapped_column()
    answered_at: Mapped[dt.datetime | None] = mapped_column()
    ended_at: Mapped[dt.datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    # A supervisor's override of the frequency limits (``ivr call --override-caps``):
    # who, why and which limits it set aside; when is ``claimed_at``.
    override_by: Mapped[str | None] = mapped_column(String(64))
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_codes: Mapped[str | None] = mapped_column(String(64))
    # The call recording. ``recording_requested`` is decided once, before the
    # call is placed, from the campaign's ``record_calls``: the carrier is
    # asked to record exactly when it is true, and only then does the call say
    # so. Sid, status, duration and URL come from the carrier's callbacks;
    # ``recording_deleted_at`` is set once the carrier confirmed the deletion.
    recording_requested: Mapped[bool | None] = mapped_column(Boolean)
    recording_sid: Mapped[str | None] = mapped_column(String(40))
    recording_status: Mapped[RecordingStatus | None] = mapped_column(string_enum(RecordingStatus))
    recording_duration_s: Mapped[int | None] = mapped_column(Integer)
    recording_url: Mapped[str | None] = mapped_column(Text)
    recording_started_at: Mapped[dt.datetime | None] = mapped_column()
    recording_deleted_at: Mapped[dt.datetime | None] = mapped_column()

    events: Mapped[list[CallEvent]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan", order_by="CallEvent.id"
    )


class CallEvent(Base):
    """Everything that happened in a call: carrier statuses, turns, DTMF, actions."""

    __tablename__ = "call_events"
    __table_args__ = (
        Index("ix_call_events_kind_at", "kind", "at"),
        UniqueConstraint("attempt_id", "dedupe_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("call_attempts.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set for events a carrier may deliver twice (status callbacks): the
    # database, not a read-then-write, makes the second one a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(String(40))

    attempt: Mapped[CallAttempt] = relationship(back_populates="events")


class PacingSlot(Base):
    """The next free instant of a rate shared by every replica (the account's CPS).

    See ``scheduler.pacing``: one row per carrier account, moved on by one
    atomic statement per call.
    """

    __tablename__ = "pacing_slots"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_at: Mapped[dt.datetime] = mapped_column()
    # The instants of the last ``rate`` takes, oldest first (NULL: none yet): a
    # new one must be a second after the oldest (a sliding one-second window).
    recent: Mapped[list[dt.datetime] | None] = mapped_column(
        ARRAY(DateTime(timezone=True)).with_variant(JSON(), "sqlite")
    )
