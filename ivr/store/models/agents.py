"""Agents who take transfers, and the transfers themselves."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.models.base import Base, string_enum, utcnow
from ivr.vocab.staff import Presence
from ivr.vocab.transfers import OPEN_TRANSFER_STATUSES, TransferOutcome, TransferStatus

# SQL for "waiting for an agent or talking with one" (the wallboard's queue).
_OPEN_SQL = "status IN ({})".format(", ".join(f"'{s.value}'" for s in OPEN_TRANSFER_STATUSES))


class Agent(Base):
    """A person who takes transfers; presence decides routing."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    endpoint: Mapped[str] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    presence: Mapped[Presence] = mapped_column(string_enum(Presence), default=Presence.OFFLINE)
    presence_since: Mapped[dt.datetime] = mapped_column(default=utcnow)
    wrapup_until: Mapped[dt.datetime | None] = mapped_column()


class Transfer(Base):
    """A hand-off from the machine to a person, with everything for the KPIs."""

    __tablename__ = "transfers"
    __table_args__ = (
        Index("ix_transfers_requested_at", "requested_at"),
        Index(
            "ix_transfers_open",
            "requested_at",
            postgresql_where=text(_OPEN_SQL),
            sqlite_where=text(_OPEN_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("call_attempts.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[TransferStatus] = mapped_column(
        string_enum(TransferStatus), default=TransferStatus.REQUESTED
    )
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[dt.datetime | None] = mapped_column()
    ended_at: Mapped[dt.datetime | None] = mapped_column()
    queue_wait_s: Mapped[float | None] = mapped_column()
    outcome: Mapped[TransferOutcome | None] = mapped_column(string_enum(TransferOutcome, length=30))
    notes: Mapped[str | None] = mapped_column(Text)
    tried_agent_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
