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
import functools
import re
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as pn_timezone

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


@functools.lru_cache(maxsize=4096)
def valid_zone(name: str | None) -> bool:
    """An IANA zone name this machine's zone database knows."""
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@functools.lru_cache(maxsize=65536)
def zones_for_number(e164: str) -> tuple[str, ...]:
    """Candidate zones for a number (several when its area code spans zones)."""
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return ()
    return tuple(sorted(z for z in pn_timezone.time_zones_for_number(parsed) if valid_zone(z)))


def candidate_zones(timezone: str | None, numbers: Iterable[str], country: str) -> tuple[str, ...]:
    """The zones a call must respect: the record's zone, else the numbers', else the country's.

    With no zone on the record the person may be in any zone of any of their
    numbers, so all of them count.
    """
    if timezone and valid_zone(timezone):
        return (timezone,)
    found: set[str] = set()
    for n in numbers:
        found.update(zones_for_number(n))
    if found:
        return tuple(sorted(found))
    return COUNTRY_ZONES.get(country.upper(), ("America/Sao_Paulo",))


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
    :func:`candidate_zones`. The first zone dates the debtor's calendar.
    """
    numbers = [p.e164 for p in dialable(phones)] or [p.e164 for p in phones]
    return candidate_zones(timezone, numbers, country)


def primary_zone(timezone: str | None, phones: Sequence[PhoneLike], country: str) -> str:
    """The zone whose calendar dates attempts and promises (first candidate zone)."""
    return debtor_zones(timezone, phones, country)[0]
