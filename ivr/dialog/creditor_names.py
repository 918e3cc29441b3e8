"""How a call names the creditor: with the creditor's own article, or in a form that needs none.

Portuguese puts an article before a company name, and the article agrees
with the name: "do Banco Horizonte", "da Loja Estrela", "das Lojas Renner".
A portfolio gives only the name, and a prompt that writes "da {creditor}"
says "da Banco Horizonte" to half the debtors. So the prompts name the
creditor through ``{creditor_with_article}``:

* pt-BR: the name after the preposition "de" contracted with its article,
  as the prompts say it after "em nome" or "uma conta". A supervisor sets it
  per creditor (import column ``creditor_spoken``, or the creditors API);
  without one the safe form is "de Banco Horizonte", which needs no article
  (a name that begins with its own article contracts it: "do Boticário").
* en-US: the name as said ("Bright Star Stores", "the Horizon Bank"); without
  one, the name without its legal form.
"""

from __future__ import annotations

from ivr.dialog.nlu_text import language_of
from ivr.dialog.speakable import say_company
from ivr.vocab.locales import LOCALES

#: "de" and its contractions with the articles: how a pt-BR spoken form begins.
PT_LEADS = ("de", "da", "do", "das", "dos")
_PT_CONTRACTED = {"o": "do", "a": "da", "os": "dos", "as": "das"}


def check_spoken_form(text: str, locale: str) -> str:
    """``text`` with its spaces collapsed if prompts of ``locale`` can say it
    after "em nome" / "on behalf of"; ValueError saying why not.

    What any free text must be (no control characters, no spreadsheet
    formula, a length limit) is checked first by the caller, as for every
    other imported text (``ivr.store.import_rows.plain_text``)."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}: one of {', '.join(LOCALES)}")
    spoken = " ".join(text.split())
    if not spoken:
        raise ValueError("is empty")
    first, _, rest = spoken.partition(" ")
    if language_of(locale) == "pt":
        if first.lower() not in PT_LEADS or not rest:
            raise ValueError(
                "must begin with de, da, do, das or dos and the name, as said after "
                '"em nome": e.g. "do Banco Horizonte", "da Loja Estrela"'
            )
    elif first.lower() == "of":
        raise ValueError('is said after "on behalf of": give it without "of"')
    return spoken


def creditor_with_article(name: str, spoken: str, locale: str) -> str:
    """The creditor as ``{creditor_with_article}`` says it: ``spoken`` (the form
    set for this creditor and locale) when there is one, else a safe form."""
    if spoken:
        return spoken
    plain = say_company(name)
    if language_of(locale) != "pt":
        return plain
    first, _, rest = plain.partition(" ")
    contracted = _PT_CONTRACTED.get(first.lower())
    if contracted and rest:
        return f"{contracted} {rest}"
    return f"de {plain}"
