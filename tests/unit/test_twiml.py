"""TwiML the service answers with: what the carrier is told to do on a transfer."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ivr.agents import texts
from ivr.telephony import twiml


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
            say_first=texts.pick(texts.HOLD, "pt-BR"),
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
    ("locale", "voice"), [("pt-BR", "Polly.Camila"), ("en-US", "Polly.Joanna")]
)
def test_lines_the_carrier_speaks_use_a_female_voice_of_the_locale(locale: str, voice: str) -> None:
    """<Say> defaults to "man"; the lines say "Obrigada", so the voice is a woman's."""
    doc = twiml.say_and_hangup("Obrigada pela ligação.", locale)
    say = ET.fromstring(doc).find("Say")
    assert say is not None
    assert (say.get("voice"), say.get("language")) == (voice, locale)
