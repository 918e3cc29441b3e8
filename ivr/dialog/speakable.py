"""Amounts, dates and times written for the ear.

A speech synthesizer reads "R$ 1.234,50" or "28/11" badly or not at all, and
the read-back of a promise is the one sentence the debtor must understand. So
prompts get these values already in words, the way a person would say them:

* amounts in full words with singular/plural units ("um real", "dois reais",
  "cinquenta centavos", "um milhão de reais", "one thousand two hundred
  thirty-four dollars and fifty cents");
* dates with the weekday first, the year only when it is not this year, and
  "hoje"/"amanhã" ("today"/"tomorrow") in front when it is one of those days,
  because that is the first thing a person checks ("amanhã, sexta-feira, dia
  28 de novembro"; "tomorrow, Friday, November 28th");
* times with their part of the day and their preposition ("às três da tarde",
  "ao meio-dia", "at nine thirty in the morning");
* counts of feminine things in the feminine ("duas parcelas", not the
  synthesizer's "dois parcelas" for "2 parcelas");
* names as words: portfolios often come in capitals, and espeak-ng spells a
  short word in capitals letter by letter ("ANA" is "a, ene, a"); company names
  without the legal form nobody says aloud ("Ltda" comes out garbled);
* phone numbers as a person dictates them: in their own country's groups
  ("(11) 4000-1234", "(800) 555-0100"), digit by digit in words of the call's
  language, a pause between groups.
"""

from __future__ import annotations

import datetime as dt
import re

import phonenumbers
from babel.dates import format_date
from num2words import num2words

from ivr.dialog.nlu_text import language_of

# (singular, plural) unit names per language and currency.
_UNITS: dict[str, dict[str, tuple[str, str]]] = {
    "pt": {"BRL": ("real", "reais"), "USD": ("dólar", "dólares"), "EUR": ("euro", "euros")},
    "en": {"BRL": ("real", "reais"), "USD": ("dollar", "dollars"), "EUR": ("euro", "euros")},
}
_SUBUNITS: dict[str, dict[str, tuple[str, str]]] = {
    "pt": {
        "BRL": ("centavo", "centavos"),
        "USD": ("centavo", "centavos"),
        "EUR": ("cêntimo", "cêntimos"),
    },
    "en": {"BRL": ("centavo", "centavos"), "USD": ("cent", "cents"), "EUR": ("cent", "cents")},
}
_BABEL = {"pt": "pt_BR", "en": "en_US"}


def say_number(n: int, locale: str) -> str:
    """A whole number in words, without the commas and "and" of written style."""
    lang = language_of(locale)
    if lang == "pt":
        return num2words(n, lang="pt_BR").replace(",", "")
    words = num2words(n, lang="en").replace(",", "")
    return " ".join(w for w in words.split() if w != "and")


# Portuguese numerals that change in the feminine: 1, 2 and the hundreds 200-900.
_PT_FEMININE = {"um": "uma", "dois": "duas"}
_PT_HUNDREDS = re.compile(r"\b(duz|trez|quatroc|quinh|seisc|setec|oitoc|novec)entos\b")


def say_count(n: int, locale: str, feminine: bool = False) -> str:
    """How many of something, in words; ``feminine`` for a feminine noun in
    Portuguese ("duas parcelas", "vinte e uma parcelas"). English has one form."""
    words = say_number(n, locale)
    if not feminine or language_of(locale) != "pt":
        return words
    # Millions are masculine nouns ("dois milhões de parcelas"): only what
    # follows the last of them counts the feminine things.
    parts = words.split()
    start = max((i + 1 for i, w in enumerate(parts) if w.startswith(("milh", "bilh"))), default=0)
    tail = " ".join(_PT_FEMININE.get(w, w) for w in parts[start:])
    return " ".join([*parts[:start], _PT_HUNDREDS.sub(r"\1entas", tail)]).strip()


def say_name(name: str) -> str:
    """A person's name as a synthesizer reads it as a word: a name written in
    capitals ("MARIA", "ANA-LUÍSA") in ordinary case; other names as they are."""
    return " ".join(w.title() if w.isupper() else w for w in name.split())


# Legal forms at the end of a company name, which nobody says aloud.
_LEGAL_FORM = re.compile(
    r"[\s,–-]+(ltda\.?|s\.?\s?/?\s?a\.?|eireli|epp|me|inc\.?|llc|l\.l\.c\.|corp\.?|ltd\.?)$",
    re.IGNORECASE,
)


def say_company(name: str) -> str:
    """A company name as said aloud: "Lojas Renner Ltda." -> "Lojas Renner",
    "Acme Retail, Inc." -> "Acme Retail"."""
    spoken = " ".join(name.split())
    while (shorter := _LEGAL_FORM.sub("", spoken)) != spoken and shorter.strip():
        spoken = shorter
    return spoken


