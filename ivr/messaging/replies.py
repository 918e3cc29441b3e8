"""The texts of the SMS answers the service writes itself (the confirmations of
SAIR / VOLTAR), read from ``prompts/sms/<locale>.replies.yaml``.

Wording is data, reviewed and translated with the other texts; this module
only finds it. Other SMS texts (payment details, reminders) live in their own
files in the same folder: this loader reads only ``*.replies.yaml`` and
ignores keys it does not know, so the files can grow independently. A locale
without a file falls back to pt-BR, the product's first language, and a
missing key fails at start-up (:func:`check_replies`), not in front of a debtor.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from ivr.dialog.prompts import default_root
from ivr.vocab.locales import DEFAULT_LOCALE, LOCALES
from ivr.vocab.messages import SmsPurpose

REPLY_KEYS = (SmsPurpose.OPT_OUT_CONFIRMATION, SmsPurpose.OPT_IN_CONFIRMATION)


def replies_path(locale: str, root: Path | None = None) -> Path:
    return (root or default_root()) / "sms" / f"{locale}.replies.yaml"


@functools.lru_cache(maxsize=8)
def load_replies(locale: str, root: Path | None = None) -> dict[str, str]:
    """The locale's reply texts by key; every key of :data:`REPLY_KEYS` present."""
    path = replies_path(locale, root)
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of reply keys to texts")
    out: dict[str, str] = {}
    for key in REPLY_KEYS:
        text = raw.get(key.value)
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{path}: {key.value} is missing or empty")
        out[key.value] = " ".join(text.split())
    return out


def reply_text(purpose: SmsPurpose, locale: str) -> str:
    """The text of the ``purpose`` answer in ``locale`` (pt-BR for an unknown one)."""
    return load_replies(locale if locale in LOCALES else DEFAULT_LOCALE)[purpose.value]


def check_replies(root: Path | None = None) -> None:
    """Load every locale's replies (raises on a missing file or key)."""
    for locale in LOCALES:
        load_replies(locale, root)
