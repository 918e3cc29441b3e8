"""Transfer TwiML and words: what the carrier is told and what people hear."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from ivr.agents import texts, twiml
from ivr.agents.reports import abandonment_rate


def parse(doc: str) -> ET.Element:
    root = ET.fromstring(doc)
    assert root.tag == "Response"
    return root


@pytest.mark.parametrize(
    ("endpoint", "noun", "target"),
    [
        ("client:ana", "Client", "ana"),
        ("sip:ana@pbx.example", "Sip", "sip:ana@pbx.example"),
        ("+5511999990000", "Number", "+5511999990000"),
    ],
)
def test_dial_rings_the_endpoint_with_a_whisper(endpoint: str, noun: str, target: str) -> None:
    root = parse(
        twiml.dial(
            endpoint,
            action="https://ivr.test/agents/dial-status?transfer=7",
            whisper_url="https://ivr.test/agents/whisper?transfer=7",
            locale="pt-BR",
            say_first=texts.HOLD["pt-BR"],
        )
    )
    say, dial = list(root)
    assert say.tag == "Say" and say.get("language") == "pt-BR"
    assert (
        say.text == "Um momento, vou chamar uma pessoa da nossa equipe para continuar a conversa."
    )
    assert dial.tag == "Dial" and dial.get("timeout") == "20"
    assert dial.get("action") == "https://ivr.test/agents/dial-status?transfer=7"
    (child,) = list(dial)
    assert child.tag == noun and child.text == target
    assert child.get("url") == "https://ivr.test/agents/whisper?transfer=7"


def test_enqueue_names_the_queue_and_its_urls() -> None:
    root = parse(
        twiml.enqueue(
            wait_url="https://w/?transfer=1", action="https://a/?transfer=1", locale="en-US"
        )
    )
    (enq,) = list(root)
    assert enq.tag == "Enqueue" and enq.text == "debtors"
    assert enq.get("waitUrl") == "https://w/?transfer=1"
    assert enq.get("action") == "https://a/?transfer=1"


def test_callback_offer_listens_for_keypad_and_speech() -> None:
    root = parse(twiml.offer_callback("Quer?", action="https://o/", locale="pt-BR"))
    (gather,) = list(root)
    assert gather.tag == "Gather" and gather.get("input") == "dtmf speech"
    assert gather.get("numDigits") == "1" and gather.get("language") == "pt-BR"
    assert gather[0].tag == "Say" and gather[0].text == "Quer?"


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
