"""Pix "copia e cola" (BR Code): build a static code, and read one back.

A static code needs no payment provider: the creditor's Pix key and the exact
amount are enough, and the txid (field 62/05) lets reconciliation match the
payment to the promise it pays. Codes imported with a debt (static or dynamic,
made by the creditor's bank) are only read: checked by their CRC first, then
walked field by field, so a code damaged by a spreadsheet is refused at import
instead of reaching the debtor.

Layout (Banco Central, "Manual de Padrões para Iniciação do Pix", on EMV MPM):
TLV fields, each a two-digit id, a two-digit length and the value, in the
order 00, 01, 26, 52, 53, 54, 58, 59, 60, 62, 63; 63 is a CRC-16/CCITT-FALSE
over everything before its value, "6304" included. Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass

from ivr.vocab.payments import PixKeyKind

GUI = "br.gov.bcb.pix"
MAX_CODE = 512  # the longest code a reader must accept
MAX_NAME = 25
MAX_CITY = 15
MAX_TXID = 25
MAX_AMOUNT_CHARS = 13
NO_TXID = "***"
# Characters a BR Code may carry in its free-text fields.
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9$%*+\-./: ]")
_EMAIL = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9\-]+)+")
_AMOUNT = re.compile(r"\d{1,10}(?:\.\d{1,2})?")
_TXID = re.compile(r"[A-Za-z0-9]{1,25}")


class PixInvalid(ValueError):
    """Not a usable Pix key or code; the message says what is wrong, in English."""


@dataclass(frozen=True)
class PixCode:
    """What a reader finds in a code: enough to check it before relaying it."""

    code: str
    key: str | None  # static codes: the Pix key (field 26/01)
    url: str | None  # dynamic codes: the provider's location (field 26/25)
    amount_cents: int | None  # None: the payer types the amount
    txid: str | None  # None when the code says "***"
    merchant_name: str
    merchant_city: str
    info: str | None
    single_use: bool


def crc16(data: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) as four upper-case hex digits."""
    crc = 0xFFFF
    for byte in data.encode("ascii"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _tlv(field: str, value: str) -> str:
    if len(value) > 99:
        raise PixInvalid(f"field {field} is longer than 99 characters")
    return f"{field}{len(value):02d}{value}"


def clean_text(text: str, limit: int) -> str:
    """``text`` in the BR Code's characters: accents stripped, the rest dropped, cut to ``limit``.

    "São João" becomes "Sao Joao"; characters with no plain form ("&", "ª")
    are dropped rather than refused, since a name must still be shown.
    """
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    plain = _NOT_ALLOWED.sub("", plain)
    return " ".join(plain.split())[:limit].strip()


def _cpf_ok(digits: str) -> bool:
    if len(set(digits)) == 1:
        return False
    for n in (9, 10):
        total = sum(int(d) * w for d, w in zip(digits[:n], range(n + 1, 1, -1), strict=True))
        if (total * 10 % 11) % 10 != int(digits[n]):
            return False
    return True


def _cnpj_ok(digits: str) -> bool:
    if len(set(digits)) == 1:
        return False
    weights = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    for n in (12, 13):
        total = sum(int(d) * w for d, w in zip(digits[:n], weights[13 - n :], strict=True))
        check = 11 - total % 11
        if (0 if check >= 10 else check) != int(digits[n]):
            return False
    return True


def normalise_pix_key(raw: str) -> tuple[PixKeyKind, str]:
    """The key's kind and its canonical form, or :class:`PixInvalid` saying why not.

    A phone key must start with +55 (eleven bare digits are a CPF, as banks
    read them); CPF and CNPJ may be written with dots, dashes and a slash and
    must have valid check digits; a random key is a UUID, kept lower case
    with its dashes as banks show it.
    """
    text = raw.strip()
    if not text:
        raise PixInvalid("the Pix key is empty")
    if "@" in text:
        email = text.lower()
        if len(email) > 77 or not _EMAIL.fullmatch(email):
            raise PixInvalid("the Pix key is not a valid e-mail address")
        return PixKeyKind.EMAIL, email
    if text.startswith("+"):
        phone = re.sub(r"[\s().\-]", "", text)
        if not re.fullmatch(r"\+55\d{10,11}", phone):
            raise PixInvalid("a phone Pix key is +55, the area code and the number")
        return PixKeyKind.PHONE, phone
    if re.fullmatch(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", text):
        return PixKeyKind.RANDOM, str(uuid.UUID(text))
    digits = re.sub(r"[.\-/\s]", "", text)
    if digits.isdigit() and len(digits) == 11:
        if not _cpf_ok(digits):
            raise PixInvalid("the Pix key is not a valid CPF (check digits)")
        return PixKeyKind.CPF, digits
    if digits.isdigit() and len(digits) == 14:
        if not _cnpj_ok(digits):
            raise PixInvalid("the Pix key is not a valid CNPJ (check digits)")
        return PixKeyKind.CNPJ, digits
    raise PixInvalid("the Pix key is not an e-mail, a +55 phone, a CPF, a CNPJ or a random key")


def _amount(cents: int) -> str:
    if cents <= 0:
        raise PixInvalid("the amount must be positive")
    text = f"{cents // 100}.{cents % 100:02d}"
    if len(text) > MAX_AMOUNT_CHARS:
        raise PixInvalid("the amount is too large for a Pix code")
    return text


def build_static_code(
    *,
    key: str,
    name: str,
    city: str,
    amount_cents: int | None,
    txid: str | None = None,
    info: str | None = None,
) -> str:
    """A static "copia e cola" paying ``amount_cents`` to ``key``.

    With an amount the code is marked single use (01 = "12"): it pays one
    promise. ``name`` and ``city`` lose their accents and are cut to 25 and 15
    characters; ``info`` (shown to the payer) is shortened so field 26 stays
    within 99 characters. ``txid`` must be 1-25 letters and digits (None: "***").
    """
    _, canonical = normalise_pix_key(key)
    merchant = clean_text(name, MAX_NAME)
    place = clean_text(city, MAX_CITY)
    if not merchant:
        raise PixInvalid("the merchant name has no usable characters")
    if not place:
        raise PixInvalid("the merchant city has no usable characters")
    if txid is not None and not _TXID.fullmatch(txid):
        raise PixInvalid("the txid must be 1 to 25 letters and digits")
    account = _tlv("00", GUI) + _tlv("01", canonical)
    note = clean_text(info or "", 99)
    room = 99 - len(account) - 4
    if note and room > 0:
        account += _tlv("02", note[:room].strip())
    parts = [_tlv("00", "01")]
    if amount_cents is not None:
        parts.append(_tlv("01", "12"))
    parts += [_tlv("26", account), _tlv("52", "0000"), _tlv("53", "986")]
    if amount_cents is not None:
        parts.append(_tlv("54", _amount(amount_cents)))
    parts += [_tlv("58", "BR"), _tlv("59", merchant), _tlv("60", place)]
    parts.append(_tlv("62", _tlv("05", txid or NO_TXID)))
    payload = "".join(parts) + "6304"
    return payload + crc16(payload)


def _fields(text: str, where: str) -> dict[str, str]:
    """One TLV level: id -> value; refuses overruns, bad lengths and repeated ids."""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        head = text[pos : pos + 4]
        if len(head) < 4 or not head.isdigit():
            raise PixInvalid(f"{where}: a field header at position {pos} is not 4 digits")
        field, size = head[:2], int(head[2:])
        value = text[pos + 4 : pos + 4 + size]
        if len(value) != size:
            raise PixInvalid(f"{where}: field {field} runs past the end of the code")
        if field in out:
            raise PixInvalid(f"{where}: field {field} appears twice")
        out[field] = value
        pos += 4 + size
    return out


def parse_code(raw: str) -> PixCode:
    """Read and check a "copia e cola": CRC first, then structure and required fields.

    Accepts static codes (a key in 26/01) and dynamic ones (a location in
    26/25) from any bank; raises :class:`PixInvalid` naming the first problem.
    """
    code = raw.strip()
    if not code:
        raise PixInvalid("the Pix code is empty")
    if len(code) > MAX_CODE:
        raise PixInvalid(f"the Pix code is longer than {MAX_CODE} characters")
    if not code.isascii() or not code.isprintable():
        raise PixInvalid("the Pix code has characters a BR Code cannot carry")
    if len(code) < 8 or code[-8:-4] != "6304":
        raise PixInvalid("the Pix code does not end with its CRC (field 63)")
    if crc16(code[:-4]) != code[-4:].upper():
        raise PixInvalid("the Pix code's CRC does not match: it was altered or cut")
    top = _fields(code, "Pix code")
    if next(iter(top)) != "00" or top["00"] != "01":
        raise PixInvalid("the Pix code does not begin with payload format 01")
    if list(top)[-1] != "63":
        raise PixInvalid("the Pix code's CRC is not its last field")
    single = top.get("01")
    if single not in (None, "11", "12"):
        raise PixInvalid("field 01 (initiation method) must be 11 or 12")
    account = None
    for field in (f"{n:02d}" for n in range(26, 52)):
        if field in top:
            sub = _fields(top[field], f"field {field}")
            if sub.get("00", "").lower() == GUI:
                account = sub
                break
    if account is None:
        raise PixInvalid("the Pix code has no Pix account (br.gov.bcb.pix in fields 26-51)")
    key, url = account.get("01"), account.get("25")
    if key is None and url is None:
        raise PixInvalid("the Pix code has neither a key (01) nor a location (25)")
    if key is not None:
        normalise_pix_key(key)
    for field, expected in (("52", None), ("53", "986"), ("58", "BR")):
        if field not in top:
            raise PixInvalid(f"the Pix code lacks field {field}")
        if expected is not None and top[field] != expected:
            raise PixInvalid(f"field {field} must be {expected}")
    for field, limit in (("59", MAX_NAME), ("60", MAX_CITY)):
        if not top.get(field):
            raise PixInvalid(f"the Pix code lacks field {field}")
        if len(top[field]) > limit:
            raise PixInvalid(f"field {field} is longer than {limit} characters")
    cents = None
    if "54" in top:
        if not _AMOUNT.fullmatch(top["54"]):
            raise PixInvalid("field 54 (amount) is not a decimal with a dot")
        whole, _, frac = top["54"].partition(".")
        cents = int(whole) * 100 + int((frac + "00")[:2])
    if "62" not in top:
        raise PixInvalid("the Pix code lacks field 62 (additional data)")
    label = _fields(top["62"], "field 62").get("05")
    if label is None:
        raise PixInvalid("field 62 lacks the reference label (05)")
    return PixCode(
        code=code[:-4] + code[-4:].upper(),
        key=key,
        url=url,
        amount_cents=cents,
        txid=None if label == NO_TXID else label,
        merchant_name=top["59"],
        merchant_city=top["60"],
        info=account.get("02"),
        single_use=single == "12",
    )
