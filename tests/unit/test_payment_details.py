"""What a promise's payment message carries, and how it reads in each locale."""

from __future__ import annotations

import binascii
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr.messaging.payment_details import (
    PaymentDetails,
    choose_payment_details,
    payment_details_for_promise,
    promise_txid,
)
from ivr.messaging.segments import count_segments
from ivr.messaging.sms_texts import SmsTextError, SmsTexts, payment_message
from ivr.store.creditors import CreditorPix, set_creditor_pix
from ivr.store.models import Debt, Debtor, Promise
from ivr.vocab.payments import PaymentMethod

BCB_EXAMPLE = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)
LINE = "00190500954014481606906809350314337370000000100"
PIX = CreditorPix("cobranca@horizonte.com.br", "Banco Horizonte", "Sao Paulo")
DAY = dt.date(2026, 9, 30)


@dataclass
class FakeDebt:
    creditor: str = "Banco Horizonte"
    currency: str = "BRL"
    pix_code: str | None = None
    boleto_line: str | None = None
    payment_url: str | None = None


def _choose(debt: FakeDebt, pix: CreditorPix | None = PIX) -> PaymentDetails | None:
    return choose_payment_details(debt, pix, amount_cents=105_000, pay_by=DAY, txid="PRM0000000042")


def test_txid_names_the_promise() -> None:
    assert promise_txid(42) == "PRM0000000042"
    assert promise_txid(42, instalment=2) == "PRM0000000042P02"
    assert promise_txid(42).isalnum() and len(promise_txid(10**12, 999)) <= 25


def test_the_order_of_choice() -> None:
    everything = FakeDebt(
        pix_code=BCB_EXAMPLE, boleto_line=LINE, payment_url="https://p.example.com"
    )
    first = _choose(everything)
    assert first is not None and (first.method, first.value) == (
        PaymentMethod.PIX_CODE,
        BCB_EXAMPLE,
    )
    everything.pix_code = None
    made = _choose(everything)
    assert made is not None and made.method is PaymentMethod.PIX_GENERATED
    # The code made here pays the exact amount to the creditor's key, tagged with the promise.
    assert "54071050.00" in made.value and "0513PRM0000000042" in made.value
    assert "cobranca@horizonte.com.br" in made.value and made.txid == "PRM0000000042"
    body, crc = made.value[:-4], made.value[-4:]
    assert f"{binascii.crc_hqx(body.encode(), 0xFFFF):04X}" == crc
    boleto = _choose(everything, pix=None)
    assert boleto is not None and boleto.method is PaymentMethod.BOLETO
    assert boleto.value == "00190.50095 40144.816069 06809.350314 3 37370000000100"
    everything.boleto_line = None
    link = _choose(everything, pix=None)
    assert link is not None and (link.method, link.value) == (
        PaymentMethod.LINK,
        "https://p.example.com",
    )
    assert _choose(FakeDebt(), pix=None) is None
    # No Pix code is made for a debt in dollars.
    assert _choose(FakeDebt(currency="USD")) is None


def _details(method: PaymentMethod, value: str) -> PaymentDetails:
    return PaymentDetails(method, value, "Banco Horizonte", 105_000, "BRL", DAY)


def test_payment_message_pt_br() -> None:
    text = payment_message(_details(PaymentMethod.PIX_GENERATED, BCB_EXAMPLE), "pt-BR")
    assert text == (
        "Banco Horizonte - pagamento combinado: R$ 1.050,00 em 30/09/2026. Pix copia e cola:\n"
        + BCB_EXAMPLE
    )
    # Plain GSM characters only: no accent, no no-break space, so 160 a part.
    assert text.isascii()
    boleto = payment_message(_details(PaymentMethod.BOLETO, "00190.50095 ..."), "pt-BR")
    assert "Linha do boleto:\n00190.50095" in boleto
    # A locale the service does not speak gets all of pt-BR, money included.
    pix = _details(PaymentMethod.PIX_CODE, BCB_EXAMPLE)
    assert payment_message(pix, "ko-KR") == payment_message(pix, "pt-BR")


