"""Pix "copia e cola": the CRC, a published code, and build-then-read with a reader of our own."""

from __future__ import annotations

import binascii

import pytest

from ivr.messaging.pix import (
    PixInvalid,
    build_static_code,
    clean_text,
    crc16,
    normalise_pix_key,
    parse_code,
)
from ivr.vocab.payments import PixKeyKind

# The static BR Code example of the Banco Central's "Manual de Padrões para
# Iniciação do Pix" (random key, no amount, no txid); reused as a test vector
# by many public Pix libraries, with CRC 1D3D.
BCB_EXAMPLE = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)


def _walk(text: str) -> dict[str, str]:
    """An independent TLV reader written from the spec: id(2) length(2) value."""
    out: dict[str, str] = {}
    i = 0
    while i < len(text):
        tag, size = text[i : i + 2], int(text[i + 2 : i + 4])
        out[tag] = text[i + 4 : i + 4 + size]
        i += 4 + size
    assert i == len(text)
    return out


def _decode(code: str) -> dict[str, str]:
    # CRC-16/CCITT-FALSE is binascii.crc_hqx with initial value 0xFFFF.
    body, crc = code[:-4], code[-4:]
    assert f"{binascii.crc_hqx(body.encode(), 0xFFFF):04X}" == crc
    top = _walk(code)
    account = _walk(top["26"])
    extra = _walk(top["62"])
    return {
        "gui": account["00"],
        "key": account["01"],
        "amount": top.get("54", ""),
        "txid": extra["05"],
        "name": top["59"],
        "city": top["60"],
        "method": top.get("01", ""),
        "crc": top["63"],
    }


def test_crc_check_value() -> None:
    assert crc16("123456789") == "29B1"


def test_the_banco_central_example() -> None:
    assert crc16(BCB_EXAMPLE[:-4]) == "1D3D"
    code = parse_code(BCB_EXAMPLE)
    assert code.key == "123e4567-e12b-12d1-a456-426655440000"
    assert code.amount_cents is None and code.txid is None
    assert (code.merchant_name, code.merchant_city) == ("Fulano de Tal", "BRASILIA")
    rebuilt = build_static_code(
        key="123e4567-e12b-12d1-a456-426655440000",
        name="Fulano de Tal",
        city="BRASILIA",
        amount_cents=None,
    )
    assert rebuilt == BCB_EXAMPLE


def test_build_then_read_with_an_independent_decoder() -> None:
    code = build_static_code(
        key="cobranca@credora.com.br",
        name="Crédito São João Financeira S/A",
        city="São José dos Campos",
        amount_cents=105_000,
        txid="PRM00000042",
        info="Acordo 42",
    )
    seen = _decode(code)
    assert seen["gui"] == "br.gov.bcb.pix"
    assert seen["key"] == "cobranca@credora.com.br"
    assert seen["amount"] == "1050.00"
    assert seen["txid"] == "PRM00000042"
    assert seen["method"] == "12"
    assert seen["name"] == "Credito Sao Joao Financeira"[:25]
    assert seen["city"] == "Sao Jose dos Ca"
    assert code.startswith("000201") and code.isascii()
    parsed = parse_code(code)
    assert (parsed.amount_cents, parsed.txid, parsed.key) == (105_000, "PRM00000042", seen["key"])


@pytest.mark.parametrize("cents,text", [(1, "0.01"), (990, "9.90"), (123_456_789, "1234567.89")])
def test_amounts_have_a_dot_and_two_decimals(cents: int, text: str) -> None:
    code = build_static_code(key="+5511987654321", name="A", city="B", amount_cents=cents)
    assert _decode(code)["amount"] == text


def test_long_info_keeps_the_account_within_99() -> None:
    code = build_static_code(
        key="7d9f0335-8dcc-4054-9bf9-0dbd61d36906",
        name="Loja",
        city="Recife",
        amount_cents=500,
        info="x" * 200,
    )
    account = _walk(_walk(code)["26"])
    assert len(_walk(code)["26"]) <= 99 and account["02"].startswith("xxx")


def test_text_is_cleaned_to_the_allowed_characters() -> None:
    assert clean_text("Açaí & Cia. Ltda — Niterói", 25) == "Acai Cia. Ltda Niteroi"


@pytest.mark.parametrize(
    "raw,kind,canonical",
    [
        (" Ana@Exemplo.com.br ", PixKeyKind.EMAIL, "ana@exemplo.com.br"),
        ("+55 (11) 98765-4321", PixKeyKind.PHONE, "+5511987654321"),
        ("123.456.789-09", PixKeyKind.CPF, "12345678909"),
        ("11.222.333/0001-81", PixKeyKind.CNPJ, "11222333000181"),
        (
            "7D9F0335-8DCC-4054-9BF9-0DBD61D36906",
            PixKeyKind.RANDOM,
            "7d9f0335-8dcc-4054-9bf9-0dbd61d36906",
        ),
    ],
)
def test_keys_are_normalised(raw: str, kind: PixKeyKind, canonical: str) -> None:
    assert normalise_pix_key(raw) == (kind, canonical)


@pytest.mark.parametrize(
    "raw",
    ["", "ana@", "+1 202 555 0100", "123.456.789-00", "11111111111", "11.222.333/0001-80", "abc"],
)
def test_bad_keys_are_refused(raw: str) -> None:
    with pytest.raises(PixInvalid):
        normalise_pix_key(raw)


def test_bad_txid_is_refused() -> None:
    with pytest.raises(PixInvalid, match="txid"):
        build_static_code(key="+5511987654321", name="A", city="B", amount_cents=1, txid="PRM-1")


@pytest.mark.parametrize(
    "code,reason",
    [
        (BCB_EXAMPLE[:-1] + "E", "CRC"),
        (BCB_EXAMPLE.replace("Fulano", "Fulana"), "CRC"),
        (BCB_EXAMPLE[:60], "CRC"),
        ("", "empty"),
        ("Pix: " + BCB_EXAMPLE, "CRC"),
    ],
)
def test_damaged_codes_are_refused(code: str, reason: str) -> None:
    with pytest.raises(PixInvalid, match=reason):
        parse_code(code)


def _resign(body: str) -> str:
    body += "6304"
    return body + f"{binascii.crc_hqx(body.encode(), 0xFFFF):04X}"


def test_structure_is_checked_after_the_crc() -> None:
    no_city = BCB_EXAMPLE[:-8].replace("6008BRASILIA", "")
    with pytest.raises(PixInvalid, match="field 60"):
        parse_code(_resign(no_city))
    overrun = BCB_EXAMPLE[:-8].replace("5913Fulano de Tal", "5999Fulano de Tal")
    with pytest.raises(PixInvalid):
        parse_code(_resign(overrun))
    dollars = BCB_EXAMPLE[:-8].replace("5303986", "5303840")
    with pytest.raises(PixInvalid, match="53"):
        parse_code(_resign(dollars))
    other_gui = BCB_EXAMPLE[:-8].replace("br.gov.bcb.pix", "br.gov.bcb.pax")
    with pytest.raises(PixInvalid, match="Pix account"):
        parse_code(_resign(other_gui))


def test_a_dynamic_code_is_read() -> None:
    url = "pix.example.com/qr/v2/9d36b84fc70b478fb95c12729b90ca25"
    account = f"0014br.gov.bcb.pix25{len(url):02d}{url}"
    body = (
        f"00020101021226{len(account):02d}{account}52040000530398654045.005802BR"
        "5913Fulano de Tal6008BRASILIA62070503***"
    )
    code = parse_code(_resign(body))
    assert code.url == url and code.key is None and code.amount_cents == 500
