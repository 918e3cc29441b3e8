"""Amounts of money as people and spreadsheets write them, read one way for every file.

Debtor portfolios (``ivr.store.importer``) and payment files
(``scheduler.payments``) both carry amounts such as "1.234,56" or
"$1,234.56"; one parser means an amount reads the same in both, and the
scheduler takes it from the store instead of from the debtor importer.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ivr.store.import_report import RowRejected
from ivr.vocab.row_errors import RowErrorCode

# Larger than any debt we would ever be handed: a typo, not an amount.
MAX_CENTS = 10**13
_NOT_DIGITS = re.compile(r"(?i)r\$|us\$|\$|brl|usd|\s")  # currency marks and spaces
_AMOUNT = re.compile(r"[0-9.,]+")
_SEPARATORS = re.compile(r"[.,]")
_PLAIN = re.compile(r"([0-9]+)(?:[.,]([0-9]{1,2}))?")  # "150", "10.5", "10,50": most files


class AmountInvalid(RowRejected):
    """The text is not a positive amount; the message quotes it and says why."""


def parse_amount(raw: str) -> int:
    """'1234.56', '1.234,56', 'R$ 1.234,56', '$1,234.56', '150' -> cents.

    The last separator followed by one or two digits is the decimal mark,
    whichever it is; every other '.' or ',' groups thousands.
    """
    if plain := _PLAIN.fullmatch(raw):  # what the rules below make of it, without Decimal
        cents = int(plain[1]) * 100 + int((plain[2] or "0").ljust(2, "0"))
    else:
        cents = _cents(raw)
    if cents <= 0:
        raise AmountInvalid(
            f"amount {raw!r} must be greater than zero",
            RowErrorCode.AMOUNT_NOT_POSITIVE,
            {"value": raw},
        )
    if cents > MAX_CENTS:
        raise AmountInvalid(
            f"amount {raw!r} is implausibly large", RowErrorCode.AMOUNT_TOO_LARGE, {"value": raw}
        )
    return cents


def _cents(raw: str) -> int:
    text = _NOT_DIGITS.sub("", raw)
    if not text or not _AMOUNT.fullmatch(text):
        raise AmountInvalid(f"amount {raw!r} is not a number", *_bad(raw))
    last_dot, last_comma = text.rfind("."), text.rfind(",")
    decimal_at = max(last_dot, last_comma)
    if decimal_at >= 0 and len(text) - decimal_at - 1 in (1, 2):
        whole = _SEPARATORS.sub("", text[:decimal_at])
        number = f"{whole or '0'}.{text[decimal_at + 1 :]}"
    else:
        number = _SEPARATORS.sub("", text)
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise AmountInvalid(f"amount {raw!r} is not a number", *_bad(raw)) from None
    return int((value * 100).to_integral_value())


def _bad(raw: str) -> tuple[RowErrorCode, dict[str, str]]:
    return RowErrorCode.AMOUNT_INVALID, {"value": raw}
