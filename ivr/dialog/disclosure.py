"""Words that tell whoever answers that the call is about a debt.

The greeting speaks the campaign's company name before anyone is verified, so
a name like "Cobrança Rápida" or "ABC Collections" tells a relative, a
colleague or a stranger what the call is about. Such a name is not refused
(it may be the company's legal name, and changing it is a business decision),
but every place that sets it warns, naming the words.
"""

from __future__ import annotations

import re
import unicodedata

#: Per language, phrases that reveal collection (matched as whole words,
#: ignoring case and accents).
REVEALING_PHRASES: dict[str, tuple[str, ...]] = {
    "pt-BR": (
        "cobrança",
        "cobranças",
        "cobradora",
        "recuperação de crédito",
        "recuperadora",
        "dívida",
        "dívidas",
        "débito",
        "débitos",
        "inadimplência",
    ),
    "en-US": ("collection", "collections", "collector", "collectors", "recovery", "debt", "debts"),
}


def _fold(text: str) -> str:
    """Lowercase without accents, runs of spaces made one."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return " ".join(plain.lower().split())


_PATTERNS = [
    (phrase, re.compile(rf"\b{re.escape(_fold(phrase))}\b"))
    for phrases in REVEALING_PHRASES.values()
    for phrase in phrases
]


def revealing_words(text: str) -> list[str]:
    """The phrases of :data:`REVEALING_PHRASES` that ``text`` contains (in any
    language: a Brazilian campaign may still use an English name)."""
    folded = _fold(text)
    return [phrase for phrase, pattern in _PATTERNS if pattern.search(folded)]
