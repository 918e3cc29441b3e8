"""Where a debtor may be: the time zones a call must respect, and the numbers we may dial.

The record's zone, else every zone of every dialable number, else every zone
of the country (see :func:`candidate_zones`); ``scheduler.windows`` then asks
its calendar questions in each of them. Kept apart from the calendar: this
is about the person and their numbers (``phonenumbers``), that about
instants, windows and holidays; calls/ and jobs date a person's day by
:func:`primary_zone` without the rest of the scheduler.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from ivr.number_facts import valid_zone, zones_for_number, zones_from_column

# Used only when neither the debtor record nor the number gives a zone: every
# zone the country spans, so the window must hold in all of them.
COUNTRY_ZONES: dict[str, tuple[str, ...]] = {
    "BR": (
        "America/Noronha",
        "America/Sao_Paulo",
        "America/Manaus",
        "America/Rio_Branco",
    ),
    "US": (
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Phoenix",
        "America/Los_Angeles",
        "America/Anchorage",
        "Pacific/Honolulu",
    ),
}

# The zone whose calendar says what "today" is for a whole campaign (the
# wallboard's counts): the country's most populous zone.
REFERENCE_ZONES: dict[str, str] = {"BR": "America/Sao_Paulo", "US": "America/New_York"}


def reference_zone(country: str) -> str:
    """The zone that dates a campaign's day as a whole (a person's own day is
    :func:`primary_zone`'s)."""
    code = country.upper()
    return REFERENCE_ZONES.get(code) or COUNTRY_ZONES.get(code, ("America/Sao_Paulo",))[0]


def candidate_zones(timezone: str | None, numbers: Iterable[str], country: str) -> tuple[str, ...]:
    """The zones a call must respect: the record's zone, else the numbers', else the country's.

    With no zone on the record the person may be in any zone of any of their
    numbers, so all of them count.
    """
    if timezone and valid_zone(timezone):
        return (timezone,)
    return _union_or_country([zones_for_number(n) for n in numbers], country)


def _union_or_country(per_number: Iterable[tuple[str, ...]], country: str) -> tuple[str, ...]:
    found: set[str] = set()
    for zones in per_number:
        found.update(zones)
    if found:
        return tuple(sorted(found))
    return COUNTRY_ZONES.get(country.upper(), ("America/Sao_Paulo",))


def phone_zones(phone: PhoneLike) -> tuple[str, ...]:
    """A phone's zones: stored on the row when it was written, else parsed now."""
    return zones_from_column(getattr(phone, "number_zones", None), phone.e164)


class PhoneLike(Protocol):
    """What zone resolution reads of a phone (an ORM row or a snapshot row)."""

    @property
    def e164(self) -> str: ...

    @property
    def wrong_number_at(self) -> dt.datetime | None: ...


_E164 = re.compile(r"\+[1-9]\d{7,14}")


def possible_number(e164: str) -> bool:
    """Dialable E.164 (the importer validated the number; this guards hand edits)."""
    return _E164.fullmatch(e164) is not None


_P = TypeVar("_P", bound=PhoneLike)


def dialable(phones: Iterable[_P]) -> list[_P]:
    """The numbers we may dial: not marked wrong, and well formed."""
    return [p for p in phones if p.wrong_number_at is None and possible_number(p.e164)]


def debtor_zones(
    timezone: str | None, phones: Sequence[PhoneLike], country: str
) -> tuple[str, ...]:
    """The one time-zone resolution for a debtor, used by scheduler, calls and callbacks.

    The record's zone, else every zone of every dialable number (all numbers
    if none is dialable), else every zone of the country: see
    :func:`candidate_zones` (here the numbers' zones come from their rows when
    stored, see ``ivr.number_facts``). The first zone dates the debtor's calendar.
    """
    if timezone and valid_zone(timezone):
        return (timezone,)
    chosen = dialable(phones) or list(phones)
    return _union_or_country([phone_zones(p) for p in chosen], country)


def primary_zone(timezone: str | None, phones: Sequence[PhoneLike], country: str) -> str:
    """The zone whose calendar dates attempts and promises (first candidate zone)."""
    return debtor_zones(timezone, phones, country)[0]
