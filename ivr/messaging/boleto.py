"""The boleto's "linha digitável": check it, normalise it, show it in its groups.

A boleto is registered by the creditor's bank; the service never makes one,
it only relays the line imported with the debt. A line with a wrong digit
would send the debtor to a bank app that refuses it (or, worse, to another
slip), so every check digit is verified before the line is stored:

* the 47 digits are five groups ``AAAAA.AAAAA BBBBB.BBBBBB CCCCC.CCCCCC D
  EEEEEEEEEEEEEE``; each of the first three ends with a mod-10 check digit;
* ``D`` is the barcode's general mod-11 check digit (FEBRABAN: weights 2 to 9
  from the right over the 43 other barcode digits; 0, 10 and 11 become 1);
* the last 14 digits are the due-date factor (4) and the amount in cents (10).

Utility and tax slips ("arrecadação") start with 8 and have 48 digits: a
different layout, refused with that reason. Pure functions, no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

LINE_DIGITS = 47
# Factor 1000 fell on 2000-07-03 and again on 2025-02-22, when the four
# digits ran out at 9999 and FEBRABAN restarted them (a 9000-day cycle).
_FACTOR_BASES = (dt.date(1997, 10, 7), dt.date(2022, 5, 29))


class BoletoInvalid(ValueError):
    """Not a usable linha digitável; the message says what is wrong, in English."""


@dataclass(frozen=True)
class BoletoLine:
    digits: str  # the 47 digits of the line
    barcode: str  # the 44 digits of the barcode it stands for
    bank: str  # the issuing bank's code (3 digits)
    due_factor: int  # 0: no due date
    amount_cents: int  # 0: the amount is typed when paying

    @property
    def formatted(self) -> str:
        return format_line(self.digits)

    def due_date(self, near: dt.date) -> dt.date | None:
        """The due date the factor names, in the factor cycle closest to ``near``."""
        if self.due_factor == 0:
            return None
        days = [base + dt.timedelta(days=self.due_factor) for base in _FACTOR_BASES]
        return min(days, key=lambda d: abs((d - near).days))


def mod10(digits: str) -> int:
    """A field's check digit: weights 2, 1, 2... from the right, products' digits summed."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def mod11(digits: str) -> int:
    """The barcode's general check digit: weights 2 to 9 from the right; 0, 10, 11 give 1."""
    total = sum(int(ch) * (2 + i % 8) for i, ch in enumerate(reversed(digits)))
    check = 11 - total % 11
    return 1 if check in (0, 10, 11) else check


def barcode_of(line: str) -> str:
    """The 44-digit barcode a 47-digit line stands for."""
    return line[0:4] + line[32] + line[33:47] + line[4:9] + line[10:20] + line[21:31]


def format_line(digits: str) -> str:
    """``AAAAA.AAAAA BBBBB.BBBBBB CCCCC.CCCCCC D EEEEEEEEEEEEEE``, as slips print it."""
    d = digits
    return f"{d[0:5]}.{d[5:10]} {d[10:15]}.{d[15:21]} {d[21:26]}.{d[26:32]} {d[32]} {d[33:47]}"


def parse_line(raw: str) -> BoletoLine:
    """Check a linha digitável and read it; :class:`BoletoInvalid` says which part is wrong.

    Spaces and dots (as printed on the slip) are ignored; anything else that
    is not a digit is refused.
    """
    text = re.sub(r"[\s.]", "", raw)
    if not text:
        raise BoletoInvalid("the boleto line is empty")
    if not text.isdigit():
        raise BoletoInvalid("the boleto line may only have digits, spaces and dots")
    if text.startswith("8") and len(text) == 48:
        raise BoletoInvalid(
            "this is a utility or tax slip (arrecadação, 48 digits starting with 8), "
            "not a boleto de pagamento"
        )
    if len(text) == 44:
        raise BoletoInvalid("this looks like a barcode (44 digits), not the 47-digit typed line")
    if len(text) != LINE_DIGITS:
        raise BoletoInvalid(f"the boleto line has {len(text)} digits, not {LINE_DIGITS}")
    for n, (start, end) in enumerate(((0, 9), (10, 20), (21, 31)), start=1):
        if mod10(text[start:end]) != int(text[end]):
            raise BoletoInvalid(f"the check digit of group {n} is wrong (a digit was mistyped)")
    barcode = barcode_of(text)
    if mod11(barcode[:4] + barcode[5:]) != int(barcode[4]):
        raise BoletoInvalid("the general check digit (group 4) is wrong")
    return BoletoLine(
        digits=text,
        barcode=barcode,
        bank=text[0:3],
        due_factor=int(text[33:37]),
        amount_cents=int(text[37:47]),
    )
