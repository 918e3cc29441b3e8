"""The legal and default calling hours per country, as plain data.

The hours of compliance.md live here, not in ``scheduler.legal`` (which
applies them), so the store can seed a new campaign with its country's
default windows without importing the scheduler: the scheduler depends on
the store, never the other way round.
"""

from __future__ import annotations

import datetime as dt

_EIGHT = dt.time(8)

# One allowed local range [start, end) on one weekday (0 = Monday).
Hours = tuple[int, dt.time, dt.time]

# weekday (0 = Monday) -> allowed local range [start, end). A missing day
# means no calls at all that day. Sources: compliance.md (BR: SP Lei
# 17.832/2023, CDC art. 42/71; US: Reg F 12 CFR 1006.6(b)(1)(i)).
LEGAL_HOURS: dict[str, dict[int, tuple[dt.time, dt.time]]] = {
    "BR": {
        **{d: (_EIGHT, dt.time(20)) for d in range(5)},
        5: (_EIGHT, dt.time(14)),
    },
    "US": {d: (_EIGHT, dt.time(21)) for d in range(7)},
}
# A country with no entry gets the strictest known hours.
FALLBACK_COUNTRY = "BR"

# The hours shipped when a campaign sets none: today the legal limits
# themselves (a stricter default would go here, per country).
DEFAULT_HOURS = LEGAL_HOURS


def hours_of(table: dict[str, dict[int, tuple[dt.time, dt.time]]], country: str) -> list[Hours]:
    """One country's ranges from ``table`` in weekday order (unknown: the fallback's)."""
    days = table.get(country.upper()) or table[FALLBACK_COUNTRY]
    return [(d, start, end) for d, (start, end) in sorted(days.items())]


def default_hours(country: str) -> list[Hours]:
    """The ranges a new campaign of ``country`` gets when it sets none.

    Brazil: Mon-Fri 08:00-20:00, Sat 08:00-14:00, never Sunday. USA: every day
    08:00-21:00 (Reg F). Holidays are excluded separately for both.
    """
    return hours_of(DEFAULT_HOURS, country)
