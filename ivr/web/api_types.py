"""Field types every API input shares: ids, instants and dates within sane bounds.

Over the network an id is ASCII digits in the range of the database's
integer columns, never ``²`` (which Python's ``int()`` reads as 2 only to
fail later) nor 2^31 (which PostgreSQL refuses with a server error). An
instant or a date outside 2000..2100 is a typo or an attack, never a
question the service can answer: the time-zone arithmetic behind windows
and reports overflows near years 1 and 9999.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from ivr.store.ids import MAX_ROW_ID

MIN_DAY = dt.date(2000, 1, 1)
MAX_DAY = dt.date(2100, 1, 1)
_FIRST = dt.datetime.combine(MIN_DAY, dt.time())
_LAST = dt.datetime.combine(MAX_DAY, dt.time())
_ASCII_ID = re.compile(r"[0-9]{1,10}")


def _strict_int(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    if isinstance(value, str):
        if not _ASCII_ID.fullmatch(value):
            raise ValueError(f"must be a whole number in ASCII digits, 1..{MAX_ROW_ID}")
        return int(value)
    return value


def _sane_instant(value: dt.datetime) -> dt.datetime:
    wall = value.replace(tzinfo=None)
    if not _FIRST <= wall < _LAST:
        raise ValueError(f"must be between {MIN_DAY.year} and {MAX_DAY.year}")
    return value


def _sane_day(value: dt.date) -> dt.date:
    if not MIN_DAY <= value < MAX_DAY:
        raise ValueError(f"must be between {MIN_DAY.year} and {MAX_DAY.year}")
    return value


DbId = Annotated[int, BeforeValidator(_strict_int), Field(ge=1, le=MAX_ROW_ID)]
"""A row id: ASCII digits (or a JSON integer), 1..2^31-1."""

Instant = Annotated[dt.datetime, AfterValidator(_sane_instant)]
"""An ISO 8601 instant between 2000 and 2100."""

Day = Annotated[dt.date, AfterValidator(_sane_day)]
"""An ISO 8601 date between 2000 and 2100."""
