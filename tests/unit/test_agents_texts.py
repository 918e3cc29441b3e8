"""Words around a transfer: what the caller and the agent hear, and the abandonment figure."""

from __future__ import annotations

import datetime as dt

import pytest

from ivr.agents import texts
from ivr.agents.reports import abandonment_rate


@pytest.mark.parametrize(
    ("locale", "digits", "speech", "expected"),
    [
        ("pt-BR", "1", None, True),
        ("pt-BR", "2", None, False),
        ("pt-BR", None, "sim, pode ligar", True),
        ("pt-BR", None, "não, obrigado", False),
        ("en-US", None, "yes please", True),
        ("en-US", None, "no", False),
        ("pt-BR", None, "hmm", False),
        ("pt-BR", None, None, None),
        ("pt-BR", "", "", None),
    ],
)
def test_is_yes(locale: str, digits: str | None, speech: str | None, expected: bool | None) -> None:
    assert texts.is_yes(locale, digits, speech) is expected


def test_whisper_names_person_amount_creditor_and_reason() -> None:
    pt = texts.whisper(
        "pt-BR", name="Maria Souza", reason="dispute", amount_cents=15050, creditor="Loja Estrela"
    )
    assert pt.startswith("Transferência: Maria Souza")
    assert "150,50" in pt and "Loja Estrela" in pt and "contesta a dívida" in pt
    en = texts.whisper(
        "en-US",
        name="John Doe",
        reason="cannot_pay",
        amount_cents=9900,
        currency="USD",
        creditor="Acme",
    )
    assert "$99.00" in en and "cannot pay now" in en
    assert texts.whisper("pt-BR", name="Ana", reason="x_y") == "Transferência: Ana. Motivo: x y."


def test_queue_position_and_callback_wording() -> None:
    assert "próxima da fila" in texts.queue_hold("pt-BR", 1)
    assert "2 pessoas antes de você" in texts.queue_hold("pt-BR", 3)
    due = dt.datetime(2026, 3, 3, 9, 0)
    assert "terça-feira" in texts.callback_confirmed("pt-BR", due, soon=False)
    assert "em breve" in texts.callback_confirmed("pt-BR", due, soon=True)
    assert "1" in texts.offer_callback("pt-BR")  # keypad alternative is spoken


def test_abandonment_rate() -> None:
    assert abandonment_rate(0, 0) == 0.0
    assert abandonment_rate(1, 4) == 0.25
    assert abandonment_rate(3, 3) == 1.0
