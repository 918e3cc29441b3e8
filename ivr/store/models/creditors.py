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


PAYMENT_URL_MAX = 500  # a payment page's address (debts.payment_url)
PIX_CODE_MAX = 512  # the longest "copia e cola" a reader must accept


class Creditor(Base):
    """What the service knows about paying a creditor: its Pix key, if it gave one.

    Keyed by the name debts carry, like the spoken forms. With a key, a
    promise's payment details can be a static Pix code for the exact amount
    (ivr.messaging.payment_details); ``pix_merchant_name`` and ``pix_city`` are
    the receiver's name and city the payer's bank shows (BR Code fields 59 and
    60), kept in the code's plain characters.
    """

    __tablename__ = "creditors"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    pix_key: Mapped[str | None] = mapped_column(String(77))
    pix_merchant_name: Mapped[str | None] = mapped_column(String(25))
    pix_city: Mapped[str | None] = mapped_column(String(15))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
