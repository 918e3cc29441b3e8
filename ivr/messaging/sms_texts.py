"""Every SMS text the service writes, filled in: payment details and reminders, per locale.

The words live in ``prompts/<locale>/sms.yaml`` beside the call's prompts (reviewed
and translated with them); this module is the one place that loads them, checks
them and fills in the creditor, the amount in the locale's written money format
("R$ 1.050,00", "$1,050.00"), the date in the locale's written form
("30/09/2026", "09/30/2026") and, for payment details, the code, line or link.

Amounts are written with plain spaces: babel's no-break space is not in the
GSM alphabet and alone would turn a message into UCS-2 (70 characters a part
instead of 160; see :mod:`ivr.messaging.segments`).

Every text in the file, in ``texts`` and in any other section of texts a later
use adds, passes one check at load (:func:`check_text`): well-formed
placeholders, only the fields its message fills in, and never an opening word
that exposes the subject on a lock screen ("DÍVIDA", "COBRANÇA", "DEBT").
"""

from __future__ import annotations

import datetime as dt
import functools
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ivr.agents.texts import money
from ivr.dialog.prompts import default_root
from ivr.messaging.payment_details import PaymentDetails
from ivr.vocab.locales import DEFAULT_LOCALE, LOCALES
from ivr.vocab.messages import SmsPurpose
from ivr.vocab.payments import PaymentMethod

# The fields each required text may use: filling in is strict, so a text that
# names a field its message does not have is refused at load, not at send.
_PAYMENT_FIELDS = frozenset({"creditor", "amount", "date", "code"})
_OPEN_FIELDS = frozenset({"creditor", "amount", "code"})
TEXT_FIELDS: Mapping[str, frozenset[str]] = {
    "payment_pix": _PAYMENT_FIELDS,
    "payment_boleto": _PAYMENT_FIELDS,
    "payment_link": _PAYMENT_FIELDS,
    # Asked for before any promise: what is open, no date agreed.
    "open_pix": _OPEN_FIELDS,
    "open_boleto": _OPEN_FIELDS,
    "open_link": _OPEN_FIELDS,
    "reminder": frozenset({"creditor", "amount", "date"}),
}
# Words a message must never open with: a lock screen shows the first ones.
FORBIDDEN_OPENINGS = (
    "dívida",
    "divida",
    "débito",
    "debito",
    "cobrança",
    "cobranca",
    "debt",
    "collection",
)
_SCALARS = frozenset({"locale", "date_format"})
_PAYMENT_TEXT = {
    PaymentMethod.PIX_CODE: "payment_pix",
    PaymentMethod.PIX_GENERATED: "payment_pix",
    PaymentMethod.BOLETO: "payment_boleto",
    PaymentMethod.LINK: "payment_link",
}


class SmsTextError(ValueError):
    """An SMS text file is missing or malformed, or one of its texts breaks a rule."""


def check_text(where: str, text: str, fields: frozenset[str] | None = None) -> None:
    """Refuse a text with a malformed or unexpected placeholder, or a bad opening word.

    ``fields`` None accepts any field name (a section whose fields this module
    does not know yet); the opening is always checked.
    """
    try:
        used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise SmsTextError(f"{where}: malformed placeholder: {exc}") from None
    if "" in used or any(not name.isidentifier() for name in used):
        raise SmsTextError(f"{where}: placeholders must be named, like {{creditor}}")
    if fields is not None and used - fields:
        raise SmsTextError(f"{where}: unknown field(s) {sorted(used - fields)}")
    if text.strip().casefold().startswith(FORBIDDEN_OPENINGS):
        raise SmsTextError(f"{where}: must not open with {text.split()[0]!r}")


REPLY_PURPOSES = (SmsPurpose.OPT_OUT_CONFIRMATION, SmsPurpose.OPT_IN_CONFIRMATION)


def resolve_locale(locale: str | None) -> str:
    """The locale itself if the service speaks it, else pt-BR (the product's first language)."""
    return locale if locale in LOCALES else DEFAULT_LOCALE.value


