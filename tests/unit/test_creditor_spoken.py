"""A creditor is named with its own article ("do Banco Horizonte", "da Loja
Estrela"), or in a form that needs none: never a fixed "da" glued to any name."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ivr.dialog.conversation import Dialog
from ivr.dialog.creditor_names import check_spoken_form, creditor_with_article
from ivr.dialog.events import CallAnswered, CallContext, Play, Speech
from ivr.dialog.flow_model import Flow
from ivr.dialog.prompt_values import base_variables
from ivr.dialog.prompts import PromptCatalog

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
TODAY = dt.date(2025, 11, 24)


@pytest.fixture(scope="module")
def flow() -> Flow:
    return Flow.load(prompts_root=PROMPTS)


def _reason_texts(flow: Flow, locale: str, creditor: str, spoken: str = "") -> list[str]:
    """Every wording of the reason for the call, as this debtor would hear it."""
    catalog = PromptCatalog.load(locale, root=PROMPTS)
    ctx = CallContext(
        locale=locale,
        first_name="Maria",
        creditor=creditor,
        creditor_spoken=spoken,
        company="Central Aurora",
        amount_cents=15090,
        currency="BRL" if locale == "pt-BR" else "USD",
        due_date=dt.date(2025, 10, 10),
        today=TODAY,
        callback_number="+551140028922",
    )
    d = Dialog(ctx, flow, catalog)
    d.start(CallAnswered())
    actions = d.handle(Speech("sim" if locale == "pt-BR" else "yes"))
    assert any(isinstance(a, Play) and a.prompt_id == "reason" for a in actions)
    values = base_variables(ctx)
    return [catalog.render("reason", values, v) for v in range(catalog.variants("reason"))]


def test_the_reason_names_the_creditor_with_its_own_article(flow: Flow) -> None:
    texts = _reason_texts(flow, "pt-BR", "Banco Horizonte S.A.", "do Banco Horizonte")
    assert all("do Banco Horizonte" in t for t in texts), texts
    assert not any("da Banco" in t or "S.A." in t for t in texts), texts
    texts = _reason_texts(flow, "pt-BR", "LOJA ESTRELA LTDA", "da Loja Estrela")
    assert all("da Loja Estrela" in t for t in texts), texts


def test_without_a_spoken_form_the_reason_needs_no_article(flow: Flow) -> None:
    for creditor in ("Banco Horizonte", "Loja Estrela"):
        texts = _reason_texts(flow, "pt-BR", creditor)
        assert all(f"de {creditor}" in t for t in texts), texts
        assert not any(f"da {creditor}" in t or f"do {creditor}" in t for t in texts), texts


def test_en_us_says_the_name_as_given(flow: Flow) -> None:
    texts = _reason_texts(flow, "en-US", "Bright Star Stores, Inc.")
    assert all("Bright Star Stores" in t and "Inc" not in t for t in texts), texts
    texts = _reason_texts(flow, "en-US", "Bright Star Stores, Inc.", "the Bright Star Stores")
    assert all("the Bright Star Stores" in t for t in texts), texts


@pytest.mark.parametrize(
    ("name", "locale", "said"),
    [
        ("Banco Horizonte S.A.", "pt-BR", "de Banco Horizonte"),
        ("Loja Estrela Ltda", "pt-BR", "de Loja Estrela"),
        # A name that begins with its own article contracts it with "de".
        ("O Boticário", "pt-BR", "do Boticário"),
        ("A Casa das Baterias", "pt-BR", "da Casa das Baterias"),
        ("As Americanas", "pt-BR", "das Americanas"),
        ("Bright Star Stores, Inc.", "en-US", "Bright Star Stores"),
    ],
)
def test_the_derived_form_is_safe(name: str, locale: str, said: str) -> None:
    assert creditor_with_article(name, "", locale) == said


def test_a_spoken_form_wins_over_the_derived_one() -> None:
    assert creditor_with_article("Banco Horizonte", "do Banco Horizonte", "pt-BR") == (
        "do Banco Horizonte"
    )
    assert creditor_with_article("BSS", "Bright Star Stores", "en-US") == "Bright Star Stores"


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("do  Banco Horizonte ", "pt-BR", "do Banco Horizonte"),
        ("Da Loja Estrela", "pt-BR", "Da Loja Estrela"),
        ("das Lojas Estrela", "pt-BR", "das Lojas Estrela"),
        ("de Horizonte", "pt-BR", "de Horizonte"),
        ("Bright Star Stores", "en-US", "Bright Star Stores"),
        ("the Horizon Bank", "en-US", "the Horizon Bank"),
    ],
)
def test_good_spoken_forms(text: str, locale: str, expected: str) -> None:
    assert check_spoken_form(text, locale) == expected


@pytest.mark.parametrize(
    ("text", "locale", "reason"),
    [
        ("Banco Horizonte", "pt-BR", "begin with de, da, do, das or dos"),
        ("do", "pt-BR", "begin with de, da, do, das or dos"),
        ("para o Banco", "pt-BR", "begin with de, da, do, das or dos"),
        ("   ", "pt-BR", "empty"),
        ("of Bright Star Stores", "en-US", 'without "of"'),
        ("do Banco", "fr-FR", "locale"),
    ],
)
def test_bad_spoken_forms_say_why(text: str, locale: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_spoken_form(text, locale)