# Digits as dictated. Brazilians say "meia" (half a dozen) for six in phone
# numbers, because "seis" and "três" are easily confused on a telephone line.
_DIGITS = {
    "pt": ("zero", "um", "dois", "três", "quatro", "cinco", "meia", "sete", "oito", "nove"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
}
# Said instead of a number when the debtor's country has none configured
# (ivr.callback_numbers): true, and never a foreign number.
_NO_NUMBER = {"pt": "o número desta ligação", "en": "the number this call came from"}


def say_phone(number: str, locale: str) -> str:
    """A phone number read in its own country's national groups, each digit a
    word in the call's language: "+551140001234" in pt-BR is "um um, quatro
    zero zero zero, um dois três quatro"; "+18005550100" in en-US is "eight
    zero zero, five five five, zero one zero zero". No number: "the number
    this call came from"."""
    lang = language_of(locale)
    if not number.strip():
        return _NO_NUMBER[lang]
    text = number
    try:
        parsed = phonenumbers.parse(number, locale.split("-")[-1])
        text = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        pass
    groups = ["".join(ch for ch in part if ch.isdigit()) for part in text.replace("-", " ").split()]
    return ", ".join(" ".join(_DIGITS[lang][int(d)] for d in g) for g in groups if g)


def _with_unit(n: int, names: tuple[str, str], lang: str, locale: str) -> str:
    words = say_number(n, locale)
    if n == 1:
        return f"{words} {names[0]}"
    if lang == "pt" and n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{words} de {names[1]}"  # "um milhão de reais"
    return f"{words} {names[1]}"


def say_amount(cents: int, currency: str, locale: str) -> str:
    """``123450`` BRL pt-BR -> "mil duzentos e trinta e quatro reais e cinquenta centavos"."""
    if cents < 0:
        raise ValueError("an amount to say cannot be negative")
    lang = language_of(locale)
    code = currency.upper()
    if code not in _UNITS[lang]:
        raise ValueError(f"no spoken names for currency {currency!r}")
    whole, fraction = divmod(cents, 100)
    conj = "e" if lang == "pt" else "and"
    parts = []
    if whole or not fraction:
        parts.append(_with_unit(whole, _UNITS[lang][code], lang, locale))
    if fraction:
        parts.append(_with_unit(fraction, _SUBUNITS[lang][code], lang, locale))
    return f" {conj} ".join(parts)


def _en_ordinal(day: int) -> str:
    if 11 <= day % 100 <= 13:
        return f"{day}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def say_date(date: dt.date, locale: str, today: dt.date) -> str:
    """pt-BR "sexta-feira, dia 28 de novembro"; en-US "Friday, November 28th".

    The year is added only when it differs from today's; "hoje"/"amanhã"
    ("today"/"tomorrow") lead when the date is one of those days.
    """
    lang = language_of(locale)
    babel_locale = _BABEL[lang]
    weekday = format_date(date, "EEEE", locale=babel_locale)
    month = format_date(date, "MMMM", locale=babel_locale)
    if lang == "pt":
        day = "primeiro" if date.day == 1 else str(date.day)
        text = f"{weekday}, dia {day} de {month}"
        if date.year != today.year:
            text += f" de {date.year}"
        near = {0: "hoje", 1: "amanhã"}
    else:
        text = f"{weekday}, {month} {_en_ordinal(date.day)}"
        if date.year != today.year:
            text += f", {date.year}"
        near = {0: "today", 1: "tomorrow"}
    lead = near.get((date - today).days)
    return f"{lead}, {text}" if lead else text


def _pt_hour(h12: int) -> str:
    return {1: "uma", 2: "duas"}.get(h12) or say_number(h12, "pt-BR")


def say_time(time: dt.time, locale: str) -> str:
    """pt-BR "às três da tarde", "ao meio-dia"; en-US "at three in the afternoon"."""
    lang = language_of(locale)
    h, m = time.hour, time.minute
    if lang == "pt":
        minutes = "" if m == 0 else " e meia" if m == 30 else f" e {say_number(m, locale)}"
        if h == 12:
            return f"ao meio-dia{minutes}"
        if h == 0:
            return f"à meia-noite{minutes}"
        h12 = h % 12
        period = (
            "da madrugada"
            if h < 5
            else "da manhã"
            if h < 12
            else "da tarde"
            if h < 18
            else "da noite"
        )
        prep = "à" if h12 == 1 else "às"
        return f"{prep} {_pt_hour(h12)}{minutes} {period}"
    if m == 0 and h == 12:
        return "at noon"
    if m == 0 and h == 0:
        return "at midnight"
    h12 = h % 12 or 12
    if m == 0:
        minutes = ""
    elif m < 10:
        minutes = f" oh {say_number(m, locale)}"
    else:
        minutes = f" {say_number(m, locale)}"
    period = "in the morning" if h < 12 else "in the afternoon" if h < 18 else "in the evening"
    return f"at {say_number(h12, locale)}{minutes} {period}"
