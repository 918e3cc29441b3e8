"""The SMS keywords: the whole message, any case, accents and punctuation around it."""

from __future__ import annotations

import pytest

from ivr.messaging.keywords import fold, keyword
from ivr.messaging.sms_texts import check_replies, reply_text
from ivr.telephony import twiml
from ivr.vocab.messages import SmsKeyword, SmsPurpose


@pytest.mark.parametrize(
    "body",
    [
        "SAIR",
        " sair ",
        "Sair.",
        "PARAR!",
        "párar",
        "Pàrar",
        "stop",
        "STOP!!!",
        "StopAll",
        "unsubscribe",
        "cancel",
        "END",
        "quit",
        "Cancelar",
        "DESCADASTRAR",
        "\tstop\n",
        "«parar»",
    ],
)
def test_opt_out_words(body: str) -> None:
    assert keyword(body) is SmsKeyword.OPT_OUT


@pytest.mark.parametrize("body", ["VOLTAR", " voltar! ", "start", "Unstop", "YES", "vóltar"])
def test_opt_in_words(body: str) -> None:
    assert keyword(body) is SmsKeyword.OPT_IN


@pytest.mark.parametrize(
    "body",
    ["", "   ", "stop it", "não quero parar", "sairei", "paga", "123", "s a i r", "stop" * 20],
)
def test_not_keywords(body: str) -> None:
    assert keyword(body) is None


def test_fold() -> None:
    assert fold("  PÁRAR!! ") == "parar"
    assert fold("...") == ""


def test_replies_exist_for_every_locale_and_answer_as_twiml() -> None:
    check_replies()
    for locale in ("pt-BR", "en-US"):
        for purpose in (SmsPurpose.OPT_OUT_CONFIRMATION, SmsPurpose.OPT_IN_CONFIRMATION):
            text = reply_text(purpose, locale)
            assert text and not text.upper().startswith("DÍVIDA")
    assert reply_text(SmsPurpose.OPT_OUT_CONFIRMATION, "xx-XX") == reply_text(
        SmsPurpose.OPT_OUT_CONFIRMATION, "pt-BR"
    )
    xml = twiml.message(
        "Até logo & obrigado", status_url="https://ivr.test/twilio/sms-status?sms=7"
    )
    assert "<Response><Message" in xml and "Até logo &amp; obrigado</Message></Response>" in xml
    assert twiml.message(None).endswith("<Response />")
