"""What a row id that arrives over the network may be.

Every primary key is a 32-bit ``INTEGER`` (PostgreSQL ``int4``), so an id is
1 to 2^31 - 1 written in ASCII digits. ``str.isdigit`` alone is not enough:
it accepts ``"²"`` and other scripts' digits, which ``int()`` then refuses or
reads as a number the database cannot hold.
"""

from __future__ import annotations

MAX_ROW_ID = 2**31 - 1
_MAX_DIGITS = len(str(MAX_ROW_ID))


def parse_row_id(raw: str | None) -> int | None:
    """The id in ``raw``, or None when it is not one the database could hold."""
    if not raw or len(raw) > _MAX_DIGITS or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ROW_ID else None
