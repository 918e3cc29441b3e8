"""A debt's payment details as they arrive (import columns, API fields), checked.

Three optional ways to pay, given by the creditor with the debt:

* ``payment_url`` -- the creditor's payment page: https only, a real host, no
  credentials in it, at most 500 characters;
* ``pix_code`` -- a Pix "copia e cola": its CRC must match and its fields must
  be a Pix payment (ivr.messaging.pix.parse_code);
* ``boleto_line`` -- the boleto's 47-digit line with valid check digits
  (ivr.messaging.boleto.parse_line), stored as its digits.

A bad value refuses the row (or the request) with the column's name and the
reason: a code the debtor's bank refuses is worse than none. A column the file
does not have leaves what the debt already has; an empty cell clears it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from ivr.messaging.boleto import BoletoInvalid, parse_line
from ivr.messaging.pix import PixInvalid, parse_code
from ivr.store.import_report import RowRejected
from ivr.store.models.creditors import PAYMENT_URL_MAX, PIX_CODE_MAX
from ivr.vocab.row_errors import RowErrorCode

PAYMENT_COLUMNS: tuple[str, ...] = ("payment_url", "pix_code", "boleto_line")
_UNSAFE_URL = re.compile(r"[\s\x00-\x1f\x7f<>\"'`\\]")
# The row error each column's bad value is reported with (the detail stays in the reason).
CODES = {
    "payment_url": RowErrorCode.PAYMENT_URL_INVALID,
    "pix_code": RowErrorCode.PIX_CODE_INVALID,
    "boleto_line": RowErrorCode.BOLETO_LINE_INVALID,
}


class PaymentDetailInvalid(RowRejected):
    """A payment detail that cannot be relayed; ``column`` names it."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(
            f"{column}: {reason}", CODES.get(column, RowErrorCode.OTHER), {"column": column}
        )
        self.column = column
        self.reason = reason


def check_payment_url(raw: str) -> str:
    """An https address of a named host, as given; ValueError says why not."""
    url = raw.strip()
    if len(url) > PAYMENT_URL_MAX:
        raise ValueError(f"is longer than {PAYMENT_URL_MAX} characters")
    if _UNSAFE_URL.search(url):
        raise ValueError("has spaces, quotes or control characters")
    parts = urlsplit(url)
    if parts.scheme.lower() != "https":
        raise ValueError("must be an https:// address")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry a user name or password")
    host = parts.hostname or ""
    if "." not in host or not re.fullmatch(r"[a-z0-9.\-]+", host):
        raise ValueError("must name a host such as pagar.example.com.br")
    return url


def check_pix_code(raw: str) -> str:
    """The code with its CRC checked and its fields read; ValueError says why not."""
    if len(raw.strip()) > PIX_CODE_MAX:
        raise ValueError(f"is longer than {PIX_CODE_MAX} characters")
    try:
        return parse_code(raw).code
    except PixInvalid as exc:
        raise ValueError(str(exc)) from None


def check_boleto_line(raw: str) -> str:
    """The line's 47 digits once its check digits hold; ValueError says why not."""
    try:
        return parse_line(raw).digits
    except BoletoInvalid as exc:
        raise ValueError(str(exc)) from None


CHECKS = {
    "payment_url": check_payment_url,
    "pix_code": check_pix_code,
    "boleto_line": check_boleto_line,
}


def check_payment_detail(column: str, raw: str | None) -> str | None:
    """One detail checked and normalised (None or blank: none)."""
    if raw is None or not raw.strip():
        return None
    try:
        return CHECKS[column](raw)
    except ValueError as exc:
        raise PaymentDetailInvalid(column, str(exc)) from None


def payment_columns(row: Mapping[str, str | None]) -> dict[str, str | None]:
    """The payment columns the row has (blank ones as None), each checked.

    Raises :class:`PaymentDetailInvalid` for the first bad one.
    """
    return {
        column: check_payment_detail(column, row[column])
        for column in PAYMENT_COLUMNS
        if column in row
    }
