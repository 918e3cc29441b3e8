"""No prompt glues a fixed article to a name it does not know.

A creditor or company name comes from a portfolio: "Banco Horizonte" is
masculine, "Loja Estrela" feminine, "Lojas Renner" plural. A prompt that
writes "da {creditor}" says "da Banco Horizonte" to half the debtors. Names
are spoken either in a construction that needs no article ("em nome de
{company}") or through ``{creditor_with_article}``, which carries the
creditor's own preposition and article ("do Banco Horizonte").
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ivr.dialog.prompts import LOCALES, PromptCatalog

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"

#: Placeholders that stand for a name whose gender and number vary.
NAMES = ("creditor", "company", "first_name", "full_name", "creditor_with_article")
#: Words that agree with the name after them (pt-BR articles and their
#: contractions with de, em, por, a; the English article).
GLUED = (
    "a|o|as|os|da|do|das|dos|na|no|nas|nos|pela|pelo|pelas|pelos|à|ao|às|aos|"
    "dessa|desse|numa|num|the"
)
FIXED_ARTICLE = re.compile(rf"(?<!\w)({GLUED}) \{{({'|'.join(NAMES)})\}}", re.IGNORECASE)


@pytest.fixture(scope="module")
def texts() -> list[tuple[str, str, str]]:
    """(locale, id, raw text) of every prompt wording and every line."""
    out = []
    for loc in LOCALES:
        cat = PromptCatalog.load(loc, root=PROMPTS)
        for prompt_id, variants in cat.prompts.items():
            out += [(loc, prompt_id, text) for text in variants]
        out += [(loc, line_id, text) for line_id, text in cat.lines.items()]
    return out


def test_no_prompt_puts_a_fixed_article_before_a_name(texts) -> None:
    glued = [
        (loc, text_id, m.group(0))
        for loc, text_id, text in texts
        for m in FIXED_ARTICLE.finditer(text)
    ]
    assert glued == []


def test_the_check_catches_what_it_is_for() -> None:
    for bad in ("em nome da {creditor}", "assistente da {company}", "para o {creditor}"):
        assert FIXED_ARTICLE.search(bad), bad
    for good in ("em nome de {creditor}", "em nome {creditor_with_article}", "ligue para {x}"):
        assert not FIXED_ARTICLE.search(good), good
