"""The audit log: who changed what, when, with each changed field's before and after."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.models.base import Base, string_enum, utcnow
from ivr.vocab.audit import AuditAction, AuditEntity


class AuditEntry(Base):
    """One change by one person (or by the service itself: no user).

    ``username`` is copied so the entry still says who acted after the user
    is renamed or gone; ``entity_id`` is text because not every entity has a
    numeric id (a do-not-call number, masked). ``changes`` is
    ``{field: [before, after]}`` and never holds a secret.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity", "entity_id", "at"),
        Index("ix_audit_log_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    username: Mapped[str | None] = mapped_column(String(80))
    entity: Mapped[AuditEntity] = mapped_column(string_enum(AuditEntity, length=30))
    entity_id: Mapped[str] = mapped_column(String(80))
    action: Mapped[AuditAction] = mapped_column(string_enum(AuditAction, length=30))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