def test_a_pix_message_costs_two_gsm_segments() -> None:
    """A typical pt-BR payment message with the Pix code made here for the
    promise: 240 GSM-7 characters, two parts. One "ã" around the code would
    send all of it as UCS-2: four parts."""
    made = _choose(FakeDebt())
    assert made is not None and made.method is PaymentMethod.PIX_GENERATED
    text = payment_message(made, "pt-BR")
    cost = count_segments(text)
    assert (cost.encoding, cost.segments, cost.units) == ("GSM-7", 2, 240)
    accented = count_segments(text.replace("combinado", "combinado não"))
    assert (accented.encoding, accented.segments) == ("UCS-2", 4)


def test_payment_message_en_us() -> None:
    text = payment_message(_details(PaymentMethod.LINK, "https://p.example.com/a"), "en-US")
    assert text == (
        "Banco Horizonte - agreed payment: R$1,050.00 on 09/30/2026. Pay at https://p.example.com/a"
    )


def test_no_text_begins_with_the_subject(tmp_path: Path) -> None:
    for locale in ("pt-BR", "en-US"):
        texts = SmsTexts.load(locale)
        assert all(not t.upper().startswith(("DÍVIDA", "DEBT")) for t in texts.texts.values())
    bad = tmp_path / "pt-BR"
    bad.mkdir()
    source = (Path("prompts") / "pt-BR" / "sms.yaml").read_text(encoding="utf-8")
    (bad / "sms.yaml").write_text(
        source.replace('payment_link: "{creditor}', 'payment_link: "COBRANÇA {creditor}'),
        encoding="utf-8",
    )
    with pytest.raises(SmsTextError, match="payment_link"):
        SmsTexts.load("pt-BR", tmp_path)


async def test_details_for_a_stored_promise(sessions) -> None:
    async with sessions() as s, s.begin():
        debtor = Debtor(external_ref="PX-1", name="Maria Silva")
        debt = Debt(
            creditor="Banco Horizonte", amount_cents=200_000, due_date=DAY, boleto_line=LINE
        )
        debtor.debts.append(debt)
        s.add(debtor)
        await s.flush()
        promise = Promise(debt_id=debt.id, promised_date=DAY, amount_cents=105_000)
        s.add(promise)
        await s.flush()
        promise_id = promise.id
    async with sessions() as s:
        got = await payment_details_for_promise(s, promise_id)
    assert got is not None and got.method is PaymentMethod.BOLETO
    async with sessions() as s, s.begin():
        await set_creditor_pix(s, "Banco Horizonte", PIX)
    async with sessions() as s:
        got = await payment_details_for_promise(s, promise_id)
        part = await payment_details_for_promise(
            s, promise_id, instalment=2, amount_cents=52_500, pay_by=dt.date(2026, 10, 30)
        )
        assert await payment_details_for_promise(s, promise_id + 1000) is None
    assert got is not None and got.method is PaymentMethod.PIX_GENERATED
    assert got.txid == promise_txid(promise_id) and got.amount_cents == 105_000
    assert part is not None and part.txid == promise_txid(promise_id, 2)
    assert "5406525.00" in part.value and part.pay_by == dt.date(2026, 10, 30)


def test_details_asked_before_any_promise_say_what_is_open_not_an_agreement() -> None:
    """Seen: a caller who asked how to pay, before promising anything, got
    "pagamento combinado ... em <today>": an agreement and a date they never made."""
    made = choose_payment_details(
        FakeDebt(), PIX, amount_cents=105_000, pay_by=DAY, txid="DBT0000000042", agreed=False
    )
    assert made is not None
    text = payment_message(made, "pt-BR")
    assert text.startswith("Banco Horizonte - valor em aberto: R$ 1.050,00. Pix copia e cola:\n")
    assert "combinado" not in text and "30/09/2026" not in text
    english = payment_message(made, "en-US")
    assert "agreed" not in english and "amount due: R$1,050.00" in english


def test_opt_out_and_opt_in_confirmations_fit_one_part() -> None:
    from ivr.messaging.sms_texts import reply_text
    from ivr.vocab.messages import SmsPurpose

    for locale in ("pt-BR", "en-US"):
        for purpose in (SmsPurpose.OPT_OUT_CONFIRMATION, SmsPurpose.OPT_IN_CONFIRMATION):
            assert count_segments(reply_text(purpose, locale)).segments == 1, (locale, purpose)
