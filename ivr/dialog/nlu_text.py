"""Normalizing recognized or typed text before the NLU rules look at it.

Vosk in grammar mode gives lowercase words without punctuation, but the same
code also serves the ``ivr nlu`` command and keypad-less tests, where people
type accents or not, commas, ``R$ 100,50`` or ``$120.50``. Every rule matches
one canonical form, so the rules stay few:

* ``words``: lowercase, accent-free words, commas kept as their own ``,`` token
  (a comma separates "não, sexta" from "não sexta"), ``[unk]`` dropped;
* ``numeric``: the same after numbers said in words became digits
  (``alpha2digit``), currency signs became the words ``brl``/``usd``, and
  Portuguese weekdays became ``wd0``..``wd6`` (Monday = 0) *before* the number
  conversion, which would otherwise read "segunda" and "sexta" as ordinals
  (those that are ordinals, "segunda via", become ``nth``).

Intent phrases are matched on ``words`` (so "no one" is not "no 1"); slots are
read from ``numeric``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from text_to_num import alpha2digit

UNK = "[unk]"

LANGS = {"pt": "pt", "en": "en"}

# Portuguese weekday words (accent-free) -> Monday-based weekday number.
PT_WEEKDAYS = {
    "segunda": 0,
    "terca": 1,
    "quarta": 2,
    "quinta": 3,
    "sexta": 4,
    "sabado": 5,
    "domingo": 6,
}

# Nouns after which a weekday word is an ordinal ("segunda via" of a bill,
# "quinta parcela", "segunda vez"): those become the neutral token "nth".
_PT_ORDINAL_OF = {"via", "vias", "vez", "parcela", "prestacao", "parte", "chamada"}

# Number words that people type without their accent; alpha2digit needs it.
_PT_ACCENT_FIX = {"tres": "três"}

# "um"/"uma"/"one" are articles far more often than numbers ("uma pessoa",
# "tudo de uma vez", "one more time"). They count as the number 1 only next to
# a unit or another number; elsewhere they become the neutral token "art".
_ONE = {"pt": {"um", "uma"}, "en": {"one"}}
_ONE_BEFORE = {
    "pt": {"dia", "as", "a", "e", "pelas", "das", "umas"},
    "en": {"at", "and", "the", "after", "around", "before"},
}
_ONE_AFTER = {
    "pt": {
        "real",
        "reais",
        "dia",
        "dias",
        "semana",
        "semanas",
        "mes",
        "meses",
        "hora",
        "horas",
        "dolar",
        "dolares",
        "centavo",
        "centavos",
        "conto",
        "mil",
        "milhao",
    },
    "en": {
        "dollar",
        "dollars",
        "buck",
        "bucks",
        "cent",
        "cents",
        "day",
        "days",
        "week",
        "weeks",
        "month",
        "months",
        "hour",
        "hours",
        "hundred",
        "thousand",
        "million",
        "oclock",
        "pm",
        "am",
        "thirty",
        "fifteen",
        "forty",
        "fifty",
        "twenty",
        "ten",
    },
}


def _is_article(plain: list[str], i: int, lang: str) -> bool:
    if plain[i] not in _ONE[lang]:
        return False
    before = plain[i - 1] if i > 0 else ""
    after = plain[i + 1] if i + 1 < len(plain) else ""
    return before not in _ONE_BEFORE[lang] and after not in _ONE_AFTER[lang]


def strip_accents(text: str) -> str:
    """Remove diacritics ("amanhã" -> "amanha") so rules need one spelling."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def language_of(locale: str) -> str:
    """Map a locale tag ("pt-BR", "pt_BR", "en-US", "en") to "pt" or "en"."""
    lang = locale.replace("_", "-").split("-")[0].lower()
    if lang not in LANGS:
        raise ValueError(f"unsupported locale for understanding: {locale!r}")
    return LANGS[lang]


@dataclass(frozen=True)
class Normalized:
    """The two canonical forms of one utterance (see the module docstring)."""

    words: str
    numeric: str

    @property
    def tokens(self) -> list[str]:
        return self.words.split()


def _money_and_punctuation(text: str, lang: str) -> str:
    """Turn currency signs into words and locale number punctuation into dots."""
    text = re.sub(r"\b(?:r\$|rs\$)\s*", " brl ", text)
    text = re.sub(r"(?:us)?\$\s*(?=\d)", " usd ", text)
    text = re.sub(r"(?<![\w$])\$(?!\w)", " ", text)
    if lang == "pt":
        # 1.500,00 -> 1500.00 ; 100,50 -> 100.50
        text = re.sub(r"(?<=\d)\.(?=\d{3}(?!\d))", "", text)
        text = re.sub(r"(?<=\d),(?=\d{1,2}(?!\d))", ".", text)
    else:
        # 1,500.00 -> 1500.00
        text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)
    return text


def _tokenize(text: str, lang: str) -> list[str]:
    text = text.replace("’", "'").replace("‘", "'")
    text = text.replace(UNK, " ")
    text = _money_and_punctuation(text, lang)
    # Hyphens join words ("sexta-feira", "twenty-eight"): split them.
    text = re.sub(r"(?<=[^\W\d_])-(?=[^\W\d_])", " ", text)
    # Commas between words are a boundary the rules look at.
    text = re.sub(r",(?!\d)", " , ", text)
    # Keep digits with . / : (amounts, dates, times), letters, ordinals, apostrophes.
    text = re.sub(r"[^\w\s,./:'ºª]", " ", text)
    text = re.sub(r"(?<!\d)[./:]|[./:](?!\d)", " ", text)
    tokens = []
    for raw in text.split():
        tok = raw.strip("'")
        if not tok:
            continue
        if lang == "en":
            tok = tok.replace("'", "")  # don't -> dont, i'm -> im
        tokens.append(tok)
    # A leading or doubled comma carries nothing.
    cleaned: list[str] = []
    for tok in tokens:
        if tok == "," and (not cleaned or cleaned[-1] == ","):
            continue
        cleaned.append(tok)
    while cleaned and cleaned[-1] == ",":
        cleaned.pop()
    return cleaned


def normalize(text: str, lang: str) -> Normalized:
    """Build the canonical forms of ``text`` for language ``lang`` ("pt"/"en")."""
    lowered = unicodedata.normalize("NFC", text).lower()
    tokens = _tokenize(lowered, lang)
    plain = [strip_accents(t) for t in tokens]
    words = " ".join(plain)

    numeric_in: list[str] = []
    for i, (tok, flat) in enumerate(zip(tokens, plain, strict=True)):
        if _is_article(plain, i, lang):
            numeric_in.append("art")
        elif lang == "pt" and flat in PT_WEEKDAYS:
            after = plain[i + 1] if i + 1 < len(plain) else ""
            numeric_in.append("nth" if after in _PT_ORDINAL_OF else f"wd{PT_WEEKDAYS[flat]}")
        elif lang == "pt" and flat in _PT_ACCENT_FIX:
            numeric_in.append(_PT_ACCENT_FIX[flat])
        else:
            numeric_in.append(tok)
    converted = alpha2digit(" ".join(numeric_in), lang, threshold=0) if numeric_in else ""
    numeric = strip_accents(converted)
    numeric = re.sub(r"(\d)[ºª°]", r"\1", numeric)
    numeric = re.sub(r"\s+", " ", numeric).strip()
    return Normalized(words=words, numeric=numeric)
