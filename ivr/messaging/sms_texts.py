"""SMS texts, filled in: payment details and reminders, per locale.

The words live in ``prompts/<locale>/sms.yaml`` (reviewed and translated with
the call's prompts); this module fills in the creditor, the amount in the
locale's written money format ("R$ 1.050,00", "$1,050.00"), the date in the
locale's written form ("30/09/2026", "09/30/2026") and the code, line or link.

Amounts are written with plain spaces: babel's no-break space is not in the
GSM alphabet and alone would turn a message into UCS-2 (70 characters a part
instead of 160). A text may not begin with a word that exposes the subject on
a lock screen ("DÍVIDA", "COBRANÇA", "DEBT"): the file is refused at load.
"""

from __future__ import annotations

import datetime as dt
import functools
import string
from dataclasses import dataclass
from pathlib import Path

import yaml

from ivr.agents.texts import money
from ivr.dialog.prompts import default_root
from ivr.messaging.payment_details import PaymentDetails
from ivr.vocab.locales import DEFAULT_LOCALE, LOCALES
from ivr.vocab.payments import PaymentMethod

TEXT_IDS = frozenset(
    {
        "payment_pix",
        "payment_boleto",
        "payment_link",
        "reminder",
        "how_pix",
        "how_boleto",
        "how_link",
        "how_none",
    }
)
PLACEHOLDERS = frozenset({"creditor", "amount", "date", "code", "how"})
FORBIDDEN_STARTS = ("dívida", "divida", "cobrança", "cobranca", "débito", "debt", "collection")
_PAYMENT_TEXT = {
    PaymentMethod.PIX_CODE: "payment_pix",
    PaymentMethod.PIX_GENERATED: "payment_pix",
    PaymentMethod.BOLETO: "payment_boleto",
    PaymentMethod.LINK: "payment_link",
}
_HOW_TEXT = {
    PaymentMethod.PIX_CODE: "how_pix",
    PaymentMethod.PIX_GENERATED: "how_pix",
    PaymentMethod.BOLETO: "how_boleto",
    PaymentMethod.LINK: "how_link",
}


class SmsTextError(Exception):
    """An SMS text file is malformed: a missing text, an unknown placeholder, a bad start."""


@dataclass(frozen=True)
class SmsTexts:
    locale: str
    date_format: str
    texts: dict[str, str]

    @classmethod
    def load(cls, locale: str, root: Path | None = None) -> SmsTexts:
        path = (root or default_root()) / locale / "sms.yaml"
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts = {str(k): str(v) for k, v in (doc.get("texts") or {}).items()}
        if set(texts) != TEXT_IDS:
            raise SmsTextError(f"{path}: texts must be exactly {sorted(TEXT_IDS)}")
        for text_id, text in texts.items():
            used = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            if used - PLACEHOLDERS:
                raise SmsTextError(f"{path}: {text_id} uses {sorted(used - PLACEHOLDERS)}")
            if text.strip().lower().startswith(FORBIDDEN_STARTS):
                raise SmsTextError(f"{path}: {text_id} begins with a word that exposes the debt")
        return cls(locale, str(doc["date_format"]), texts)

    def fill(self, text_id: str, **values: str) -> str:
        return self.texts[text_id].format_map(values)


@functools.lru_cache(maxsize=4)
def sms_texts(locale: str) -> SmsTexts:
    """The locale's texts; pt-BR, the product's first language, for any other."""
    return SmsTexts.load(locale if locale in LOCALES else DEFAULT_LOCALE)


def written_money(amount_cents: int, currency: str, locale: str) -> str:
    """The amount as the locale writes it, with plain spaces: "R$ 1.050,00", "$1,050.00"."""
    return money(amount_cents, currency, locale).replace("\xa0", " ").replace("\u202f", " ")


def written_date(day: dt.date, locale: str) -> str:
    """The date as the locale writes it: "30/09/2026", "09/30/2026"."""
    return day.strftime(sms_texts(locale).date_format)


def payment_message(details: PaymentDetails, locale: str) -> str:
    """The payment details message: creditor, amount, date and the code, line or link."""
    return sms_texts(locale).fill(
        _PAYMENT_TEXT[details.method],
        creditor=details.creditor,
        amount=written_money(details.amount_cents, details.currency, locale),
        date=written_date(details.pay_by, locale),
        code=details.value,
    )


def reminder_message(
    locale: str,
    *,
    creditor: str,
    amount_cents: int,
    currency: str,
    pay_by: dt.date,
    details: PaymentDetails | None,
) -> str:
    """A reminder before a promised date: creditor, amount, date, how to pay, how to stop.

    The Pix code and boleto line are not repeated (the payment message has
    them); a link, being short, is.
    """
    texts = sms_texts(locale)
    if details is None:
        how = texts.fill("how_none")
    else:
        how = texts.fill(_HOW_TEXT[details.method], code=details.value)
    return texts.fill(
        "reminder",
        creditor=creditor,
        amount=written_money(amount_cents, currency, locale),
        date=written_date(pay_by, locale),
        how=how,
    )