@dataclass(frozen=True)
class SmsTexts:
    """One locale's file: its date format and its sections of texts (``texts`` always)."""

    locale: str
    date_format: str
    sections: Mapping[str, Mapping[str, str]]

    @property
    def texts(self) -> Mapping[str, str]:
        return self.sections["texts"]

    @classmethod
    def load(cls, locale: str, root: Path | None = None) -> SmsTexts:
        path = (root or default_root()) / locale / "sms.yaml"
        try:
            doc: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise SmsTextError(f"{path}: {exc}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("date_format"), str):
            raise SmsTextError(f"{path}: needs a date_format and a 'texts' section")
        sections: dict[str, dict[str, str]] = {}
        for name, section in doc.items():
            if name in _SCALARS:
                continue
            if not isinstance(section, dict) or not all(
                isinstance(v, str) for v in section.values()
            ):
                raise SmsTextError(f"{path}: {name} must map text ids to texts")
            sections[str(name)] = {str(k): v.strip() for k, v in section.items()}
        texts = sections.get("texts", {})
        if set(texts) != set(TEXT_FIELDS):
            raise SmsTextError(f"{path}: texts must be exactly {sorted(TEXT_FIELDS)}")
        for name, section in sections.items():
            for text_id, text in section.items():
                fields = TEXT_FIELDS[text_id] if name == "texts" else None
                check_text(f"{path}: {name}.{text_id}", text, fields)
        return cls(locale, doc["date_format"], sections)

    def fill(self, text_id: str, section: str = "texts", **values: str) -> str:
        return self.sections[section][text_id].format_map(values)


@functools.lru_cache(maxsize=4)
def sms_texts(locale: str) -> SmsTexts:
    """The locale's texts (pt-BR for a locale the service does not speak)."""
    return SmsTexts.load(resolve_locale(locale))


def written_money(amount_cents: int, currency: str, locale: str) -> str:
    """The amount as the locale writes it, with plain spaces: "R$ 1.050,00", "$1,050.00"."""
    text = money(amount_cents, currency, resolve_locale(locale))
    return text.replace("\xa0", " ").replace("\u202f", " ")


def written_date(day: dt.date, locale: str) -> str:
    """The date as the locale writes it: "30/09/2026", "09/30/2026"."""
    return day.strftime(sms_texts(locale).date_format)


def payment_message(details: PaymentDetails, locale: str) -> str:
    """The payment details message: creditor, amount, date and the code, line or link."""
    return sms_texts(locale).fill(
        _PAYMENT_TEXT[details.method]
        if details.agreed
        else _PAYMENT_TEXT[details.method].replace("payment_", "open_"),
        creditor=details.creditor.strip(),
        amount=written_money(details.amount_cents, details.currency, locale),
        date=written_date(details.pay_by, locale),
        code=details.value,
    )


def reminder_message(
    locale: str, *, creditor: str, amount_cents: int, currency: str, pay_by: dt.date
) -> str:
    """The reminder before a promised date or instalment: creditor, amount, date, how to stop.

    It carries no code or line: the reminder job does not know that one was
    sent, and a lock screen should show no more than needed.
    """
    return sms_texts(locale).fill(
        "reminder",
        creditor=creditor.strip(),
        amount=written_money(amount_cents, currency, locale),
        date=written_date(pay_by, locale),
    )


def reply_text(purpose: SmsPurpose, locale: str) -> str:
    """The single answer to SAIR / VOLTAR (``replies`` section), one line."""
    return " ".join(sms_texts(locale).fill(purpose.value, section="replies").split())


def check_replies() -> None:
    """Every locale has both confirmations: a missing one fails at start-up, not at a STOP."""
    for locale in LOCALES:
        replies = sms_texts(locale).sections.get("replies", {})
        missing = [p.value for p in REPLY_PURPOSES if p.value not in replies]
        if missing:
            raise SmsTextError(f"{locale}: replies lack {', '.join(missing)}")
