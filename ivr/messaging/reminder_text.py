"""The reminder SMS's words, per locale, from ``prompts/sms/<locale>.reminders.yaml``.

The text is data (reviewed and translated with the other prompts); this module
fills in the creditor, the amount in the locale's written money format
(R$ 1.050,00 / $1,050.00) and the date as the locale writes it (30/09/2026 /
09/30/2026), and refuses a template that would open with the word for "debt"
on a lock screen.
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
from ivr.vocab.locales import DEFAULT_LOCALE, LOCALES

# Words a message must never open with: a lock screen shows the first ones.
FORBIDDEN_OPENINGS = ("dívida", "divida", "debt", "débito", "debito", "cobrança", "cobranca")
FIELDS = frozenset({"creditor", "amount", "date"})


class ReminderTextError(ValueError):
    """A reminder file is missing, malformed, or its template breaks a rule."""


@dataclass(frozen=True)
class ReminderTemplate:
    locale: str
    text: str
    date_format: str
    currency: str


def _path(locale: str, root: Path | None) -> Path:
    return (root or default_root()) / "sms" / f"{locale}.reminders.yaml"


@functools.lru_cache(maxsize=8)
def load_template(locale: str, root: Path | None = None) -> ReminderTemplate:
    """The locale's template (pt-BR, the product's first language, for any other)."""
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE.value
    path = _path(locale, root)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ReminderTextError(f"{path}: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("reminder"), str):
        raise ReminderTextError(f"{path}: needs a 'reminder' text")
    text = raw["reminder"].strip()
    used = {name for _lit, name, _spec, _conv in _formatter_parse(text) if name}
    if not used <= FIELDS:
        raise ReminderTextError(f"{path}: unknown field(s) {sorted(used - FIELDS)}")
    if text.casefold().startswith(FORBIDDEN_OPENINGS):
        raise ReminderTextError(f"{path}: a reminder must not open with {text.split()[0]!r}")
    return ReminderTemplate(
        locale=locale,
        text=text,
        date_format=str(raw.get("date_format") or "%d/%m/%Y"),
        currency=str(raw.get("currency") or "BRL"),
    )


def _formatter_parse(text: str) -> list[tuple[str, str | None, str | None, str | None]]:
    try:
        return list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ReminderTextError(f"malformed placeholder: {exc}") from None


def written_money(amount_cents: int, currency: str, locale: str) -> str:
    """The amount as the locale writes it, with plain spaces (an SMS keeps to
    the characters every handset shows)."""
    return money(amount_cents, currency, locale).replace("\xa0", " ").replace("\u202f", " ")


def reminder_text(
    locale: str,
    *,
    creditor: str,
    amount_cents: int,
    promised_date: dt.date,
    currency: str | None = None,
    root: Path | None = None,
) -> str:
    """The reminder for one promise or instalment, in the debtor's locale."""
    tpl = load_template(locale, root)
    text = tpl.text.format(
        creditor=creditor.strip(),
        amount=written_money(amount_cents, currency or tpl.currency, tpl.locale),
        date=promised_date.strftime(tpl.date_format),
    )
    return " ".join(text.split())
