"""How many SMS segments a body costs, and in which encoding it travels.

An SMS carries 140 bytes: 160 GSM-7 septets, or 70 UCS-2 code units. A longer
text is split into concatenated parts, each losing room to the header that
glues them together (153 septets / 67 code units). A single character outside
the GSM 03.38 alphabet (Portuguese "ã", "ç", "õ", "ê" among them) sends the
*whole* message as UCS-2, which is why a pt-BR text is worth counting before
it is sent: the same words may cost two or three times as much.

The carrier (Twilio) never splits a character across two parts: an extension
character (two septets: ESC + code) or an astral character such as an emoji
(a UTF-16 surrogate pair) moves whole to the next part. Pure, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

MAX_BODY_CHARS = 1600
"""Twilio refuses a longer body (error 21617)."""

GSM7_SINGLE = 160
GSM7_MULTI = 153
UCS2_SINGLE = 70
UCS2_MULTI = 67

# GSM 03.38 basic character set (one septet each); "\x1b" (ESC) is not text.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs two septets (ESC + the character's code).
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


@dataclass(frozen=True)
class SegmentCount:
    """The encoding a body travels in, how many parts it takes, and its length in units.

    ``units`` is septets for GSM-7 and UTF-16 code units for UCS-2.
    """

    encoding: Encoding
    segments: int
    units: int


def is_gsm7(body: str) -> bool:
    """True when every character of ``body`` is in the GSM-7 alphabet (basic or extension)."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in body)


def _pack(costs: list[int], single: int, multi: int) -> int:
    """Parts needed for characters of the given unit ``costs``, never splitting one."""
    total = sum(costs)
    if total <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            parts += 1
            used = 0
        used += cost
    return parts


def count_segments(body: str) -> SegmentCount:
    """Encoding and segment count of ``body`` as the carrier will send it.

    An empty body still takes one (empty) segment.
    """
    if is_gsm7(body):
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in body]
        return SegmentCount("GSM-7", _pack(costs, GSM7_SINGLE, GSM7_MULTI), sum(costs))
    costs = [2 if ord(ch) > 0xFFFF else 1 for ch in body]
    return SegmentCount("UCS-2", _pack(costs, UCS2_SINGLE, UCS2_MULTI), sum(costs))
