"""What a campaign may do with the legal calling hours of each country.

The hours of compliance.md are data in ``ivr.calling_hours``. A campaign's own
windows (even ones saved with ``allow_outside_defaults``) are clipped to
these hours by :func:`effective_windows`, so no setting can reach past the
law. Holidays are excluded separately (always, for every country: see
``scheduler.windows.closed_reasons``).

Which country's rules bind a debtor: the country on their record (set from
the locale at import) *and* the country of every number we may dial (its
E.164 country code). A campaign's own windows apply only when all of those
are the campaign's country; any other country contributes its own default
hours, and the debtor gets the hours allowed by every country at once.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from typing import Any

from ivr.calling_hours import FALLBACK_COUNTRY, LEGAL_HOURS, hours_of
from ivr.number_facts import country_from_column, number_country
from scheduler.windows import MIDNIGHT, Window, default_windows


def legal_windows(country: str) -> tuple[Window, ...]:
    return tuple(Window(*h) for h in hours_of(LEGAL_HOURS, country))


def _end(t: dt.time) -> dt.timedelta:
    """A window end as time since midnight (00:00 means the end of the day)."""
    if t == MIDNIGHT:
        return dt.timedelta(days=1)
    return dt.timedelta(hours=t.hour, minutes=t.minute, seconds=t.second)


def _start(t: dt.time) -> dt.timedelta:
    return dt.timedelta(hours=t.hour, minutes=t.minute, seconds=t.second)


def _as_time(delta: dt.timedelta) -> dt.time:
    if delta >= dt.timedelta(days=1):
        return MIDNIGHT
    seconds = int(delta.total_seconds())
    return dt.time(seconds // 3600, seconds % 3600 // 60, seconds % 60)


def intersect(a: Sequence[Window], b: Sequence[Window]) -> tuple[Window, ...]:
    """The local ranges inside both window lists (per weekday)."""
    out: list[Window] = []
    for x in a:
        for y in b:
            if x.weekday != y.weekday:
                continue
            lo = max(_start(x.start), _start(y.start))
            hi = min(_end(x.end), _end(y.end))
            if lo < hi:
                out.append(Window(x.weekday, _as_time(lo), _as_time(hi)))
    return tuple(sorted(set(out), key=lambda w: (w.weekday, w.start)))


def debtor_countries(record_country: str, numbers: Iterable[str]) -> tuple[str, ...]:
    """Every country whose rules bind this debtor: the record's first, then the numbers'."""
    return _countries(record_country, (number_country(n) for n in numbers))


def phone_countries(record_country: str, phones: Iterable[Any]) -> tuple[str, ...]:
    """:func:`debtor_countries` for phone rows, reading each number's stored
    country (``ivr.number_facts``) instead of parsing it again."""
    return _countries(
        record_country,
        [country_from_column(getattr(p, "number_country", None), p.e164) for p in phones],
    )


def _countries(record_country: str, of_numbers: Iterable[str | None]) -> tuple[str, ...]:
    found = [record_country.upper()]
    for c in of_numbers:
        if c is not None and c not in found:
            found.append(c)
    return tuple(found)


@functools.lru_cache(maxsize=1024)
def effective_windows(
    campaign_windows: tuple[Window, ...],
    campaign_country: str | None,
    countries: tuple[str, ...],
) -> tuple[Window, ...]:
    """The windows a debtor of ``countries`` may be called in under this campaign.

    For each country: the campaign's windows if it is the campaign's country
    (and the campaign sets any), else that country's defaults; always
    clipped to that country's legal hours. The result holds for all of them.
    """
    result: tuple[Window, ...] | None = None
    for country in countries or (FALLBACK_COUNTRY,):
        own = (
            campaign_windows
            if campaign_windows and campaign_country and country == campaign_country.upper()
            else tuple(default_windows(country))
        )
        allowed = intersect(own, legal_windows(country))
        result = allowed if result is None else intersect(result, allowed)
    return result or ()
