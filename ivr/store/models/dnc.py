"""Do-not-call lists and the log of what supervisors did about a person.

Design: a number on a *list* (``dnc_numbers``) is kept apart from a number
whose answerer asked us directly (``number_opt_outs``). A list is an outside
registry (São Paulo's "Não Me Ligue", a creditor's own list, a court order):
it is imported, refreshed and removed as a whole, one number may be on several
lists, and each entry says where it came from and why. Removing a list must
never lift someone's own spoken opt-out, so the two are never mixed; the rule
book reads both (``scheduler.eligibility_load``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.models.base import Base, string_enum, utcnow
from ivr.vocab.debtors import DebtorActionKind

DNC_LIST_MAX = 80


class DncNumber(Base):
    """One number on one do-not-call list: never called (nor written to) while listed."""

    __tablename__ = "dnc_numbers"
    __table_args__ = (UniqueConstraint("list_name", "e164"), Index("ix_dnc_numbers_e164", "e164"))

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(DNC_LIST_MAX))
    e164: Mapped[str] = mapped_column(String(20))
    # Where the entry came from: "import:<file name>", "console", "api".
    source: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(String(200))
    added_by: Mapped[str] = mapped_column(String(80))
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DebtorAction(Base):
    """Who did what about a person, and when: opt-outs and opt-ins, wrong numbers,
    callbacks, and the LGPD requests (kept after an anonymisation: the log of a
    request is itself what the law asks us to show)."""

    __tablename__ = "debtor_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int | None] = mapped_column(
        ForeignKey("debtors.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[DebtorActionKind] = mapped_column(string_enum(DebtorActionKind, length=20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    by_user: Mapped[str] = mapped_column(String(80))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
