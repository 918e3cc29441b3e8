"""How calls say a creditor's name, per locale (see ivr.dialog.creditor_names).

Keyed by the creditor's name exactly as debts carry it (``debts.creditor``),
not by a foreign key: a supervisor may set a spoken form before the portfolio
that uses it is imported, and debts keep their creditor as plain text.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.models.base import Base, string_enum, utcnow
from ivr.vocab.locales import Locale


class CreditorSpokenForm(Base):
    """One creditor's name as said in one locale: pt-BR with "de" and its
    article ("do Banco Horizonte"), en-US as said ("Bright Star Stores")."""

    __tablename__ = "creditor_spoken_forms"

    creditor: Mapped[str] = mapped_column(String(200), primary_key=True)
    locale: Mapped[Locale] = mapped_column(string_enum(Locale, length=10), primary_key=True)
    spoken: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
